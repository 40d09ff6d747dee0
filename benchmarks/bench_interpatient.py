"""Heartbeat classes on patients never seen: MIT-BIH DS1 by leave-patients-out, representations + RR features.

The inter-patient benchmark of de Chazal et al. (2004) trains on the 22
records of DS1 and tests on the 22 of DS2; DS2 is not on this machine, so
this benchmark splits DS1 by patient (``GroupKFold`` over records): each
fold fits the representation and a classifier on some patients' beats and
predicts the AAMI class (N, S, V, F) of other patients' beats. Every beat is
predicted once, when its patient is held out; the pooled predictions are
scored by :func:`skbvae.metrics.aami_scores` (accuracy, Se and +P per class,
κ, jκ), and each fold's jκ gives the spread.

Every representation is given the same six RR features (previous and next
RR, the mean of the 10 around, the first two over the record's mean, and
their ratio), and feeds a class-balanced ``LogisticRegression`` on
standardised columns, as a user would try first:

- ``RR only``;
- ``PCA(10)`` and ``raw beat`` (the 187 samples);
- ``measured features`` (:func:`~skbvae.ecg.measure_beat_features`: R,
  QRS, ST, T, PR; missing ones imputed, with indicators);
- ``codes``: :class:`~skbvae.BetaVAETransformer` fitted unsupervised on the
  training patients' beats (defaults, and other settings named in the row);
- ``... rel. patient``: every beat's representation minus the median over
  its own patient's beats (unlabelled beats of the test patient are there in
  every real use: a monitor has the patient's recording);
- ``... warm start``: the codes of a model adapted on the test patients'
  unlabelled beats (``warm_start``, a few epochs), not the labels.

    python benchmarks/bench_interpatient.py [--folds 5] [--only NAME ...] [--seed 0]

About 25 minutes on 2 CPU cores with the default representations.
"""

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skbvae import BetaVAETransformer
from skbvae.datasets import load_wfdb_heartbeats
from skbvae.metrics import aami_scores

MITDB = Path(__file__).resolve().parents[2] / "shared" / "data" / "mitdb"
MEASURED = ["r_amplitude", "qrs_duration", "st_level", "t_amplitude", "pr_interval"]


def rr_columns(meta):
    """The RR features; the first and last beat of a record take the record's mean for a missing interval.

    The six a user tried first (previous and next RR, local mean, the first two over the record's mean,
    their ratio), and the prematurity against the local rhythm (previous and next RR over the local
    mean), the cue of supraventricular beats in the literature (Mar et al., 2011).
    """
    record = meta["rr_record"].to_numpy()
    pre = meta["rr_pre"].fillna(meta["rr_record"]).to_numpy()
    post = meta["rr_post"].fillna(meta["rr_record"]).to_numpy()
    local = meta["rr_local"].fillna(meta["rr_record"]).to_numpy()
    return np.column_stack([pre, post, local, pre / record, post / record, pre / post, pre / local, post / local])


def per_patient_median(Z, groups):
    """Each row's patient median (of its own patient's rows)."""
    frame = pd.DataFrame(Z)
    return frame.groupby(np.asarray(groups)).transform("median").to_numpy()


def measured(meta):
    values = meta[MEASURED].to_numpy(dtype=float)
    missing = np.isnan(values)
    medians = np.nanmedian(values, axis=0)
    return np.column_stack([np.where(missing, medians, values), missing.astype(float)])


class Representation:
    """How one row of the table turns beats into features: ``fit(train) -> transform(any)``."""

    def __init__(self, name, make, relative=False, adapt_epochs=0, with_measured=False, groups=False,
                 input_relative=False, with_score=False):
        self.name, self.make, self.relative = name, make, relative
        self.adapt_epochs, self.with_measured, self.groups = adapt_epochs, with_measured, groups
        self.input_relative, self.with_score = input_relative, with_score

    def features(self, X_train, meta_train, X_test, meta_test, seed):
        start = time.perf_counter()
        if self.input_relative:
            # Each beat minus its own patient's median beat (the patient's unlabelled beats, known at test).
            X_train = X_train - per_patient_median(X_train, meta_train["record"])
            X_test = X_test - per_patient_median(X_test, meta_test["record"])
        if self.make is None:
            train, test = np.empty((len(X_train), 0)), np.empty((len(X_test), 0))
        else:
            model = clone(self.make(seed))
            if self.groups:
                model.fit(X_train, groups=meta_train["record"].to_numpy())
            else:
                model.fit(X_train)
            train = model.transform(X_train)
            if self.adapt_epochs:
                # Unsupervised adaptation to the new patients' own beats (no labels): continue training.
                model.set_params(warm_start=True, max_epochs=self.adapt_epochs).fit(X_test)
                train = model.transform(X_train)
            test = model.transform(X_test)
            if self.with_score:
                # How unusual each beat is for the model (ELBO, nats), against its patient's median.
                scores = [model.score_samples(X)[:, None] for X in (X_train, X_test)]
                scores = [s - per_patient_median(s, m["record"]) for s, m in zip(scores, (meta_train, meta_test))]
                train, test = np.hstack([train, scores[0]]), np.hstack([test, scores[1]])
        if self.relative:
            train = train - per_patient_median(train, meta_train["record"])
            test = test - per_patient_median(test, meta_test["record"])
        if self.with_measured:
            train, test = np.hstack([train, measured(meta_train)]), np.hstack([test, measured(meta_test)])
        train = np.hstack([train, rr_columns(meta_train)])
        test = np.hstack([test, rr_columns(meta_test)])
        return train, test, time.perf_counter() - start


