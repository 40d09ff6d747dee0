"""Candidate defaults of BetaVAETransformer measured on four data sets, against PCA and FastICA.

Each candidate (β, capacity, rotation, scaling, training length) is fitted on
the training part of each data set and scored on held-out rows by:

- ``ELBO``: mean held-out β = 1 ELBO per row (nats, higher is better; the same
  number for every rotation, since a rotation does not change the model);
- ``recon``: held-out reconstruction error, mean squared error in standardized
  units (per-feature training standard deviations; the mean row scores ~1);
- ``MIG`` and ``DCI-D`` (DCI disentanglement) against the known factors
  (``make_heartbeats``: 7 factors; ``make_price_windows``: drift, volatility);
- ``AUC``: a logistic regression on the codes, fitted on the training rows,
  held-out ROC AUC (heartbeats: ST elevation > 0.1 mV; MIT-BIH 100: normal beat
  vs any other annotated beat);
- ``n``: output width (active components when rotated), ``fit s``: seconds.

Data sets: ``make_heartbeats`` (10,000 / 2,000), ``make_price_windows`` gbm
(5,000 / 1,000; "prices": log(w / w[0]) with ``scaling="global"`` unless the
candidate sets one, "returns": the windows' log returns), and,
when ``../shared/data/wfdb`` exists, MIT-BIH record ``100`` (annotated beats,
first 70 % of the record for training, the rest held out) and PTB ``s0010_re``
(lead ii, 40 / 12 beats).

    python benchmarks/bench_defaults.py [--seeds 0] [--datasets heartbeats prices mitbih ptb]

About 15 minutes on 2 CPU cores with one seed.
"""

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA, FastICA
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skbvae import BetaVAETransformer
from skbvae.datasets import load_wfdb_heartbeats, make_heartbeats, make_price_windows
from skbvae.metrics import dci_scores, mutual_info_gap

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "wfdb"

CANDIDATES = {
    "seed: β 4, C 25, 50 epochs": dict(beta=4.0, capacity=25.0, max_epochs=50, rotation=None),
    "β 1, 50 epochs": dict(beta=1.0, capacity=None, max_epochs=50, rotation=None),
    "β 1, auto": dict(beta=1.0, capacity=None, max_epochs="auto", rotation=None),
    "β 1, auto, ica": dict(beta=1.0, capacity=None, max_epochs="auto", rotation="ica"),
    "β 1, auto, varimax": dict(beta=1.0, capacity=None, max_epochs="auto", rotation="varimax"),
    "β 1, auto, ica, global": dict(beta=1.0, capacity=None, max_epochs="auto", rotation="ica", scaling="global"),
    "β 0.25, auto, ica": dict(beta=0.25, capacity=None, max_epochs="auto", rotation="ica"),
    "β 0.1, auto, ica": dict(beta=0.1, capacity=None, max_epochs="auto", rotation="ica"),
    "β 4, auto, ica": dict(beta=4.0, capacity=None, max_epochs="auto", rotation="ica"),
    "β 4, C 25, auto, ica": dict(beta=4.0, capacity=25.0, max_epochs="auto", rotation="ica"),
    "β 1, early stopping, ica": dict(beta=1.0, capacity=None, max_epochs=2000, early_stopping=True,
                                     rotation="ica"),
    "shared σ, β 1, ica": dict(beta=1.0, decoder_variance="shared"),
    "heteroscedastic, β 1, ica": dict(beta=1.0, decoder_variance="heteroscedastic"),
    "heteroscedastic, β 2, ica": dict(beta=2.0, decoder_variance="heteroscedastic"),
}


def heartbeats():
    X, factors = make_heartbeats(12_000, random_state=0)
    y = (factors["st_shift"] > 0.1).astype(int).to_numpy()
    return dict(X_train=X[:10_000], X_test=X[10_000:], F_test=factors.iloc[10_000:],
                y_train=y[:10_000], y_test=y[10_000:], dci=True)


