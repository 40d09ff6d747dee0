"""What a default fit costs on tiny data: 100 rows against the same optimizer steps on 10,000 rows.

``max_epochs="auto"`` trains 100 rows for 2,000 epochs of one step each, so
whatever skorch does per epoch (history, callbacks, the epoch table) is paid
2,000 times; 10,000 rows reach the same steps in 50 epochs of 40 (the
issue's comparison; target: at most 2x), or in 20 epochs of 100 with batches
of 100 rows, the tiny fit's own batch (which isolates the per-epoch cost).
Fits alternate; medians of ``--repeats``.

    python benchmarks/bench_tiny.py [--repeats 3]
"""

import argparse
import statistics
import time

from skbvae import BetaVAETransformer
from skbvae.datasets import make_heartbeats


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    X, _ = make_heartbeats(10_000, random_state=0)
    BetaVAETransformer(max_epochs=2, random_state=0).fit(X[:1000])  # untimed: loads the kernels
    tiny, large, same_batch = [], [], []
    for _ in range(args.repeats):
        start = time.perf_counter()
        vae = BetaVAETransformer(random_state=0).fit(X[:100])
        tiny.append(time.perf_counter() - start)
        steps = vae.net_.optimizer_steps_
        start = time.perf_counter()
        same = BetaVAETransformer(max_epochs=steps // 40, random_state=0).fit(X)
        large.append(time.perf_counter() - start)
        start = time.perf_counter()
        BetaVAETransformer(max_epochs=steps // 100, batch_size=100, random_state=0).fit(X)
        same_batch.append(time.perf_counter() - start)
    tiny_s, large_s = statistics.median(tiny), statistics.median(large)
    print(f"100 rows, defaults: {tiny_s:.2f} s ({vae.n_iter_} epochs, {steps} steps of {vae.net_.batch_size} rows)")
    print(f"10,000 rows, same steps: {large_s:.2f} s ({same.n_iter_} epochs, {same.net_.optimizer_steps_} steps "
          f"of {same.net_.batch_size} rows)")
    print(f"ratio: {tiny_s / large_s:.2f} (target <= 2)")
    batch_s = statistics.median(same_batch)
    print(f"10,000 rows, same steps of 100 rows (20 epochs): {batch_s:.2f} s; ratio {tiny_s / batch_s:.2f}")


if __name__ == "__main__":
    main()
