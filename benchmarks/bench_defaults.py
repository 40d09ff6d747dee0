"""Candidate defaults of BetaVAETransformer measured on synthetic and real data, against PCA and FastICA.

Each candidate is fitted on the training part of each data set and scored on
held-out rows by:

- ``ELBO``: mean held-out β = 1 ELBO per row (nats, higher is better; the same
  number for every rotation, since a rotation does not change the model);
- ``recon``: held-out reconstruction error, mean squared error in standardized
  units (per-feature training standard deviations; the mean row scores ~1);
- ``MIG`` and ``DCI-D`` (DCI disentanglement) against the known factors
  (``make_heartbeats``: 7 factors; ``make_price_windows``: drift, volatility)
  or, on real records, against the beat features measured on the record
  (``load_wfdb_heartbeats(..., features=True)``: heart rate, R amplitude,
  QRS duration, ST level, T wave, PR interval; beats where one is not
  measurable left out);
- ``AUC``: a logistic regression on the codes, fitted on the training rows,
  held-out ROC AUC (heartbeats: ST elevation > 0.1 mV; MIT-BIH 100: normal beat
  vs any other annotated beat);
- ``n``: output width (active components when rotated), ``fit s``: seconds
  (every candidate takes the same optimizer steps on a data set, so fit
  times compare the cost of a step).

Data sets: ``make_heartbeats`` i.i.d. ("heartbeats", 10,000 / 2,000) and in
records ("records": 200 records x 30 beats for training, 66 other records
held out, each record with its own factor means and spreads), price windows
(``make_price_windows`` gbm, 5,000 / 1,000; "prices": log(w / w[0]) with
``scaling="global"`` unless the candidate sets one, "returns": the windows'
log returns), and, when ``../shared/data/wfdb`` exists, real records split by
time (first 70 % of the beats for training, the rest held out): MIT-BIH
``100`` lead MLII ("mitbih", annotated beats) and V5 ("mitbih-v5"), PTB
``s0010_re`` lead ii ("ptb", 40 / 12 beats) and the shared messy records that
hold usable ECG and beats that differ ("v102s" lead II, "mixedsignals" lead II).

    python benchmarks/bench_defaults.py [--seeds 0] [--datasets heartbeats records ...] [--candidates ...]

About 20 minutes on 2 CPU cores with one seed and the default candidates.
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

from _tables import mean_table  # benchmarks/ is on sys.path when run as a script
from skbvae import BetaVAETransformer
from skbvae.datasets import load_wfdb_heartbeats, make_heartbeats, make_price_windows
from skbvae.metrics import dci_scores, mutual_info_gap

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "wfdb"

#: Candidates measured by default: the defaults, the previous defaults (a fixed
#: unit-variance decoder with β 0.25), the seed article's setup, and the
#: Gaussian learned variance (the defaults of 2026-12-02) with its smoothings. Every candidate
#: names what it changes, so the table stays right when the defaults move.
CANDIDATES = {
    "defaults (Student-t, heteroscedastic, β 1, var_smoothing 0.05)": dict(),
    "fixed variance, β 0.25 (previous defaults)": dict(decoder_variance="fixed"),
    "seed: β 4, C 25, 50 epochs": dict(beta=4.0, capacity=25.0, max_epochs=50, rotation=None,
                                       decoder_variance="fixed"),
    "Gaussian, heteroscedastic, β 1, var_smoothing 0.05": dict(likelihood="gaussian"),
    "Gaussian, heteroscedastic, β 1, var_smoothing 1e-4": dict(likelihood="gaussian", var_smoothing=1e-4),
    "Gaussian, heteroscedastic, β 1, var_smoothing 0.1": dict(likelihood="gaussian", var_smoothing=0.1),
    "Student-t, heteroscedastic, β 1, var_smoothing 1e-4": dict(var_smoothing=1e-4),
    "Gaussian, heteroscedastic, β 2, var_smoothing 1e-4": dict(likelihood="gaussian", beta=2.0,
                                                               var_smoothing=1e-4),
    "shared σ, β 1, var_smoothing 0.05": dict(decoder_variance="shared"),
    "fixed variance, β 1": dict(decoder_variance="fixed", beta=1.0),
    "fixed variance, β 1, early stopping": dict(decoder_variance="fixed", beta=1.0, max_epochs=2000,
                                                early_stopping=True),
}
DEFAULT_CANDIDATES = list(CANDIDATES)[:6]
FEATURES = ["heart_rate", "r_amplitude", "qrs_duration", "st_level", "t_amplitude", "pr_interval"]


def heartbeats(seed=0):
    X, factors = make_heartbeats(12_000, random_state=seed)
    y = (factors["st_shift"] > 0.1).astype(int).to_numpy()
    return dict(X_train=X[:10_000], X_test=X[10_000:], F_test=factors.iloc[10_000:],
                y_train=y[:10_000], y_test=y[10_000:], dci=True)


def records(seed=0):
    X, factors, groups = make_heartbeats(7_980, n_records=266, random_state=seed)
    split = np.searchsorted(groups, 200)  # 200 records to train on, 66 others held out
    return dict(X_train=X[:split], X_test=X[split:], F_test=factors.iloc[split:], dci=True)


def prices():
    X, factors = make_price_windows(6_000, model="gbm", random_state=0)
    return dict(X_train=X[:5_000], X_test=X[5_000:], F_test=factors.iloc[5_000:], dci=False)


def returns():
    X, factors = make_price_windows(6_000, model="gbm", representation="log_returns", random_state=0)
    return dict(X_train=X[:5_000], X_test=X[5_000:], F_test=factors.iloc[5_000:], dci=False)


def _by_time(X, meta, y=None):
    """First 70 % of a record's beats to train on, the rest held out; measured features as factors."""
    split = int(0.7 * len(X))
    features = meta[FEATURES].iloc[split:]
    # A feature this record hardly has (no P wave in a test generator's ECG) is left out, not its beats.
    features = features.loc[:, features.notna().mean() >= 0.5]
    data = dict(X_train=X[:split], X_test=X[split:], F_test=features, dci=True)
    if y is not None:
        data.update(y_train=y[:split], y_test=y[split:])
    return data


