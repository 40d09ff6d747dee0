"""Model selection on patients never seen: leave-patients-out on MIT-BIH DS1 and LUDB, beside synthetic sets.

Each candidate ``BetaVAETransformer`` (and PCA(10) and FastICA(10) as the linear
baselines) is fitted on some patients' beats and scored on other patients'
beats (``GroupKFold`` by record), against the beat features measured on them
(:func:`~skbvae.ecg.measure_beat_features`: heart rate, R amplitude, QRS
duration, ST level, T wave, PR and QT intervals; NaN where not measured, each
feature scored on its measured beats):

- ``MIG``: mutual information gap on the held-out patients' beats pooled;
- ``MIG/patient``: the median over held-out patients of the MIG within each
  patient's beats (what varies beat to beat, not between patients);
- ``DCI-D``: DCI disentanglement on the held-out beats;
- ``ELBO``: mean held-out β = 1 ELBO per beat (nats; VAEs only);
- ``fit s``: seconds of the fit.

Every fold of every data set gives one row per model; the summary is the
median over folds and its interquartile range, and each VAE's MIG over the
better of PCA's and FastICA's in the same fold (median of the per-fold
ratios).

Data sets:

- ``ds1``: the 22 records of MIT-BIH's DS1 (lead MLII, the annotated beats;
  ``../shared/data/mitdb``), 5 folds of 4-5 patients held out;
- ``ludb``: LUDB's 200 patients, lead II, 10 s each (the detected beats;
  ``../shared/data/ludb``), 5 folds of 40 patients;
- ``iid``: ``make_heartbeats`` (10,000 to fit, 2,000 held out), known factors;
- ``records``: ``make_heartbeats(n_records=266)``, 200 records (30 beats each)
  to fit, 66 held out;
- ``records-tight``: the same with ``record_spread=(0.005, 0.12)``: records that
  differ a lot, beats that vary little within a record (as real patients).
- ``records-small``: as ``records`` with 10 beats per record (LUDB's 10 s per
  patient), 2,000 beats to fit.

Synthetic sets run one fold per seed (``--seeds``); the real sets run their
folds once per seed (the same patients held out, the models fitted again).

With ``--diagnoses``, a second table: features for a classifier on a small real set, the use
the UCR ECG200 task stands for. LUDB's beats (lead II) carry their patient's diagnoses; for left
ventricular hypertrophy (108 of 200 patients), ischaemia (51) and left axis deviation (66) a
class-balanced logistic regression on each model's codes (fitted without labels on the training
patients) is scored on held-out patients (``GroupKFold(5)``): accuracy per patient (the mean
probability over the patient's beats), median over folds.

    python benchmarks/bench_patients.py [--datasets ds1 ludb iid records records-tight records-small] [--models ...]
                                        [--folds 5] [--seeds 0 1 2] [--n-jobs 2] [--out results.csv]
"""

import argparse
import contextlib
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.decomposition import PCA, FastICA
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skbvae import BetaVAETransformer
from skbvae.datasets import load_wfdb_heartbeats, make_heartbeats
from skbvae.metrics import dci_scores, mutual_info_gap

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
MEASURED = ["heart_rate", "r_amplitude", "qrs_duration", "st_level", "t_amplitude", "pr_interval", "qt_interval"]

#: Models: name -> (parameters of BetaVAETransformer, fit with groups?[, settings of skbvae._groups to
#: measure a way of using them]). "PCA" and "FastICA" are the baselines.
MODELS = {
    "PCA(10)": None,
    "FastICA(10)": None,
    "defaults": ({}, False),
    # The package's rule: a prior per group when the median group has >= 20 rows and the prior scores
    # 20 % of the groups held out better than the rotation only, else the rotation only.
    "defaults, groups": ({}, True),
    "defaults, groups, by row count alone": ({}, True, {"SELECT_BY_HELD_OUT": False}),
    "defaults, groups, a prior per group always": ({}, True, {"MIN_ROWS_FOR_GROUP_PRIOR": 0}),
    "Gaussian heteroscedastic, β 1": ({"likelihood": "gaussian"}, False),
    "Gaussian heteroscedastic, β 2": ({"likelihood": "gaussian", "beta": 2.0}, False),
    "Student-t, β 2": ({"beta": 2.0}, False),
    "fixed variance, β 0.25": ({"decoder_variance": "fixed"}, False),
    "defaults, rotation varimax": ({"rotation": "varimax"}, False),
    "defaults, β 0.5": ({"beta": 0.5}, False),
    "defaults, groups, prior shrunk 0.5": ({}, True, {"GROUP_SHRINKAGE": 0.5}),
    "defaults, groups through the rotation only": ({}, True, {"GROUP_METHOD": "rotation"}),
}


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def real_folds(name, folds):
    """(X, groups, features) of a real data set, and its GroupKFold splits by record."""
    if name == "ds1":
        X, meta = _quiet(load_wfdb_heartbeats, SHARED / "mitdb", annotations=True, features=True, n_jobs=2)
    else:  # ludb, lead II
        X, meta = _quiet(load_wfdb_heartbeats, SHARED / "ludb", lead="ii", features=True, errors="warn", n_jobs=2)
    groups = meta["record"].to_numpy()
    splits = list(GroupKFold(folds).split(X, groups=groups))
    return X.astype(np.float32), groups, meta[MEASURED].reset_index(drop=True), splits


