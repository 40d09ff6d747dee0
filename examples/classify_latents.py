"""Latent features for classification: infarction-like beats vs normal, against PCA, FastICA and raw signals.
==========================================================================================================

Labels a synthetic beat "infarction-like" when its ST segment is elevated by more
than 0.1 mV (the ST-shift factor of :func:`skbvae.datasets.make_heartbeats`), or
uses PTB's MI/healthy labels with ``--wfdb PATH`` (split by patient). The β-VAE
(default settings: a Student-t decoder with a learned scale, β 1,
``max_epochs="auto"``, ICA rotation of the active latents) gives ``k`` features, beside the previous
defaults' fixed-variance decoder (β 0.25); PCA and FastICA get the same ``k``
components. Each
feeds the same logistic regression, and 5-fold cross-validated accuracy and ROC
AUC are compared with the raw 187-sample signal. Writes ``classify_latents.png``.

Measured (4,000 synthetic beats, seed 0, 5 folds; mean ± standard deviation across folds): ROC
AUC 0.981 ± 0.007 (accuracy 0.933) for the defaults' 10 components, 0.927 ± 0.009 (0.864) for the
previous defaults' fixed-variance decoder, 0.965 ± 0.006 (0.906) for PCA(10) and FastICA(10) and
0.997 for the raw signal. The label is a threshold on a factor that acts linearly on the signal,
where PCA is at home; the default β-VAE beats it. The figure shows each fold's score as a dot.

.. code-block:: bash

    python examples/classify_latents.py [--wfdb PATH] [--epochs auto] [--out examples/output]

The figures of a full run (committed in ``docs/_static``; the documentation shows them
rather than running the example):

.. image:: /_static/classify_latents.png
   :width: 100%
"""

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.decomposition import PCA, FastICA  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import GroupKFold, StratifiedKFold, cross_validate  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from skbvae import BetaVAETransformer  # noqa: E402
from skbvae.datasets import make_heartbeats  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wfdb", help="PTB-style WFDB database root (labels from 'Reason for admission')")
    parser.add_argument("--n-beats", type=int, default=4000)
    parser.add_argument("--epochs", default="auto", type=lambda v: v if v == "auto" else int(v))
    parser.add_argument("--out", type=Path, default=Path("examples/output"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    if args.wfdb:
        from skbvae.datasets import load_wfdb_heartbeats

        X, meta = load_wfdb_heartbeats(args.wfdb, errors="warn")
        keep = meta["label"].notna().to_numpy()
        X, y, groups = X[keep], meta["label"][keep].astype(int).to_numpy(), meta["patient"][keep].to_numpy()
        cv = GroupKFold(n_splits=min(5, len(np.unique(groups))))
    else:
        X, factors = make_heartbeats(args.n_beats, random_state=0)
        y, groups = (factors["st_shift"] > 0.1).astype(int).to_numpy(), None
        cv = StratifiedKFold(5, shuffle=True, random_state=0)
    print(f"{len(X)} beats, {y.mean():.0%} positive")

    # The defaults: a decoder that learns its variance per timepoint, so it no
    # longer spends latents on what it cannot fit (the next beat's narrow R
    # peak); beside it, the previous defaults' fixed unit-variance decoder.
    vae = BetaVAETransformer(latent_dim=10, max_epochs=args.epochs, random_state=0)
    fixed = BetaVAETransformer(latent_dim=10, max_epochs=args.epochs, decoder_variance="fixed", random_state=0)
    # Width of the rotated code (its active latents), from an unsupervised fit on all
    # beats; the linear baselines get as many components.
    k = vae.fit(X).n_components_
    extractors = {
        f"β-VAE, defaults ({k} components)": vae,
        "β-VAE, fixed variance, β 0.25": fixed,
        f"PCA ({k})": PCA(k),
        # Deflation: the parallel algorithm did not converge in 4 of 5 folds here (and
        # warned each time); for a linear classifier the two span the same codes.
        f"FastICA ({k})": FastICA(k, algorithm="deflation", random_state=0, max_iter=1000),
        "raw signal (187)": "passthrough",
    }
    rows = []
    for name, extractor in extractors.items():
        model = make_pipeline(StandardScaler(), extractor, StandardScaler(), LogisticRegression(max_iter=2000))
        scores = cross_validate(model, X, y, cv=cv, groups=groups, scoring=("accuracy", "roc_auc"))
        rows.append({"features": name, "accuracy": scores["test_accuracy"].mean(),
                     "accuracy sd": scores["test_accuracy"].std(), "ROC AUC": scores["test_roc_auc"].mean(),
                     "ROC AUC sd": scores["test_roc_auc"].std(), "folds": scores["test_roc_auc"]})
    table = pd.DataFrame(rows)
    print(table.drop(columns="folds").to_markdown(index=False, floatfmt=".3f"))

    # Mean ± standard deviation across folds, and each fold's score as a dot.
    fig, ax = plt.subplots(figsize=(6, 3), constrained_layout=True)
    ax.barh(table["features"], table["ROC AUC"], xerr=table["ROC AUC sd"], color="tab:blue", alpha=0.6,
            capsize=3)
    for i, folds in enumerate(table["folds"]):
        ax.plot(folds, np.full(len(folds), i), "o", color="black", ms=3)
    ax.set_xlim(0.5, 1.0)
    ax.set_xlabel("cross-validated ROC AUC")
    ax.set_title("infarction-like vs normal beats")
    fig.savefig(args.out / "classify_latents.png", dpi=110)
    print(f"figure written to {args.out}/")


if __name__ == "__main__":
    main()
