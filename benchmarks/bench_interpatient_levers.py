"""Levers of the inter-patient heartbeat recipe on MIT-BIH DS1: leads, classifier, ELBO column, named factors; folds x seeds.

Issue 37 asks which levers lift the jκ of the recipe of
``examples/classify_beats.py`` (each beat relative to its patient's median
beat, a representation of it, the RR features of :class:`~skbvae.ecg.RRFeatures`,
a class-balanced classifier) on patients never seen, and whether the β-VAE
earns its place over PCA at equal preprocessing. Every configuration is
scored by ``GroupKFold(5)`` over the 22 DS1 records, all beats predicted
once, pooled jκ (:func:`skbvae.metrics.aami_scores`) and the median over
folds. One representation is fitted per fold and shared by the classifiers:

- representation: ``pca`` (PCA(10), or 20 components on two leads),
  ``pca-scaled`` (the same on standardised samples, as the β-VAE's default
  ``scaling="standard"`` sees them: equal preprocessing), ``vae``
  (:class:`~skbvae.BetaVAETransformer` defaults), ``vae-qrs`` / ``vae-all``
  (the same with its first latents named after the measured QRS duration,
  or after R amplitude, QRS, ST, T and PR: ``fit(X, factors=...)``, the
  codes then computed from the beat alone);
- ``--leads 1`` (MLII) or ``2`` (MLII and the record's other lead, as
  ``n_channels=2``);
- classifiers: a class-balanced logistic regression on standardised columns
  (``log``), class-balanced ``HistGradientBoostingClassifier`` (``hgb``), each
  with and without the model's own per-beat score beside the codes
  (``+score``: the β-VAE's ELBO, PCA's negative squared reconstruction error);
  ``log, codes rel.``: the logistic regression on each code minus its
  patient's median code (per-patient normalisation of the codes).

    python benchmarks/bench_interpatient_levers.py --representation vae --leads 1 --seeds 0 1 2

About 3-4 minutes per β-VAE seed and lead setting on 2 cores; PCA ~1 minute.
The beats are loaded once and cached (``--cache``).
"""

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skbvae import BetaVAETransformer
from skbvae.datasets import load_wfdb_heartbeats
from skbvae.ecg import RR_INPUTS, PatientRelative, RRFeatures
from skbvae.metrics import AAMI_SCORED, aami_scores

MITDB = Path(__file__).resolve().parents[2] / "shared" / "data" / "mitdb"
WINDOW = (0.25, 0.45)
MEASURED = ["r_amplitude", "qrs_duration", "st_level", "t_amplitude", "pr_interval"]
NAMED = {"vae-qrs": ["qrs_duration"], "vae-all": MEASURED}
CLASSIFIERS = ["log", "log+score", "hgb", "hgb+score", "log, codes rel."]


def load(root, cache):
    """Two-lead beats of every annotated record (MLII first; 114's V5 comes second), AAMI classes N/S/V/F."""
    if cache.is_file():
        return pd.read_pickle(cache)
    with warnings.catch_warnings():  # which seconds the loader dropped is not needed here
        warnings.simplefilter("ignore")
        X, meta = load_wfdb_heartbeats(root, lead=lambda names: ["MLII", next(n for n in names if n != "MLII")],
                                       annotations=True, window=WINDOW, features=True, n_jobs=2)
    keep = meta["aami"].isin(AAMI_SCORED).to_numpy()
    data = X[keep], meta[keep].reset_index(drop=True)
    pd.to_pickle(data, cache)
    return data


def classifier(name, seed):
    if name.startswith("log"):
        return make_pipeline(StandardScaler(), LogisticRegression(class_weight="balanced", max_iter=2000))
    return HistGradientBoostingClassifier(class_weight="balanced", max_iter=200, random_state=seed)