def synthetic_fold(name, seed):
    """(X_train, groups_train, X_test, groups_test, factors_test) of a synthetic set."""
    if name == "iid":
        X, factors = make_heartbeats(12_000, random_state=seed)
        groups = np.arange(len(X)) // 30  # unused: i.i.d. beats have no records
        return X[:10_000], None, X[10_000:], groups[10_000:], factors.iloc[10_000:].reset_index(drop=True)
    # Beats per record and how they spread; records-small has LUDB's 10 s per patient.
    per_record, spread = {"records": (30, {}), "records-tight": (30, {"record_spread": (0.005, 0.12)}),
                          "records-small": (10, {})}[name]
    X, factors, groups = make_heartbeats(266 * per_record, n_records=266, random_state=seed, **spread)
    split = np.searchsorted(groups, 200)
    return X[:split], groups[:split], X[split:], groups[split:], factors.iloc[split:].reset_index(drop=True)


def _linear(name, seed):
    second = PCA(10, random_state=seed) if name.startswith("PCA") else FastICA(10, max_iter=1000, random_state=seed)
    return make_pipeline(StandardScaler(), second)


def _per_group_mig(Z, factors, groups):
    """Median over groups (with 20 beats or more) of the MIG within each group."""
    values = []
    for group in np.unique(groups):
        rows = groups == group
        if rows.sum() >= 20:
            usable = factors[rows].loc[:, factors[rows].notna().mean() >= 0.5]
            if usable.shape[1]:
                values.append(_quiet(mutual_info_gap, Z[rows], usable))
    return float(np.median(values)) if values else np.nan


@contextlib.contextmanager
def _group_settings(settings):
    """Measure a way of using groups (settings of skbvae._groups), restored afterwards: a worker
    process runs many fits, and the next one must see the package's own settings."""
    from skbvae import _groups

    saved = {name: getattr(_groups, name) for name in settings}
    try:
        for name, value in settings.items():
            setattr(_groups, name, value)
        yield
    finally:
        for name, value in saved.items():
            setattr(_groups, name, value)


def score_model(model_name, X_train, groups_train, X_test, groups_test, factors, seed, per_patient):
    start = time.perf_counter()
    spec = MODELS[model_name]
    if spec is None:
        model = _quiet(_linear(model_name, seed).fit, X_train)
        elbo = np.nan
    else:
        params, with_groups, *group_settings = spec
        if with_groups and groups_train is None:
            return None  # i.i.d. beats have no groups
        model = BetaVAETransformer(random_state=seed, **params)
        with _group_settings(group_settings[0] if group_settings else {}):
            _quiet(model.fit, X_train, groups=groups_train if with_groups else None)
        elbo = model.score(X_test)
    seconds = time.perf_counter() - start
    Z = model.transform(X_test)
    usable = factors.loc[:, factors.notna().mean() >= 0.5]
    return {"model": model_name, "MIG": _quiet(mutual_info_gap, Z, usable),
            "MIG/patient": _per_group_mig(Z, usable, groups_test) if per_patient else np.nan,
            "DCI-D": _quiet(dci_scores, Z, usable)["disentanglement"], "ELBO": elbo, "fit s": seconds}


def tasks(datasets, models, folds, seeds):
    for name in datasets:
        if name in ("ds1", "ludb"):
            X, groups, features, splits = real_folds(name, folds)
            for seed in seeds:  # the same folds, each model fitted again with another seed
                for k, (train, test) in enumerate(splits):
                    for model in models:
                        yield (name, f"{k}, seed {seed}"), (model, X[train], groups[train], X[test], groups[test],
                                                            features.iloc[test].reset_index(drop=True), seed, True)
        else:
            for seed in seeds:
                X_train, g_train, X_test, g_test, factors = synthetic_fold(name, seed)
                for model in models:
                    yield (name, seed), (model, X_train, g_train, X_test, g_test, factors, seed, name != "iid")


