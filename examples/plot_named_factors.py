"""Named factors: a β-VAE whose first latents are the beat features the package measures, edited in units.
=======================================================================================================

Unsupervised latents cannot be named on real patients (the rotation is not
identifiable). Here the package names them itself: the beat features it measures
(heart rate, R amplitude, QRS duration, ST level, T amplitude, PR and QT intervals)
are passed as ``fit(X, factors=F)``; the first latents are then tied to them and
the free ones kept clear of them. Each panel edits one beat along one factor by
one training standard deviation, up and down, with
``edit(beat, measure=measure_beat_windows, ...)`` (:meth:`~skbvae.BetaVAETransformer.edit`):
the code's step is corrected until the decoded beat measures as asked
(:func:`skbvae.ecg.measure_beat_windows`). The title shows the change asked for, the
change measured on the beat drawn, and what the calibration's step alone gave. An
edit is true only if the decoded beat measures as asked: where the decoder cannot
produce a change, the title says so.

Heart rate is edited by moving the next beat's R, which an MLP decoder draws
as a blur where beats of many rates overlap: ``rate_factor="heart_rate"``
draws the window in a canonical time and lets the heart-rate latent stretch
the interval between the beats (:mod:`skbvae._time_warp`), so the next R moves
as a whole. ``--no-rate-warp`` fits without it (the heart-rate panel then says
"no next R decoded").

By default the beats are synthetic (:func:`skbvae.datasets.make_heartbeats`,
features measured on the windows); ``--wfdb PATH`` fits on real records (e.g.
MIT-BIH DS1; features measured on the continuous record by
``load_wfdb_heartbeats(..., features=True)``) and edits one of their beats.

.. code-block:: bash

    python examples/plot_named_factors.py [--wfdb PATH] [--n-beats 4000] [--epochs N] [--out examples/output]
                                          [--no-rate-warp] [--architecture conv1d --decoder-variance fixed]

``--architecture conv1d --decoder-variance fixed`` fits a convolutional
decoder with a fixed variance, another way to draw the next R where the
heart-rate code puts it, at about 16 times the fit time on a CPU
(``benchmarks/README.md``).

The figure of a run on MIT-BIH DS1 (committed in ``docs/_static``):

.. image:: /_static/named_factors.png
   :width: 100%
"""

import argparse
import warnings
from functools import partial
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from skbvae import BetaVAETransformer  # noqa: E402
from skbvae.datasets import load_wfdb_heartbeats, make_heartbeats  # noqa: E402
from skbvae.ecg import measure_beat_windows  # noqa: E402

FACTORS = ["heart_rate", "r_amplitude", "qrs_duration", "st_level", "t_amplitude", "pr_interval", "qt_interval"]
#: What each panel edits, and how its change is shown (seconds as ms).
EDITED = {"qt_interval": 1000.0, "qrs_duration": 1000.0, "st_level": 1.0, "t_amplitude": 1.0, "r_amplitude": 1.0,
          "heart_rate": 1.0}
SHOWN_UNITS = {"s": "ms", "mV": "mV", "bpm": "bpm"}
WINDOW = dict(fs=125.0, start=-0.25)