def _identity(seed):
    from sklearn.preprocessing import FunctionTransformer

    return FunctionTransformer()


def _pca(seed):
    return PCA(10, random_state=seed)


def _vae(**params):
    return lambda seed: BetaVAETransformer(random_state=seed, **params)


REPRESENTATIONS = [
    Representation("RR only", None),
    Representation("PCA(10)", _pca),
    Representation("raw beat", _identity),
    Representation("measured features", None, with_measured=True),
    Representation("codes (defaults)", _vae()),
    Representation("codes (defaults), groups=record", _vae(), groups=True),
    Representation("PCA(10) rel. patient", _pca, relative=True),
    Representation("raw beat rel. patient", _identity, relative=True),
    Representation("codes (defaults) rel. patient", _vae(), relative=True),
    Representation("codes (defaults) rel. patient + measured", _vae(), relative=True, with_measured=True),
    Representation("codes (defaults), warm start 5 epochs, rel. patient", _vae(), relative=True, adapt_epochs=5),
    Representation("codes (rotation=None) rel. patient", _vae(rotation=None), relative=True),
    Representation("codes (latent 20, rotation=None) rel. patient", _vae(latent_dim=20, rotation=None),
                   relative=True),
    Representation("codes (fixed variance, β 0.25) rel. patient", _vae(decoder_variance="fixed"), relative=True),
    Representation("PCA(10) of beats rel. patient", _pca, input_relative=True),
    Representation("codes of beats rel. patient", _vae(), input_relative=True),
    Representation("codes of beats rel. patient, rotation=None", _vae(rotation=None), input_relative=True),
    Representation("codes rel. patient + ELBO rel. patient", _vae(), relative=True, with_score=True),
    Representation("codes of beats rel. patient + ELBO", _vae(), input_relative=True, with_score=True),
]


def classifier():
    return make_pipeline(StandardScaler(), LogisticRegression(class_weight="balanced", max_iter=2000))


def run(representation, X, meta, folds, seed):
    y = meta["aami"].to_numpy()
    predicted = np.empty(len(y), dtype=object)
    fold_jk, seconds = [], 0.0
    for train, test in GroupKFold(folds).split(X, y, groups=meta["record"]):
        # Q beats (8 in DS1) are neither learned nor scored, as in the literature.
        train = train[y[train] != "Q"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            F_train, F_test, took = representation.features(X[train], meta.iloc[train], X[test], meta.iloc[test],
                                                            seed)
            model = classifier().fit(F_train, y[train])
        seconds += took
        predicted[test] = model.predict(F_test)
        fold_jk.append(aami_scores(y[test], predicted[test])["jk"])
    scores = aami_scores(y, predicted)
    return {"representation": representation.name, "accuracy": scores["accuracy"], "jk": scores["jk"],
            "jk fold median": np.median(fold_jk), "jk fold IQR": np.subtract(*np.percentile(fold_jk, [75, 25])),
            "kappa": scores["kappa"], "Se V": scores["Se_V"], "+P V": scores["+P_V"], "Se S": scores["Se_S"],
            "+P S": scores["+P_S"], "Se F": scores["Se_F"], "mean Se": scores["mean_Se"],
            "representation s": seconds}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", nargs="*", help="names of the representations to run (default: all)")
    parser.add_argument("--data", default=str(MITDB))
    parser.add_argument("--window", type=float, nargs=2, default=(0.25, 1.25),
                        help="seconds before and after R of each beat (the loader's default: 0.25 1.25)")
    args = parser.parse_args()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        X, meta = load_wfdb_heartbeats(args.data, annotations=True, features=True, window=tuple(args.window),
                                       n_jobs=2)
    X = X.astype(np.float32)
    print(f"DS1: {len(X)} beats of {meta['record'].nunique()} records, lead {meta['lead'].iloc[0]}, window "
          f"{args.window[0]} s before R to {args.window[1]} s after; classes "
          f"{meta['aami'].value_counts().to_dict()}; GroupKFold({args.folds}) by record, seed {args.seed}", flush=True)
    rows = []
    for representation in REPRESENTATIONS:
        if args.only and representation.name not in args.only:
            continue
        rows.append(run(representation, X, meta, args.folds, args.seed))
        print(pd.DataFrame([rows[-1]]).round(3).to_string(index=False), flush=True)
    print()
    print(pd.DataFrame(rows).round(3).to_string(index=False))


if __name__ == "__main__":
    main()
