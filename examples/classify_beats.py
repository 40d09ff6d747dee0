"""Heartbeat classes on patients never seen: a β-VAE on the beat, RR features beside it, GroupKFold by patient.
=============================================================================================================

The code to copy for the inter-patient task (de Chazal et al., 2004): label each beat N
(normal), S (supraventricular ectopic), V (ventricular ectopic) or F (fusion), training on
some patients and scoring on others. Beats come from the annotated records of a folder
(``--wfdb PATH``, e.g. MIT-BIH's DS1: ``load_wfdb_heartbeats(..., annotations=True)`` gives
each beat's AAMI class and its RR intervals) or, without it, from synthetic patients drawn by
:func:`~skbvae.datasets.make_ecg` (rhythms with premature ventricular and atrial beats) and cut
from the arrays with :func:`~skbvae.ecg.cut_heartbeats`.

The model is one scikit-learn ``Pipeline`` of package parts, without a hand-written groupby: a
``ColumnTransformer`` sends the beat's samples and its patient to
:class:`~skbvae.ecg.PatientRelative` (each beat minus its own patient's median beat: the
unlabelled beats of a patient are there in every real use, and what makes a beat ectopic is how
it differs from that patient's usual beat) and on to :class:`~skbvae.BetaVAETransformer`
(``--representation pca``: PCA(10) at equal preprocessing), and the loader's RR columns to
:class:`~skbvae.ecg.RRFeatures` (intervals and their ratios to the patient's own rhythm); then
a class-balanced logistic regression. Each record gives two leads (``--leads 2``, the default:
MLII and the record's other lead, V1 in most MIT-BIH records, as ``n_channels=2``; V1 shows
supraventricular and ventricular beats better than MLII), or MLII alone (``--leads 1``).
``GroupKFold`` by patient keeps every patient's beats on
one side of each split; ``--train PATH --test PATH`` fits on every annotated record of one folder
and scores another (the published protocol: MIT-BIH DS1 → DS2). Prints progress, the AAMI scores
(:func:`skbvae.metrics.aami_scores`) and draws the confusion matrix with each class's
sensitivity (Se) and positive predictivity (+P).

.. code-block:: bash

    python examples/classify_beats.py [--wfdb PATH | --train PATH --test PATH] [--representation vae|pca]
                                      [--classifier logistic|hgb] [--leads 2|1] [--epochs auto] [--folds 5]
                                      [--out examples/output]

The figure of a full run on MIT-BIH DS1 (committed in ``docs/_static``):

.. image:: /_static/classify_beats.png
   :width: 100%
"""

import argparse
import time
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.ensemble import HistGradientBoostingClassifier  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.model_selection import GroupKFold  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from skbvae import BetaVAETransformer  # noqa: E402
from skbvae.datasets import load_wfdb_heartbeats, make_ecg  # noqa: E402
from skbvae.ecg import RR_INPUTS, PatientRelative, RRFeatures, cut_heartbeats  # noqa: E402
from skbvae.metrics import AAMI_SCORED, aami_scores  # noqa: E402

#: Seconds of each beat around R: the beat itself, not the next one (its timing is in the RR features).
WINDOW = (0.25, 0.45)


def synthetic_patients(n_patients, seconds, seed):
    """Beats of synthetic patients: each its own rate, amplitude and rhythm (N, V and S beats)."""
    rng = np.random.default_rng(seed)
    rhythms = ["bigeminy", "atrial_premature", "ventricular_runs", "trigeminy", "escape"]
    beats, metas = [], []
    for patient in range(n_patients):
        ecg, r_peaks, kinds = make_ecg(seconds, fs=250, heart_rate=rng.uniform(55, 95),
                                       amplitude=rng.uniform(0.6, 1.6), rhythm=rhythms[patient % len(rhythms)],
                                       t_amplitude=rng.uniform(0.05, 0.4), random_state=seed + patient,
                                       return_kinds=True)
        X, meta = cut_heartbeats(ecg, 250, r_peaks, symbols=kinds, window=WINDOW)
        beats.append(X)
        metas.append(meta.assign(record=f"patient {patient}"))
    return np.vstack(beats), pd.concat(metas, ignore_index=True)


