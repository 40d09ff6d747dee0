"""Price windows: a β-VAE on 180-minute windows, and the latents that change trend and volatility.

The seed's Bitcoin experiment. By default the windows come from
:func:`skbvae.datasets.make_price_windows` (GBM with known drift and
volatility); ``--csv PATH`` loads a Kaggle Bitcoin minute CSV with
:func:`skbvae.datasets.load_price_windows` instead (windows split by time: the
model is fitted on the first 80 %). Windows are log prices relative to their
start, scaled with one dataset-wide constant (``scaling="global"``) so that
volatility stays a factor. Writes ``price_traversal.png`` and ``price_latent_kl.png``
and prints which latent follows trend (total log return) and volatility.

    python examples/plot_price_windows.py [--csv PATH] [--epochs 50] [--out examples/output]
"""

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
from scipy.stats import spearmanr  # noqa: E402

from skbvae import BetaVAETransformer  # noqa: E402
from skbvae.datasets import load_price_windows, make_price_windows  # noqa: E402
from skbvae.plotting import plot_latent_kl, plot_traversal  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", help="Bitcoin minute CSV (Kaggle layout); default: synthetic GBM windows")
    parser.add_argument("--n-windows", type=int, default=8000)
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--out", type=Path, default=Path("examples/output"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    if args.csv:
        X, meta = load_price_windows(args.csv, window=180)
    else:
        X, meta = make_price_windows(args.n_windows, model="gbm", random_state=0)
    n_train = int(0.8 * len(X))  # split by time: windows are in time order
    # Unrotated latents, so each one's KL can be printed beside its correlation.
    vae = BetaVAETransformer(latent_dim=6, max_epochs=args.epochs, scaling="global", rotation=None, random_state=0)
    vae.fit(X[:n_train])
    Z = vae.transform(X[n_train:])
    trend = X[n_train:, -1]
    volatility = np.diff(X[n_train:], axis=1).std(axis=1)
    for name, target in (("trend (log return)", trend), ("volatility", volatility)):
        rho = [abs(spearmanr(Z[:, k], target).statistic) for k in range(Z.shape[1])]
        best = int(np.argmax(rho))
        print(f"{name}: best latent z{best} (|Spearman| = {rho[best]:.2f}, KL {vae.kl_per_latent_[best]:.2f} nats)")
    minutes = np.arange(X.shape[1])
    plot_traversal(vae, X[n_train], n_cols=3, time=minutes).savefig(args.out / "price_traversal.png", dpi=110)
    plot_latent_kl(vae).savefig(args.out / "price_latent_kl.png", dpi=110)
    print(f"figures written to {args.out}/")


if __name__ == "__main__":
    main()