def mitbih(lead="MLII"):
    import wfdb

    X, meta = load_wfdb_heartbeats(SHARED / "100", lead=lead, annotations=True, features=True)
    annotation = wfdb.rdann(str(SHARED / "100"), "atr")
    symbols = dict(zip(annotation.sample, annotation.symbol))
    y = np.array([symbols[p] != "N" for p in meta["r_peak"]], dtype=int)
    return _by_time(X, meta, y)


def ptb():
    X, _ = load_wfdb_heartbeats(SHARED / "s0010_re", lead="ii")
    return dict(X_train=X[:40], X_test=X[40:])


def messy(record, lead):
    with warnings.catch_warnings():  # the loader says what it dropped; the table does not need it
        warnings.simplefilter("ignore")
        X, meta = load_wfdb_heartbeats(SHARED / record, lead=lead, features=True)
    return _by_time(X, meta)


DATASETS = {
    "heartbeats": heartbeats, "records": records, "prices": prices, "returns": returns,
    "mitbih": mitbih, "mitbih-v5": lambda: mitbih("V5"), "ptb": ptb,
    # test_generator_2 holds usable ECG too, but every beat is the same: nothing for MIG to find.
    "v102s": lambda: messy("v102s", "II"), "mixedsignals": lambda: messy("mixedsignals", "II"),
}
#: Synthetic data sets drawn anew for every seed (the model's seed is the data's).
PER_SEED = ("heartbeats", "records")
REAL = ("mitbih", "mitbih-v5", "ptb", "v102s", "mixedsignals")


def evaluate(data, model, seconds, elbo=np.nan):
    X_train, X_test = data["X_train"], data["X_test"]
    std = X_train.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    Z_train, Z_test = model.transform(X_train), model.transform(X_test)
    row = {"ELBO": elbo, "recon": np.mean(((model.inverse_transform(Z_test) - X_test) / std) ** 2),
           "n": Z_test.shape[1], "fit s": seconds}
    if "F_test" in data:
        known = data["F_test"].notna().all(axis=1).to_numpy()
        row["MIG"] = mutual_info_gap(Z_test[known], data["F_test"][known])
        if data.get("dci"):
            row["DCI-D"] = dci_scores(Z_test[known], data["F_test"][known])["disentanglement"]
    if "y_train" in data and len(np.unique(data["y_test"])) == 2:
        clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(Z_train, data["y_train"])
        row["AUC"] = roc_auc_score(data["y_test"], clf.predict_proba(Z_test)[:, 1])
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    parser.add_argument("--candidates", nargs="+", default=DEFAULT_CANDIDATES, choices=list(CANDIDATES))
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=ConvergenceWarning)

    rows = []
    for name in args.datasets:
        if name in REAL and not SHARED.exists():
            print(f"skipping {name}: {SHARED} not found")
            continue
        # Synthetic beats are drawn anew per seed; the other data sets are fixed.
        draws = {seed: DATASETS[name](seed) for seed in args.seeds} if name in PER_SEED else None
        fixed = None if draws else DATASETS[name]()
        n_components = 10 if name != "ptb" else 3
        for baseline in (PCA, FastICA):
            for seed in args.seeds if draws else [args.seeds[0]]:
                data = draws[seed] if draws else fixed
                options = dict(random_state=0, max_iter=1000) if baseline is FastICA else {}
                start = time.perf_counter()
                try:
                    model = make_pipeline(StandardScaler(), baseline(n_components, **options)).fit(data["X_train"])
                except ValueError as error:  # FastICA on near-identical beats (a test generator) whitens to NaN
                    print(f"{name} {baseline.__name__}: {error}")
                    continue
                rows.append({"data": name, "model": baseline.__name__, "seed": seed,
                             **evaluate(data, model, time.perf_counter() - start)})
                print(name, baseline.__name__, seed, {k: round(v, 3) for k, v in rows[-1].items()
                                                      if isinstance(v, float)}, flush=True)
        for label in args.candidates:
            params = dict(CANDIDATES[label])
            if name == "prices":  # volatility lives in the relative size of steps (NOTES §5)
                params.setdefault("scaling", "global")
            for seed in args.seeds:
                data = draws[seed] if draws else fixed
                start = time.perf_counter()
                vae = BetaVAETransformer(random_state=seed, **params).fit(data["X_train"])
                seconds = time.perf_counter() - start
                rows.append({"data": name, "model": label, "seed": seed,
                             **evaluate(data, vae, seconds, vae.score(data["X_test"]))})
                print(name, label, seed, {k: round(v, 3) for k, v in rows[-1].items()
                                          if isinstance(v, float)}, flush=True)
    results = pd.DataFrame(rows)
    table = mean_table(results)
    print(f"\nseeds {args.seeds}; means over seeds")
    print(table.to_markdown(floatfmt=".3f"))


if __name__ == "__main__":
    main()
