"""ECG latent traversal: heartbeats → β-VAE → which latent moves which factor.
=============================================================================

Fits the estimator's defaults (an MLP β-VAE with a Student-t decoder: β = 1,
a scale learned for every sample and floored at ``var_smoothing=0.05``,
``max_epochs="auto"``, ICA-rotated codes) and, beside it, the seed article's setup (latent 10, lr
5e-4, 50 epochs, capacity C = 25 nats with γ = 4, a unit-variance decoder,
unrotated latents), on the same single heartbeats. Each traversal panel names
the factor its latent follows when their absolute Spearman correlation
reaches 0.7 (:func:`skbvae.metrics.match_factors`). It writes, in ``--out``:

- ``ecg_traversal.png``: the defaults, each component moved from −3 to 3
  around one beat, with the factor it follows;
- ``ecg_traversal_seed.png``: the same for the seed article's setup;
- ``ecg_latent_vs_factor.png``: every component of the defaults against every
  factor, with their mutual information;
- ``ecg_latent_kl.png``, ``ecg_history.png``, ``ecg_reconstructions.png``: KL
  per latent, training curves and reconstructions of the defaults.

By default the beats are synthetic (:func:`skbvae.datasets.make_heartbeats`),
whose factors are known. ``--wfdb PATH`` uses real WFDB records instead (a
record, a folder or a PTB-style database root); their factors are then the
beat features measured on the record (heart rate, R amplitude, QRS duration,
ST level, T wave, PR and QT intervals: ``load_wfdb_heartbeats(..., features=True)``;
each scored on the beats where it was measured), and the figures are drawn in
seconds from R and mV (``as_frame=True``).

.. code-block:: bash

    python examples/plot_ecg_traversal.py [--wfdb PATH] [--n-beats 10000] [--epochs N] [--out examples/output]

The figures of a full run on synthetic beats, and with ``--wfdb`` on MIT-BIH
record 100 (committed in ``docs/_static``; the documentation shows them rather
than running the example):

.. image:: /_static/ecg_traversal.png
   :width: 100%

.. image:: /_static/ecg_traversal_seed.png
   :width: 100%

.. image:: /_static/ecg_latent_vs_factor.png
   :width: 100%

.. image:: /_static/mitbih_latent_vs_features.png
   :width: 100%

.. image:: /_static/ecg_history.png
   :width: 100%
"""

import argparse
import time as clock
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import warnings  # noqa: E402


from skbvae import BetaVAETransformer  # noqa: E402
from skbvae.datasets import make_heartbeats  # noqa: E402
from skbvae.metrics import FOLLOWS_THRESHOLD, match_factors, mutual_info_gap  # noqa: E402
from skbvae.plotting import (  # noqa: E402
    plot_history,
    plot_latent_kl,
    plot_latent_vs_factor,
    plot_reconstructions,
    plot_traversal,
)

#: The seed article's setup: everything that differs from the defaults.
SEED_SETUP = dict(beta=4.0, capacity=25.0, max_epochs=50, rotation=None, decoder_variance="fixed")
#: Measured features that name the components of real beats (QTc is QT divided by a function of the rate).
MEASURED = ["heart_rate", "r_amplitude", "qrs_duration", "st_level", "t_amplitude", "pr_interval", "qt_interval"]


def load_beats(args):
    """Beats and their factors: generated, or measured on real records."""
    if args.wfdb is None:
        return make_heartbeats(args.n_beats, random_state=0)
    from skbvae.datasets import load_wfdb_heartbeats

    # errors="warn": a folder may hold records without lead II or without ECG; they are skipped, named.
    X, meta = load_wfdb_heartbeats(args.wfdb, features=True, errors="warn", as_frame=True)
    factors = meta[MEASURED]
    return X, factors.loc[:, factors.notna().mean() >= 0.5]  # a feature the record hardly shows is left out


def describe(name, vae, X, factors):
    """Print and return, per output column, the factor it follows (|ρ| >= FOLLOWS_THRESHOLD) or None."""
    Z = vae.transform(X)
    matches = match_factors(Z, factors)
    with warnings.catch_warnings():  # features not measured on some beats are scored on the others
        warnings.simplefilter("ignore", UserWarning)
        mig = mutual_info_gap(Z, factors)
    print(f"{name}: MIG {mig:.3f}; "
          f"{int(matches['follows'].sum())} of {Z.shape[1]} components follow a factor (|rho| >= {FOLLOWS_THRESHOLD})")
    labels = {}
    for j, row in matches.iterrows():
        verdict = "follows" if row["follows"] else "follows no single factor; closest is"
        print(f"  z{j} {verdict} {row['factor']} (|rho| = {row['abs_spearman']:.2f})")
        labels[j] = f"{row['factor']} |ρ| {row['abs_spearman']:.2f}" if row["follows"] else "no single factor"
    return labels


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wfdb", help="WFDB record, folder or database root (default: synthetic beats)")
    parser.add_argument("--n-beats", type=int, default=10_000, help="synthetic beats to generate")
    parser.add_argument("--epochs", type=int, default=None,
                        help="epochs of both fits, for a quick look (default: 'auto' and the seed's 50)")
    parser.add_argument("--out", type=Path, default=Path("examples/output"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    X, factors = load_beats(args)
    print(f"{len(X)} beats of {X.shape[1]} samples; factors: {', '.join(factors.columns)}")
    start = clock.perf_counter()
    quick = {} if args.epochs is None else {"max_epochs": args.epochs}
    vae = BetaVAETransformer(random_state=0, verbose=1, **quick).fit(X)  # verbose=1: progress while it trains
    print(f"defaults fitted in {clock.perf_counter() - start:.1f} s")
    start = clock.perf_counter()
    seed = BetaVAETransformer(random_state=0, verbose=1, **{**SEED_SETUP, **quick}).fit(X)
    print(f"seed article's setup fitted in {clock.perf_counter() - start:.1f} s")

    # make_heartbeats' beats are at 125 Hz from 0.25 s before R, in mV; the loader's frame says so itself.
    axes = {} if args.wfdb else dict(fs=125.0, start=-0.25, units="mV")
    first = X.iloc[0] if hasattr(X, "iloc") else X[0]
    for model, name, file in ((vae, "defaults", "ecg_traversal.png"),
                              (seed, "seed article's setup (β 4, C 25, 50 epochs)", "ecg_traversal_seed.png")):
        labels = describe(name, model, X, factors)
        fig = plot_traversal(model, first, labels=labels, **axes)
        fig.suptitle(f"{name}: each panel moves one latent from -3 to 3 (input dashed); "
                     f"factor named where |Spearman ρ| ≥ {FOLLOWS_THRESHOLD}", fontsize=10)
        fig.savefig(args.out / file, dpi=110)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        plot_latent_vs_factor(vae, X, factors, max_points=1000).savefig(args.out / "ecg_latent_vs_factor.png", dpi=70)
    plot_latent_kl(vae).savefig(args.out / "ecg_latent_kl.png", dpi=110)
    plot_history(vae).savefig(args.out / "ecg_history.png", dpi=110)
    plot_reconstructions(vae, X, **axes).savefig(args.out / "ecg_reconstructions.png", dpi=110)
    print(f"figures written to {args.out}/")


if __name__ == "__main__":
    main()
