"""Fit time of named factors with the rate warp (``rate_factor="heart_rate"``) against the same model without factors.

Issue 35's cost target: a fit with named factors within 1.3x of the same fit without them. Three
fits on the same rows, alternating, best of ``--rounds``, one torch thread (the estimator's default):

- ``plain``: ``BetaVAETransformer(latent_dim=10)`` without factors;
- ``named``: the same with ``fit(X, factors=F)``, the 7 beat features the package measures;
- ``rate warp``: the same with ``rate_factor="heart_rate"`` (``skbvae/_time_warp.py``).

Rows: LUDB lead II fold 0's 1,532 training beats with the loader's features, when ``../shared/data/ludb``
is there (the estimator's default epochs), else 1,600 ``make_heartbeats`` beats (40 epochs) with the
features measured on the windows. Besides the fits, one training step of the network (forward, loss,
backward, Adam) on a batch of 256, with the warp's parts taken away in turn (:func:`step_times`).

    python benchmarks/bench_rate_warp_cost.py [--synthetic] [--rounds 2]

About 4 minutes on LUDB, 40 s on synthetic beats (2 CPU cores).
"""

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from skbvae import BetaVAETransformer
from skbvae.datasets import load_wfdb_heartbeats, make_heartbeats
from skbvae.ecg import measure_beat_windows

LUDB = Path(__file__).resolve().parents[2] / "shared" / "data" / "ludb"
FACTORS = ["heart_rate", "r_amplitude", "qrs_duration", "st_level", "t_amplitude", "pr_interval", "qt_interval"]
WINDOW = {"fs": 125.0, "start": -0.25}  # the loader's and make_heartbeats' default window


def rows(synthetic):
    """(X, F, max_epochs, description)."""
    if LUDB.is_dir() and not synthetic:
        from sklearn.model_selection import GroupKFold

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            X, meta = load_wfdb_heartbeats(LUDB, lead="ii", features=True, errors="warn", n_jobs=2)
        train, _ = next(GroupKFold(5).split(X, groups=meta["record"]))
        return X[train], meta[FACTORS].iloc[train], "auto", f"LUDB lead II fold 0, {len(train)} beats"
    X, _ = make_heartbeats(1600, random_state=0)
    return X, measure_beat_windows(X, **WINDOW)[FACTORS], 40, "make_heartbeats, 1,600 beats, 40 epochs"


def fit(kind, X, F, max_epochs):
    timed = pd.DataFrame(X)
    timed.attrs["signal"] = dict(WINDOW)
    params = dict(latent_dim=10, max_epochs=max_epochs, random_state=0)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind == "plain":
            model = BetaVAETransformer(**params).fit(X)
        else:
            model = BetaVAETransformer(rate_factor="heart_rate" if kind == "rate warp" else None, **params).fit(
                timed, factors=F)
    return time.perf_counter() - started, model


def step_times(model, X, repeats=40, rounds=5):
    """Milliseconds per training step of the warp model's network, its parts taken away one at a time.

    - ``as fitted``: the warp, its locator (forward and backward) and the encoder's canonical-time input;
    - ``locator frozen``: the locator's parameters not trained (its forward only, no backward): what a
      locator trained first and then frozen would cost;
    - ``locator and canonical rows cached``: the located rates and the canonical-time rows computed once
      (a frozen locator's outputs are the same every epoch, so they could be kept per row): only the warp
      of the decoder's output is left;
    - ``no warp``: the network without the warp (the encoder reads the rows as they are).
    """
    module = model.net_.module_
    module.train()
    warp = module.rate_warp
    x = torch.as_tensor((X[:256] - model.center_) / model.scale_, dtype=torch.float32)
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-9)
    kind = type(warp)
    located, canonical = kind.located, kind.canonical
    locator = [warp.locator, warp.log_temperature, warp.earliness, warp.beyond_score, warp.beyond_log_samples]
    with torch.no_grad():
        cached_rate = located(warp, x)
        cached_rows = canonical(warp, x, cached_rate)

    def step():
        (loc, variance), mu, logvar = module(x)
        loss = ((x - loc) ** 2 / variance + variance.log()).sum() + mu.square().sum() + logvar.exp().sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    def setting(name):
        """Put the module in the state of ``name`` (and back to as fitted for ``as fitted``)."""
        module.rate_warp = None if name == "no warp" else warp
        for parameter in locator:
            parameter.requires_grad_(name == "as fitted")
        kind.located = (lambda self, rows: cached_rate) if name == "locator and canonical rows cached" else located
        kind.canonical = (lambda self, rows, code: cached_rows) if name == "locator and canonical rows cached" \
            else canonical

    names = ["as fitted", "locator frozen", "locator and canonical rows cached", "no warp"]
    times = {name: [] for name in names}
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for _ in range(rounds):
            for name in names:
                setting(name)
                for _ in range(5):
                    step()
                started = time.perf_counter()
                for _ in range(repeats):
                    step()
                times[name].append(1e3 * (time.perf_counter() - started) / repeats)
    finally:
        setting("as fitted")
        torch.set_num_threads(previous)
    return {name: min(values) for name, values in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synthetic", action="store_true", help="make_heartbeats even where LUDB is present")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    X, F, max_epochs, description = rows(args.synthetic)
    print(description)
    times, models = {kind: [] for kind in ("plain", "named", "rate warp")}, {}
    for _ in range(args.rounds):
        for kind in times:
            seconds, models[kind] = fit(kind, X, F, max_epochs)
            times[kind].append(seconds)
    best = {kind: min(values) for kind, values in times.items()}
    for kind, values in times.items():
        print(f"fit {kind}: {', '.join(f'{v:.1f}' for v in values)} s (best {best[kind]:.1f} s, "
              f"{best[kind] / best['plain']:.2f}x plain)")
    steps = step_times(models["rate warp"], np.asarray(X, dtype=np.float32))
    base = steps["no warp"]
    print("one training step, batch 256, one thread: " + ", ".join(
        f"{name} {ms:.2f} ms ({ms / base:.2f}x)" for name, ms in steps.items()))


if __name__ == "__main__":
    main()