def codes_and_scores(representation, leads, seed, train, test, factors):
    """The representation's codes and per-beat score (ELBO; PCA: minus the squared reconstruction error)."""
    if representation.startswith("pca"):
        # "pca-scaled": each sample standardised first, as the β-VAE's default scaling="standard" does.
        model = make_pipeline(*([StandardScaler()] if representation == "pca-scaled" else []),
                              PCA(10 * leads, random_state=0)).fit(train)
        codes = [model.transform(part) for part in (train, test)]
        scores = [-((part - model.inverse_transform(z)) ** 2).sum(axis=1) for part, z in zip((train, test), codes)]
        return codes, scores
    model = BetaVAETransformer(random_state=seed, n_channels=leads)
    model.fit(train, factors=factors[NAMED[representation]] if representation in NAMED else None)
    return [model.transform(part) for part in (train, test)], [model.score_samples(part) for part in (train, test)]


def run(X, meta, representation, leads, seed):
    half = X.shape[1] // 2
    X = X if leads == 2 else X[:, :half]
    y, groups = meta["aami"].to_numpy(), meta["record"].to_numpy()
    folds = list(GroupKFold(5).split(X, groups=groups))
    predicted = {name: np.empty(len(y), dtype=object) for name in CLASSIFIERS}
    started = time.perf_counter()
    for k, (train, test) in enumerate(folds, start=1):
        relative = [PatientRelative().fit_transform(X[part], groups=groups[part]) for part in (train, test)]
        (z_train, z_test), (s_train, s_test) = codes_and_scores(
            representation, leads, seed, *relative, meta.iloc[train].reset_index(drop=True))
        rr = RRFeatures().fit(meta.iloc[train][list(RR_INPUTS)])
        r_train, r_test = (rr.transform(meta.iloc[part][list(RR_INPUTS)]) for part in (train, test))
        # "codes rel.": each code minus its patient's median code as well (per-patient normalisation of codes).
        for name in CLASSIFIERS:
            extra = name.endswith("+score")
            if name.endswith("codes rel."):
                a = np.column_stack([PatientRelative().fit_transform(z_train, groups=groups[train]), r_train])
                b = np.column_stack([PatientRelative().fit_transform(z_test, groups=groups[test]), r_test])
                predicted[name][test] = classifier(name, seed).fit(a, y[train]).predict(b)
                continue
            a = np.column_stack([z_train, r_train] + ([s_train] if extra else []))
            b = np.column_stack([z_test, r_test] + ([s_test] if extra else []))
            predicted[name][test] = classifier(name, seed).fit(a, y[train]).predict(b)
        print(f"  fold {k}/5, {time.perf_counter() - started:.0f} s", flush=True)
    rows = []
    for name, p in predicted.items():
        scores = aami_scores(y, p)
        per_fold = [aami_scores(y[test], p[test])["jk"] for _, test in folds]
        rows.append({"representation": representation, "leads": leads, "seed": seed, "classifier": name,
                     "jk": scores["jk"], "jk fold median": float(np.median(per_fold)), "accuracy": scores["accuracy"],
                     **{key: scores[key] for key in ("Se_V", "+P_V", "Se_S", "+P_S")}})
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mitdb", default=str(MITDB))
    parser.add_argument("--representation", nargs="+", default=["pca", "vae"], choices=["pca", "pca-scaled", "vae", *NAMED])
    parser.add_argument("--leads", nargs="+", type=int, default=[1], choices=[1, 2])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--cache", default="/tmp/skbvae_ds1_two_leads.pkl")
    parser.add_argument("--json", default=None, help="append the rows to this JSON-lines file")
    args = parser.parse_args()
    X, meta = load(Path(args.mitdb), Path(args.cache))
    print(f"DS1: {len(X)} beats of {meta['record'].nunique()} patients, {meta['aami'].value_counts().to_dict()}")
    rows = []
    for representation in args.representation:
        for leads in args.leads:
            for seed in ([0] if representation.startswith("pca") else args.seeds):
                print(f"{representation}, {leads} lead(s), seed {seed}", flush=True)
                new = run(X, meta, representation, leads, seed)
                rows += new
                if args.json:
                    with open(args.json, "a") as out:
                        out.writelines(json.dumps(row) + "\n" for row in new)
    print(pd.DataFrame(rows).round(3).to_markdown(index=False))


if __name__ == "__main__":
    main()