def mlii_and_other_lead(names):
    """MLII (or the record's first lead) and the record's other lead: V1 in most MIT-BIH records, V2, V4 or V5
    in a few (114 has V5 first). The loader asks this of each record."""
    first = "MLII" if "MLII" in names else names[0]
    return [first, *[name for name in names if name != first][:1]]


def two_lead_beats(path):
    """Every annotated record's beats on its two leads, cut at the R peaks of the first."""
    started = time.perf_counter()
    with warnings.catch_warnings():  # the loader says which seconds it dropped; not needed here
        warnings.simplefilter("ignore")
        X, meta = load_wfdb_heartbeats(path, lead=mlii_and_other_lead, annotations=True, window=WINDOW, n_jobs=2,
                                       verbose=1)
    one_lead = meta.loc[~meta["lead"].str.contains(","), ["record", "lead"]].drop_duplicates()
    if len(one_lead):
        record, lead = one_lead.iloc[0]
        raise SystemExit(f"{record}: one lead only ({lead}); run with --leads 1")
    print(f"loaded {meta['record'].nunique()} records, {time.perf_counter() - started:.0f} s", flush=True)
    return X, meta


def load(path, args):
    """Annotated beats (AAMI classes N, S, V, F) of a folder of records, or of synthetic patients."""
    if path and args.leads == 2:
        X, meta = two_lead_beats(path)
        source = f"{path}, leads {', '.join(sorted(meta['lead'].unique()))}"
    elif path:
        with warnings.catch_warnings():  # the loader says which seconds it dropped; not needed here
            warnings.simplefilter("ignore")
            X, meta = load_wfdb_heartbeats(path, annotations=True, window=WINDOW, n_jobs=2, verbose=1)
        source = f"{path}, lead {meta['lead'].iloc[0]}"
    else:
        X, meta = synthetic_patients(args.patients, args.seconds, seed=0)
        source = f"{args.patients} synthetic patients (make_ecg)"
    keep = meta["aami"].isin(AAMI_SCORED).to_numpy()  # Q beats (paced, unclassifiable) are left out
    return X[keep], meta[keep].reset_index(drop=True), source


def as_table(X, meta):
    """The beat's samples, its patient and its RR columns: what the model's ColumnTransformer picks from."""
    samples = pd.DataFrame(X, columns=[f"t{k:03d}" for k in range(X.shape[1])])
    return pd.concat([samples, meta[["record", *RR_INPUTS]]], axis=1)


