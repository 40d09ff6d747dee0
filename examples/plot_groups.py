"""Training with groups: the beats' records as weak supervision, and which latent follows which factor.
=====================================================================================================

Real heartbeats come in records (patients): every record has its own typical
heart rate, QRS width, T wave..., and its own beat-to-beat spread of each.
Without labels, a VAE cannot tell which basis of its latent space is the
right one (Locatello et al., 2019); the record of each beat is weak
supervision a user already has. ``fit(X, groups=records)`` uses it (each
record gets its own factorised Gaussian prior, iVAE, and the ICA rotation
separates the beats' deviations from their record's mean), and ``transform``
then encodes beats of records never seen in ``fit`` from the signal alone.

This example draws beats in records with known factors
(:func:`skbvae.datasets.make_heartbeats` with ``n_records``), fits the
defaults on 200 records with and without their groups, and shows on 66 other
records the absolute Spearman correlation of every component with every
factor: a disentangled code has one bright cell per row and column. It
writes, in ``--out``:

- ``groups_factors.png``: the two correlation tables side by side, each
  component labelled with the factor it follows (absolute ρ ≥ 0.7);
- ``groups_traversal.png``: the components of the model fitted with groups,
  each moved from −3 to 3 around one beat of an unseen record.

.. code-block:: bash

    python examples/plot_groups.py [--n-records 266] [--epochs N] [--out examples/output]

The figures of a full run (committed in ``docs/_static``):

.. image:: /_static/groups_factors.png
   :width: 100%

.. image:: /_static/groups_traversal.png
   :width: 100%
"""

import argparse
import time as clock
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from skbvae import BetaVAETransformer  # noqa: E402
from skbvae.datasets import make_heartbeats  # noqa: E402
from skbvae.metrics import FOLLOWS_THRESHOLD, match_factors, mutual_info_gap  # noqa: E402
from skbvae.plotting import plot_traversal  # noqa: E402

BEATS_PER_RECORD = 30


def correlation_table(Z, factors):
    """|Spearman ρ| of every component (rows) with every factor (columns)."""
    from scipy.stats import spearmanr

    rho = spearmanr(Z, factors.to_numpy())[0][: Z.shape[1], Z.shape[1]:]
    return np.abs(np.nan_to_num(rho))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-records", type=int, default=266, help="records of 30 beats (3/4 train)")
    parser.add_argument("--epochs", type=int, default=None, help="max_epochs (default: the estimator's 'auto')")
    parser.add_argument("--out", type=Path, default=Path("examples/output"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    X, factors, records = make_heartbeats(BEATS_PER_RECORD * args.n_records, n_records=args.n_records,
                                          random_state=0)
    train = records < int(0.75 * args.n_records)
    print(f"{train.sum()} beats of {len(np.unique(records[train]))} records to fit; "
          f"{(~train).sum()} beats of {len(np.unique(records[~train]))} other records to look at")
    params = dict(random_state=0) if args.epochs is None else dict(max_epochs=args.epochs, random_state=0)
    models = {}
    for name, groups in (("without groups", None), ("with groups (the records)", records[train])):
        start = clock.perf_counter()
        models[name] = BetaVAETransformer(**params).fit(X[train], groups=groups)
        print(f"{name}: fitted in {clock.perf_counter() - start:.1f} s")

    unseen, unseen_factors = X[~train], factors[~train].reset_index(drop=True)
    fig, axes = plt.subplots(1, 2, figsize=(12, 5.2), constrained_layout=True)
    for ax, (name, vae) in zip(axes, models.items()):
        Z = vae.transform(unseen)
        table = correlation_table(Z, unseen_factors)
        matches = match_factors(Z, unseen_factors)
        mig = mutual_info_gap(Z, unseen_factors)
        print(f"{name}: MIG {mig:.3f} on unseen records; {int(matches['follows'].sum())} of {Z.shape[1]} "
              f"components follow a factor (|rho| >= {FOLLOWS_THRESHOLD})")
        image = ax.imshow(table, vmin=0, vmax=1, cmap="viridis", aspect="auto")
        for (i, j), value in np.ndenumerate(table):
            ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=7,
                    color="black" if value > 0.6 else "white")
        labels = [f"z{i} → {m.factor}" if m.follows else f"z{i}" for i, m in enumerate(matches.itertuples())]
        ax.set_yticks(range(len(labels)), labels, fontsize=8)
        ax.set_xticks(range(unseen_factors.shape[1]), unseen_factors.columns, rotation=40, ha="right", fontsize=8)
        ax.set_title(f"{name}\nMIG {mig:.3f}, {int(matches['follows'].sum())} components follow one factor",
                     fontsize=10)
    fig.colorbar(image, ax=axes, shrink=0.8, label="|Spearman ρ| on records never seen in fit")
    fig.savefig(args.out / "groups_factors.png", dpi=110)

    vae = models["with groups (the records)"]
    matches = match_factors(vae.transform(unseen), unseen_factors)
    labels = {i: f"{m.factor} |ρ| {m.abs_spearman:.2f}" if m.follows else "no single factor"
              for i, m in enumerate(matches.itertuples())}
    time = np.arange(X.shape[1]) / 125.0 - 0.25  # beats at 125 Hz from 0.25 s before R
    fig = plot_traversal(vae, unseen[0], labels=labels, time=time, xlabel="time from R (s)", ylabel="mV")
    fig.suptitle("fitted with groups: each panel moves one component from -3 to 3 around a beat of a record "
                 f"never seen in fit; factor named where |Spearman ρ| ≥ {FOLLOWS_THRESHOLD}", fontsize=10)
    fig.savefig(args.out / "groups_traversal.png", dpi=110)
    print(f"figures written to {args.out}/")


if __name__ == "__main__":
    main()
