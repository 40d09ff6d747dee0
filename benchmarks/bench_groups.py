"""Training with groups (``fit(X, groups=...)``) against the unsupervised defaults, PCA and FastICA.

Disentanglement is measured on rows of groups never seen in ``fit`` (and on
the training rows, to see whether unseen groups are encoded as well):

- ``MIG`` and ``DCI-D`` against the known factors of ``make_heartbeats`` or,
  on real records, against the beat features measured on them
  (``load_wfdb_heartbeats(..., features=True)``);
- ``MIG train``: MIG on the training rows;
- ``fit s``: seconds (every VAE takes the same optimizer steps).

Models: PCA(10) and FastICA(10) on standardized beats, and FastICA(10) fitted
on their deviations from their group's mean (a linear model that uses the
groups too); the defaults fitted without groups; and fitted with groups by
each method of ``skbvae._groups`` ("pairs": Ada-GVAE pairs of one group in a
batch, what ``fit(X, groups=...)`` does; "prior": a moment-matched Gaussian
prior per group, iVAE). Each VAE is read twice, to measure the two levers
apart: its ICA rotation fitted on the codes' within-group deviations (what
``rotation="ica"`` does with groups) and on the codes themselves (what it
does without).

Data sets:

- "records": ``make_heartbeats(n_records=...)``, 200 records x 30 beats to
  train on, 66 other records (1,980 beats) held out; each record has its own
  factor means and factor-specific beat-to-beat spread. Drawn per seed.
- "mitbih", "mitbih-v5" (when ``../shared/data/wfdb`` exists): MIT-BIH 100,
  lead MLII or V5, cut into one-minute segments as groups (one record holds
  one group only): the first 21 minutes train, the other 9 are held out.
- "shared": the shared records that hold usable ECG (MIT-BIH 100 MLII, PTB
  s0010_re ii, v102s II, mixedsignals II), the record as the group: the
  first 70 % of each record's beats train, the rest are held out.

    python benchmarks/bench_groups.py [--seeds 0 1 2] [--datasets records mitbih ...] [--fits ...]
"""

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA, FastICA
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from _tables import mean_table  # benchmarks/ is on sys.path when run as a script
from skbvae import BetaVAETransformer, _groups
from skbvae.datasets import load_wfdb_heartbeats, make_heartbeats
from skbvae.metrics import dci_scores, mutual_info_gap

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "wfdb"
FEATURES = ["heart_rate", "r_amplitude", "qrs_duration", "st_level", "t_amplitude", "pr_interval"]

#: VAE fits: name -> the group method of skbvae._groups (None: fit without groups).
FITS = {"no groups": None, "pairs (Ada-GVAE)": "pairs", "prior (iVAE)": "prior"}


class GroupFastICA:
    """Linear baseline that uses the groups: FastICA(10) fitted on standardized rows' within-group deviations."""

    def __init__(self, seed):
        self.seed = seed

    def fit(self, X, groups):
        self.scaler_ = StandardScaler().fit(X)
        deviations = _groups.within_group_deviations(self.scaler_.transform(X), *_groups.check_groups(groups, len(X)))
        self.ica_ = FastICA(10, random_state=self.seed, max_iter=1000).fit(deviations)
        return self

    def transform(self, X):
        return self.ica_.transform(self.scaler_.transform(X))


def refit_rotation(vae, X, groups):
    """Fit the estimator's ICA rotation again, with or without the groups, to measure each lever alone.

    Uses the estimator's private ``_encode`` and ``_fit_rotation``: a
    benchmark's way to keep the network and change the rotation only.
    """
    X_scaled = ((X - vae.center_) / vae.scale_).astype(np.float32)
    mu, _ = vae._encode(X_scaled, scale_input=False)
    codes = None if groups is None else _groups.check_groups(groups, len(X))[0]
    vae._fit_rotation(mu, X_scaled, 0, codes)
    return vae


def records(seed):
    X, factors, groups = make_heartbeats(7_980, n_records=266, random_state=seed)
    split = np.searchsorted(groups, 200)  # 200 records to train on, 66 others held out
    return dict(X_train=X[:split], g_train=groups[:split], F_train=factors.iloc[:split],
                X_test=X[split:], F_test=factors.iloc[split:])


def _measurable(features):
    """The features measured in at least half of the beats (a record without P waves has no PR interval)."""
    return features.loc[:, features.notna().mean() >= 0.5]