def load(args):
    if args.wfdb:
        with warnings.catch_warnings():  # the loader names the seconds it dropped; not needed here
            warnings.simplefilter("ignore")
            X, meta = load_wfdb_heartbeats(args.wfdb, features=True, n_jobs=2, verbose=1)
        factors = meta[FACTORS]
        factors.attrs["units"] = {name: unit for name, unit in zip(FACTORS, ["bpm", "mV", "s", "mV", "mV", "s", "s"])}
        return X, factors, f"{args.wfdb}, lead {meta['lead'].iloc[0]}"
    X, _ = make_heartbeats(args.n_beats, random_state=0)
    factors = measure_beat_windows(X, **WINDOW)[FACTORS]
    factors.attrs["units"] = measure_beat_windows(X[:1], **WINDOW).attrs["units"]
    return X, factors, "synthetic beats (make_heartbeats)"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wfdb", help="folder of WFDB records (default: synthetic beats)")
    parser.add_argument("--n-beats", type=int, default=4000, help="synthetic beats to generate")
    parser.add_argument("--epochs", default="auto", type=lambda v: v if v == "auto" else int(v))
    parser.add_argument("--out", type=Path, default=Path("examples/output"))
    parser.add_argument("--architecture", default="mlp", choices=["mlp", "conv1d", "broadcast"])
    parser.add_argument("--decoder-variance", default="auto", help='"auto" (learned) or "fixed"')
    parser.add_argument("--no-rate-warp", action="store_true", help="fit without rate_factor='heart_rate'")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    X, factors, source = load(args)
    print(f"{len(X)} beats ({source}); factors {', '.join(FACTORS)}")
    vae = BetaVAETransformer(latent_dim=10, architecture=args.architecture, decoder_variance=args.decoder_variance,
                             rate_factor=None if args.no_rate_warp else "heart_rate", max_epochs=args.epochs,
                             random_state=0, verbose=1)
    # The rows' timing (rate, time of the first sample from R), which the rate warp needs.
    timed = pd.DataFrame(X)
    timed.attrs["signal"] = {"fs": WINDOW["fs"], "start": WINDOW["start"], "units": "mV"}
    vae.fit(timed, factors=factors)
    print("codes:", ", ".join(vae.get_feature_names_out()))
    sd = factors.std()
    # A typical beat: the one whose measured features are closest to the medians.
    distance = ((factors - factors.median()) / sd).abs().sum(axis=1, min_count=len(FACTORS))
    beat = np.asarray(X)[[int(np.nanargmin(distance.to_numpy()))]]
    plain = vae.inverse_transform(vae.transform(beat))
    measured_plain = measure_beat_windows(plain, **WINDOW)
    t = np.arange(beat.shape[1]) / WINDOW["fs"] + WINDOW["start"]

    fig, axes = plt.subplots(2, 3, figsize=(13, 6.5), sharex=True, constrained_layout=True)
    measure = partial(measure_beat_windows, **WINDOW)
    for ax, (name, factor) in zip(axes.ravel(), EDITED.items()):
        unit = vae.factor_units_.get(name, "")
        shown = SHOWN_UNITS.get(unit, unit)
        ax.plot(t, plain[0], color="black", lw=1.2, label="decoded beat")
        titles = []
        for sign, colour in ((1.0, "tab:red"), (-1.0, "tab:blue")):
            asked = sign * sd[name]
            # The calibration's step alone, then corrected until the decoded beat measures as asked.
            open_loop = measure(vae.edit(beat, **{name: asked}))[name].iloc[0] - measured_plain[name].iloc[0]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the title says what the edit reached
                edited, change = vae.edit(beat, measure=measure, **{name: asked})
            got = change[name].iloc[0]
            ax.plot(t, edited[0], color=colour, lw=1, label=f"{sign * 1:+.0f} SD")
            said = f"{got * factor:+.3g}" if np.isfinite(got) else "n/a (no next R decoded)"
            before = f"{open_loop * factor:+.3g}" if np.isfinite(open_loop) else "n/a"
            titles.append(f"asked {asked * factor:+.3g}, measured {said} (step alone {before})")
        ax.set_title(f"{name} ({shown})\n" + "\n".join(titles), fontsize=8)
        ax.axvline(0, color="grey", lw=0.5)
    axes[0, 0].legend(fontsize=7)
    for ax in axes[1]:
        ax.set_xlabel("time from R (s)")
    for ax in axes[:, 0]:
        ax.set_ylabel("signal (mV)")
    warp = "no rate warp" if args.no_rate_warp else "rate warp by heart rate"
    fig.suptitle(f"One beat edited along named factors by ±1 SD; {source}; decoder {args.architecture}, "
                 f"variance {args.decoder_variance}, {warp}", fontsize=10)
    path = args.out / ("named_factors" + ("" if args.architecture == "mlp" and args.decoder_variance == "auto"
                                          else f"_{args.architecture}_{args.decoder_variance}")
                       + ("_no_warp" if args.no_rate_warp else "") + ".png")
    fig.savefig(path, dpi=110)
    print(f"figure written to {path}")


if __name__ == "__main__":
    main()
