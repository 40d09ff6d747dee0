"""Generate new heartbeats, and edit one factor of a beat by editing its code.
===========================================================================

Fits the default β-VAE (Student-t decoder with a learned scale, β 1,
``max_epochs="auto"``, ICA-rotated codes) on synthetic beats, then:

- ``generated_beats.png``: real beats; beats decoded from codes drawn from
  N(0, I) in the rotated basis (:meth:`BetaVAETransformer.sample`); and beats
  drawn from a Gaussian mixture fitted to the training codes
  (``sample(..., X=X)``);
- ``manipulated_beat.png``: one real beat, encoded; the component that follows
  the ST shift best (on the known factors) is set to −2…2 and decoded
  (:meth:`BetaVAETransformer.inverse_transform`), giving the same beat with more or
  less ST elevation. The script prints how far the edit also moves the R peak and
  the baseline, so "edits one factor" is a measured claim, not a hope. With
  ``--wfdb PATH`` the beat to edit comes from a real record.

Why a sampled beat may lack the next beat's R peak: heart rate, which places the
next beat, is spread by an MLP decoder over several latents as a curved,
Fourier-like code. Codes whose columns are drawn independently — from N(0, I),
or even real codes shuffled column by column — fall off that curve, and the
decoder averages the next R peak over positions into ripples (measured with
the previous defaults' fixed-variance decoder on 8,000 beats: the next R peak stands 1.06 mV above the median in real beats,
1.01 mV in reconstructions, 0.60 in samples and 0.63 in column-shuffled codes).
Drawing from a 50-component Gaussian mixture fitted to the codes of real beats
follows the curve and brings the next beat back (1.01 mV).

.. code-block:: bash

    python examples/generate_and_manipulate.py [--wfdb PATH] [--epochs auto] [--out examples/output]

The figures of a full run (committed in ``docs/_static``; the documentation shows them
rather than running the example):

.. image:: /_static/generated_beats.png
   :width: 100%

.. image:: /_static/manipulated_beat.png
   :width: 100%
"""

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from skbvae import BetaVAETransformer  # noqa: E402
from skbvae.datasets import make_heartbeats  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wfdb", help="take the beat to edit from this WFDB record")
    parser.add_argument("--n-beats", type=int, default=8000)
    parser.add_argument("--epochs", default="auto", type=lambda v: v if v == "auto" else int(v))
    parser.add_argument("--out", type=Path, default=Path("examples/output"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    X, factors = make_heartbeats(args.n_beats, random_state=0)
    vae = BetaVAETransformer(max_epochs=args.epochs, random_state=0, verbose=1).fit(X)
    Z = vae.transform(X)
    corr = [abs(np.corrcoef(Z[:, k], factors["st_shift"])[0, 1]) for k in range(Z.shape[1])]
    st_latent = int(np.argmax(corr))
    print(f"component z{st_latent} follows the ST shift best (|r| = {corr[st_latent]:.2f})")

    rows = {"real": X[:6], "sampled from N(0, I)": vae.sample(6, random_state=1),
            "sampled from the codes' mixture": vae.sample(6, random_state=1, X=X)}
    seconds = (np.arange(X.shape[1]) - round(0.25 * 125)) / 125  # R peak at 0 s
    fig, axes = plt.subplots(3, 6, figsize=(14, 6), sharex=True, sharey=True, constrained_layout=True)
    for row_axes, (label, beats), colour in zip(axes, rows.items(), ("black", "tab:purple", "tab:green")):
        for ax, beat in zip(row_axes, beats):
            ax.plot(seconds, beat, color=colour)
        row_axes[0].set_ylabel(f"{label}\n(mV)", fontsize=9)
    for ax in axes[-1]:
        ax.set_xlabel("time from R (s)")
    fig.suptitle("real and generated heartbeats")
    fig.savefig(args.out / "generated_beats.png", dpi=110)

    if args.wfdb:
        from skbvae.datasets import load_wfdb_heartbeats

        beat = load_wfdb_heartbeats(args.wfdb, errors="warn")[0][:1]
        beat = beat * X.std() / beat.std()  # bring a real beat near the synthetic beats' scale
    else:
        beat = X[:1]
    code = vae.transform(beat)
    values = np.linspace(-2, 2, 5)
    edited = np.repeat(code, len(values), axis=0)
    edited[:, st_latent] = values
    decoded = vae.inverse_transform(edited)
    # What the edit moves, from the decoded beats (R at 0.25 s into the window at 125 Hz):
    # ST level 80-160 ms after R, R height, and the baseline 250-200 ms before R.
    r = int(round(0.25 * 125)) if beat.shape[1] == X.shape[1] else int(np.argmax(beat[0]))
    st, r_peak, base = decoded[:, r + 10:r + 20].mean(axis=1), decoded[:, r], decoded[:, :6].mean(axis=1)
    print(f"editing z{st_latent} from -2 to 2 moves the ST level by {st[-1] - st[0]:+.3f} mV, "
          f"the R peak by {r_peak[-1] - r_peak[0]:+.3f} mV and the baseline by {base[-1] - base[0]:+.3f} mV")
    fig, ax = plt.subplots(figsize=(7, 3.5), constrained_layout=True)
    t = (np.arange(beat.shape[1]) - r) / 125  # seconds from R (beats at 125 Hz)
    ax.plot(t, beat[0], color="black", ls="--", label="input beat")
    for value, curve, colour in zip(values, decoded, plt.get_cmap("coolwarm")(np.linspace(0, 1, len(values)))):
        ax.plot(t, curve, color=colour, label=f"z{st_latent} = {value:+.0f}")
    ax.set_xlabel("time from R (s)")
    ax.set_ylabel("amplitude (mV)" if not args.wfdb else "amplitude (scaled)")
    ax.set_title(f"editing z{st_latent} (follows the ST shift, |r| = {corr[st_latent]:.2f})")
    ax.legend(fontsize=8)
    fig.savefig(args.out / "manipulated_beat.png", dpi=110)
    print(f"figures written to {args.out}/")


if __name__ == "__main__":
    main()