def mitbih(lead="MLII"):
    X, meta = load_wfdb_heartbeats(SHARED / "100", lead=lead, features=True)
    minute = (meta["r_peak"].to_numpy() // (360 * 60)).astype(int)
    train = minute < 21
    F = _measurable(meta[FEATURES])
    return dict(X_train=X[train], g_train=minute[train], F_train=F[train],
                X_test=X[~train], F_test=F[~train])


def shared_records():
    parts = []
    with warnings.catch_warnings():  # the loader says what it dropped; the table does not need it
        warnings.simplefilter("ignore")
        for record, lead in (("100", "MLII"), ("s0010_re", "ii"), ("v102s", "II"), ("mixedsignals", "II")):
            X, meta = load_wfdb_heartbeats(SHARED / record, lead=lead, features=True)
            split = np.arange(len(X)) < int(0.7 * len(X))
            parts.append((X, meta[FEATURES], np.full(len(X), record), split))
    X = np.vstack([p[0] for p in parts])
    F = pd.concat([p[1] for p in parts], ignore_index=True)
    groups = np.concatenate([p[2] for p in parts])
    train = np.concatenate([p[3] for p in parts])
    F = _measurable(F)
    return dict(X_train=X[train], g_train=groups[train], F_train=F[train], X_test=X[~train], F_test=F[~train])


DATASETS = {"records": records, "mitbih": lambda seed: mitbih("MLII"), "mitbih-v5": lambda seed: mitbih("V5"),
            "shared": lambda seed: shared_records()}
REAL = ("mitbih", "mitbih-v5", "shared")


def _mig(Z, F):
    known = F.notna().all(axis=1).to_numpy()
    return mutual_info_gap(Z[known], F[known]), dci_scores(Z[known], F[known])["disentanglement"]


def evaluate(data, model, seconds):
    mig, dci = _mig(model.transform(data["X_test"]), data["F_test"])
    mig_train, _ = _mig(model.transform(data["X_train"]), data["F_train"])
    return {"MIG": mig, "DCI-D": dci, "MIG train": mig_train, "fit s": seconds}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    parser.add_argument("--fits", nargs="+", default=list(FITS), choices=list(FITS))
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=ConvergenceWarning)

    rows = []

    def record(name, model, seed, fitted, seconds):
        rows.append({"data": name, "model": model, "seed": seed, **evaluate(data, fitted, seconds)})
        print({k: round(v, 3) if isinstance(v, float) else v for k, v in rows[-1].items()}, flush=True)

    for name in args.datasets:
        if name in REAL and not SHARED.exists():
            print(f"skipping {name}: {SHARED} not found")
            continue
        # Synthetic beats are drawn per seed; real records are the same data for every seed.
        seeds = args.seeds if name == "records" else args.seeds[:1]
        for seed in seeds:
            data = DATASETS[name](seed)
            X, groups = data["X_train"], data["g_train"]
            for baseline in (PCA, FastICA):
                options = dict(random_state=seed, max_iter=1000) if baseline is FastICA else {}
                start = time.perf_counter()
                model = make_pipeline(StandardScaler(), baseline(10, **options)).fit(X)
                record(name, baseline.__name__, seed, model, time.perf_counter() - start)
            start = time.perf_counter()
            record(name, "FastICA on within-group deviations", seed, GroupFastICA(seed).fit(X, groups),
                   time.perf_counter() - start)
            for label in args.fits:
                method = FITS[label]
                if method is not None:
                    _groups.GROUP_METHOD = method
                start = time.perf_counter()
                vae = BetaVAETransformer(random_state=seed).fit(X, groups=None if method is None else groups)
                seconds = time.perf_counter() - start
                if method is None:
                    record(name, "defaults, no groups", seed, vae, seconds)
                    record(name, "no groups, ICA on within-group deviations", seed,
                           refit_rotation(vae, X, groups), seconds)
                else:
                    record(name, f"groups: {label}", seed, vae, seconds)
                    record(name, f"groups: {label}, plain ICA", seed, refit_rotation(vae, X, None), seconds)
        _groups.GROUP_METHOD = "prior"
    results = pd.DataFrame(rows)
    table = mean_table(results)
    print(f"\nseeds {args.seeds} (real records: seed {args.seeds[0]}); means over seeds")
    print(table.to_markdown(floatfmt=".3f"))
    print(results.to_markdown(floatfmt=".3f"))


if __name__ == "__main__":
    main()