def prices():
    X, factors = make_price_windows(6_000, model="gbm", random_state=0)
    return dict(X_train=X[:5_000], X_test=X[5_000:], F_test=factors.iloc[5_000:], dci=False)


def returns():
    X, factors = make_price_windows(6_000, model="gbm", representation="log_returns", random_state=0)
    return dict(X_train=X[:5_000], X_test=X[5_000:], F_test=factors.iloc[5_000:], dci=False)


def mitbih():
    import wfdb

    X, meta = load_wfdb_heartbeats(SHARED / "100", annotations=True)
    annotation = wfdb.rdann(str(SHARED / "100"), "atr")
    symbols = dict(zip(annotation.sample, annotation.symbol))
    y = np.array([symbols[p] != "N" for p in meta["r_peak"]], dtype=int)
    split = int(0.7 * len(X))
    return dict(X_train=X[:split], X_test=X[split:], y_train=y[:split], y_test=y[split:])


def ptb():
    X, _ = load_wfdb_heartbeats(SHARED / "s0010_re", lead="ii")
    return dict(X_train=X[:40], X_test=X[40:])


DATASETS = {"heartbeats": heartbeats, "prices": prices, "returns": returns, "mitbih": mitbih, "ptb": ptb}


def evaluate(data, model, seconds, elbo=np.nan):
    X_train, X_test = data["X_train"], data["X_test"]
    std = X_train.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    Z_train, Z_test = model.transform(X_train), model.transform(X_test)
    row = {"ELBO": elbo, "recon": np.mean(((model.inverse_transform(Z_test) - X_test) / std) ** 2),
           "n": Z_test.shape[1], "fit s": seconds}
    if "F_test" in data:
        row["MIG"] = mutual_info_gap(Z_test, data["F_test"])
        if data.get("dci"):
            row["DCI-D"] = dci_scores(Z_test, data["F_test"])["disentanglement"]
    if "y_train" in data and len(np.unique(data["y_test"])) == 2:
        clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(Z_train, data["y_train"])
        row["AUC"] = roc_auc_score(data["y_test"], clf.predict_proba(Z_test)[:, 1])
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    parser.add_argument("--candidates", nargs="+", default=list(CANDIDATES), choices=list(CANDIDATES))
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=ConvergenceWarning)

    rows = []
    for name in args.datasets:
        if name in ("mitbih", "ptb") and not SHARED.exists():
            print(f"skipping {name}: {SHARED} not found")
            continue
        data = DATASETS[name]()
        n_components = 10 if name != "ptb" else 3
        for baseline in (PCA(n_components), FastICA(n_components, random_state=0, max_iter=1000)):
            start = time.perf_counter()
            model = make_pipeline(StandardScaler(), baseline).fit(data["X_train"])
            rows.append({"data": name, "model": type(baseline).__name__, "seed": 0,
                         **evaluate(data, model, time.perf_counter() - start)})
        for label in args.candidates:
            params = dict(CANDIDATES[label])
            if name == "prices":  # volatility lives in the relative size of steps (NOTES §5)
                params.setdefault("scaling", "global")
            for seed in args.seeds:
                start = time.perf_counter()
                vae = BetaVAETransformer(random_state=seed, **params).fit(data["X_train"])
                seconds = time.perf_counter() - start
                rows.append({"data": name, "model": label, "seed": seed,
                             **evaluate(data, vae, seconds, vae.score(data["X_test"]))})
                print(name, label, seed, {k: round(v, 3) for k, v in rows[-1].items()
                                          if isinstance(v, float)}, flush=True)
    table = pd.DataFrame(rows).groupby(["data", "model"], sort=False).mean(numeric_only=True).drop(columns="seed")
    print(f"\nseeds {args.seeds}; means over seeds")
    print(table.to_markdown(floatfmt=".3f"))


if __name__ == "__main__":
    main()