DIAGNOSES = {"left ventricular hypertrophy": ("Hypertrophies", "Left ventricular hypertrophy"),
             "ischaemia": ("Ischemia", "schemia"),
             "left axis deviation": ("Electric axis of the heart", "left axis deviation")}


def diagnosis_rows(models, folds, seed=0):
    """Per-patient accuracy of a logistic regression on each model's codes, for LUDB's diagnoses."""
    from sklearn.linear_model import LogisticRegression

    X, meta = _quiet(load_wfdb_heartbeats, SHARED / "ludb", lead="ii", errors="warn", n_jobs=2)
    table = pd.read_csv(SHARED / "ludb" / "ludb.csv").set_index("ID")
    patients = meta["record"].astype(int).to_numpy()
    rows = []
    for k, (train, test) in enumerate(GroupKFold(folds).split(X, groups=patients)):
        for model_name in models:
            spec = MODELS[model_name]
            if spec is not None and spec[1]:
                continue  # the diagnosis table compares models fitted without groups
            model = _linear(model_name, seed) if spec is None else BetaVAETransformer(random_state=seed, **spec[0])
            _quiet(model.fit, X[train].astype(np.float32))
            Z_train, Z_test = model.transform(X[train]), model.transform(X[test])
            for diagnosis, (column, text) in DIAGNOSES.items():
                label = table[column].fillna("").str.contains(text).reindex(patients).to_numpy().astype(int)
                classifier = make_pipeline(StandardScaler(), LogisticRegression(class_weight="balanced", max_iter=2000))
                classifier.fit(Z_train, label[train])
                probability = pd.Series(classifier.predict_proba(Z_test)[:, 1]).groupby(patients[test]).mean()
                truth = pd.Series(label[test]).groupby(patients[test]).first()
                rows.append({"diagnosis": diagnosis, "model": model_name, "fold": k,
                             "patient accuracy": float(((probability > 0.5).astype(int) == truth).mean())})
    results = pd.DataFrame(rows)
    return results.groupby(["diagnosis", "model"], sort=False)["patient accuracy"].median().unstack("diagnosis")


def summary(results):
    """Median and IQR over folds per data set and model; MIG over the best linear baseline of each fold."""
    linear = results[results.model.isin(["PCA(10)", "FastICA(10)"])].groupby(["data", "fold"]).MIG.max()
    results = results.assign(**{"MIG / best linear": results.MIG / linear.reindex(
        pd.MultiIndex.from_frame(results[["data", "fold"]])).to_numpy()})
    grouped = results.groupby(["data", "model"], sort=False)
    table = grouped[["MIG", "MIG / best linear", "MIG/patient", "DCI-D", "ELBO", "fit s"]].median()
    iqr = grouped["MIG"].quantile(0.75) - grouped["MIG"].quantile(0.25)
    return table.assign(**{"MIG IQR": iqr, "folds": grouped.size()})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="*", default=["ds1", "ludb", "iid", "records", "records-tight"])
    parser.add_argument("--models", nargs="*", default=list(MODELS))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2])
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--out", default=None, help="CSV of every fold's scores")
    parser.add_argument("--diagnoses", action="store_true", help="also the LUDB diagnosis table")
    args = parser.parse_args()
    jobs = list(tasks(args.datasets, args.models, args.folds, args.seeds)) if args.datasets else []
    print(f"{len(jobs)} fits: data sets {args.datasets}, models {args.models}", flush=True)
    scored = Parallel(n_jobs=args.n_jobs, verbose=5)(delayed(score_model)(*job) for _, job in jobs)
    rows = [{"data": data, "fold": fold, **row} for ((data, fold), _), row in zip(jobs, scored) if row is not None]
    results = pd.DataFrame(rows)
    if results.empty:
        print("no data set run")
    elif args.out:
        results.to_csv(args.out, index=False)
    pd.set_option("display.width", 200)
    if not results.empty:
        print(summary(results).round(3).to_string())
    if args.diagnoses:
        print("\nLUDB diagnoses, lead II: accuracy per held-out patient (median over folds)")
        print(diagnosis_rows(args.models, args.folds).round(3).to_string())


if __name__ == "__main__":
    main()
