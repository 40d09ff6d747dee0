"""How fit cost grows with data size and latent size (default MLP, CPU or GPU).

Times one epoch of ``BetaVAETransformer.fit`` on 1k … 1M rows of 187 features
(batch 256) and, at 20k rows, on latent sizes 2 … 64, and prints seconds,
samples/s and the cost relative to the smallest case of each sweep.

    python benchmarks/bench_scaling.py [--device cpu|cuda] [--max-rows 1000000]
"""

import argparse

import numpy as np
import torch

from skbvae import BetaVAETransformer
from skbvae.datasets import make_heartbeats

from _timing import timed  # noqa: E402  (benchmarks/ is on sys.path when run as a script)


def fit_seconds(X, latent_dim, device):
    vae = BetaVAETransformer(latent_dim=latent_dim, max_epochs=1, device=device, n_jobs=-1, random_state=0)
    return timed(vae.fit, X, device=device)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--max-rows", type=int, default=1_000_000)
    args = parser.parse_args()
    base, _ = make_heartbeats(20_000, random_state=0)
    base = base.astype(np.float32)
    fit_seconds(base[:2000], 10, args.device)  # warm-up
    print(f"device={args.device} threads={torch.get_num_threads()} (1 epoch, batch 256, 187 features)")
    print(f"{'rows':>9} {'seconds':>8} {'samples/s':>10} {'cost vs 1k':>10}")
    first = None
    rows = 1000
    while rows <= args.max_rows:
        X = np.resize(base, (rows, base.shape[1]))
        seconds = fit_seconds(X, 10, args.device)
        first = first or seconds
        print(f"{rows:>9} {seconds:>8.3f} {rows / seconds:>10,.0f} {seconds / first:>10.1f}")
        rows *= 10
    print(f"\n{'latent':>9} {'seconds':>8} {'samples/s':>10} {'cost vs 2':>10}   (20,000 rows)")
    first = None
    for latent_dim in (2, 5, 10, 20, 32, 64):
        seconds = fit_seconds(base, latent_dim, args.device)
        first = first or seconds
        print(f"{latent_dim:>9} {seconds:>8.3f} {len(base) / seconds:>10,.0f} {seconds / first:>10.2f}")


if __name__ == "__main__":
    main()