def make_model(samples, representation, epochs, seed=0, classifier="logistic", leads=1):
    """Beats relative to their patient's median beat → a representation, RR features beside it, then a classifier."""
    if representation == "vae":
        beat_model = BetaVAETransformer(max_epochs=epochs, random_state=seed, verbose=1, n_channels=leads)
    else:
        beat_model = PCA(10 * leads, random_state=seed)
    if classifier == "hgb":  # trees need no scaling
        last = [HistGradientBoostingClassifier(class_weight="balanced", max_iter=200, random_state=seed)]
    else:
        last = [StandardScaler(), LogisticRegression(class_weight="balanced", max_iter=2000)]
    return make_pipeline(
        ColumnTransformer([("beat", make_pipeline(PatientRelative(by="record"), beat_model), [*samples, "record"]),
                           ("rr", RRFeatures(), list(RR_INPUTS))]),
        *last,
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wfdb", help="folder of annotated records (.atr), e.g. MIT-BIH DS1: GroupKFold within it")
    parser.add_argument("--train", help="folder of annotated records to fit on (with --test: the published protocol)")
    parser.add_argument("--test", help="folder of annotated records of other patients to score")
    parser.add_argument("--representation", choices=["vae", "pca"], default="vae",
                        help="what models the beat (at equal preprocessing): the β-VAE or PCA(10)")
    parser.add_argument("--patients", type=int, default=10, help="synthetic patients (without --wfdb)")
    parser.add_argument("--seconds", type=float, default=120.0, help="seconds per synthetic patient")
    parser.add_argument("--epochs", default="auto", type=lambda v: v if v == "auto" else int(v))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0, help="random_state of the β-VAE")
    parser.add_argument("--classifier", choices=["logistic", "hgb"], default="logistic",
                        help="class-balanced logistic regression, or gradient-boosted trees (HistGradientBoosting)")
    parser.add_argument("--leads", type=int, choices=[1, 2], default=2,
                        help="leads of each annotated record: 2 (MLII and the other one, n_channels=2) or 1 (MLII); "
                             "synthetic patients have one")
    parser.add_argument("--out", type=Path, default=Path("examples/output"))
    args = parser.parse_args()
    if not (args.wfdb or args.train):
        args.leads = 1  # make_ecg draws one lead
    args.out.mkdir(parents=True, exist_ok=True)
    if bool(args.train) != bool(args.test):
        parser.error("--train and --test go together (fit on one folder, score on the other)")

    started = time.perf_counter()
    if args.train:
        X_train, meta_train, train_source = load(args.train, args)
        X, meta, test_source = load(args.test, args)
        samples = [f"t{k:03d}" for k in range(X.shape[1])]
        model = make_model(samples, args.representation, args.epochs, args.seed, args.classifier, args.leads)
        model.fit(as_table(X_train, meta_train), meta_train["aami"])
        predicted = model.predict(as_table(X, meta))
        source = (f"fit on {len(X_train)} beats of {meta_train['record'].nunique()} patients ({train_source}), "
                  f"scored on {test_source}")
        protocol = "train one folder, test another"
    else:
        X, meta, source = load(args.wfdb, args)
        samples = [f"t{k:03d}" for k in range(X.shape[1])]
        model = make_model(samples, args.representation, args.epochs, args.seed, args.classifier, args.leads)
        data, patients = as_table(X, meta), meta["record"]
        folds = min(args.folds, patients.nunique())
        # cross_val_predict by hand, to say how far it is: each fold fits a β-VAE (about a minute on DS1).
        predicted = np.empty(len(meta), dtype=object)
        for fold, (train, test) in enumerate(GroupKFold(folds).split(data, groups=patients), start=1):
            fitted = clone(model).fit(data.iloc[train], meta["aami"].iloc[train])
            predicted[test] = fitted.predict(data.iloc[test])
            print(f"fold {fold}/{folds}: {patients.iloc[test].nunique()} patients scored, "
                  f"{time.perf_counter() - started:.0f} s so far", flush=True)
        protocol = f"GroupKFold({folds}) by patient"
    scores = aami_scores(meta["aami"], predicted)
    counts = meta["aami"].value_counts().reindex(list(AAMI_SCORED), fill_value=0)
    print(f"{len(X)} beats of {meta['record'].nunique()} patients ({source}); classes {counts.to_dict()}; "
          f"{protocol}; {args.representation} codes; {time.perf_counter() - started:.0f} s")
    print(f"accuracy {scores['accuracy']:.3f}, kappa {scores['kappa']:.3f}, jk index {scores['jk']:.3f}")
    for name in AAMI_SCORED:
        print(f"  {name}: Se {scores['Se_' + name]:.3f}, +P {scores['+P_' + name]:.3f}")

    fig, ax = plt.subplots(figsize=(5.6, 4.6), constrained_layout=True)
    matrix = scores["confusion"]
    shares = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    for i in range(len(AAMI_SCORED)):
        for j in range(len(AAMI_SCORED)):
            ax.text(j, i, f"{matrix[i, j]}", ha="center", va="center", fontsize=9,
                    color="white" if shares[i, j] > 0.5 else "black")
    ax.set_xticks(range(4), [f"{c}\n+P {scores['+P_' + c]:.2f}" for c in AAMI_SCORED])
    ax.set_yticks(range(4), [f"{c}  Se {scores['Se_' + c]:.2f}" for c in AAMI_SCORED])
    ax.set_xlabel("predicted class")
    ax.set_ylabel("cardiologists' class")
    what = "β-VAE" if args.representation == "vae" else f"PCA({10 * args.leads})"
    leads = "two leads" if args.leads == 2 else "one lead"
    ax.set_title(f"Beats of patients never seen in fit: jk {scores['jk']:.3f}, accuracy {scores['accuracy']:.3f}\n"
                 f"{what} codes of beats relative to the patient ({leads}) + RR features", fontsize=9)
    path = args.out / "classify_beats.png"
    fig.savefig(path, dpi=110)
    print(f"figure written to {path}")


if __name__ == "__main__":
    main()
