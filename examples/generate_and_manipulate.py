"""Generate new heartbeats from the prior, and edit one factor of a beat by editing its code.

Fits the seed setup on synthetic beats, then:

- ``generated_beats.png``: beats decoded from codes drawn from N(0, I)
  (:meth:`BetaVAETransformer.sample`) beside real ones;
- ``manipulated_beat.png``: one real beat, encoded; the latent that follows the ST
  shift best (on the known factors) is set to −2…2 and decoded
  (:meth:`BetaVAETransformer.inverse_transform`), giving the same beat with more or
  less ST elevation. With ``--wfdb PATH`` the beat to edit comes from a real record.

    python examples/generate_and_manipulate.py [--wfdb PATH] [--epochs 50] [--out examples/output]
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
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--out", type=Path, default=Path("examples/output"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    X, factors = make_heartbeats(args.n_beats, random_state=0)
    vae = BetaVAETransformer(max_epochs=args.epochs, random_state=0).fit(X)
    Z = vae.transform(X)
    corr = [abs(np.corrcoef(Z[:, k], factors["st_shift"])[0, 1]) for k in range(Z.shape[1])]
    st_latent = int(np.argmax(corr))
    print(f"latent z{st_latent} follows the ST shift (|r| = {corr[st_latent]:.2f})")

    generated = vae.sample(6, random_state=1)
    fig, axes = plt.subplots(2, 6, figsize=(14, 4), sharey=True, constrained_layout=True)
    for ax, beat in zip(axes[0], X[:6]):
        ax.plot(beat, color="black")
        ax.set_title("real", fontsize=9)
    for ax, beat in zip(axes[1], generated):
        ax.plot(beat, color="tab:purple")
        ax.set_title("generated", fontsize=9)
    fig.savefig(args.out / "generated_beats.png", dpi=110)

    if args.wfdb:
        from skbvae.datasets import load_wfdb_heartbeats

        beat = load_wfdb_heartbeats(args.wfdb)[0][:1]
        beat = beat * X.std() / beat.std()  # bring a real beat near the synthetic beats' scale
    else:
        beat = X[:1]
    code = vae.transform(beat)
    values = np.linspace(-2, 2, 5)
    edited = np.repeat(code, len(values), axis=0)
    edited[:, st_latent] = values
    decoded = vae.inverse_transform(edited)
    fig, ax = plt.subplots(figsize=(7, 3.5), constrained_layout=True)
    ax.plot(beat[0], color="black", ls="--", label="input beat")
    for value, curve, colour in zip(values, decoded, plt.get_cmap("coolwarm")(np.linspace(0, 1, len(values)))):
        ax.plot(curve, color=colour, label=f"z{st_latent} = {value:+.0f}")
    ax.set_title(f"editing z{st_latent} (follows the ST shift, |r| = {corr[st_latent]:.2f})")
    ax.legend(fontsize=8)
    fig.savefig(args.out / "manipulated_beat.png", dpi=110)
    print(f"figures written to {args.out}/")


if __name__ == "__main__":
    main()
