"""Host memory of fit's scaling step: chunked float64 moments vs whole-array float64.

``fit`` scales its input before training. The reference is the whole-array
float64 expression the estimator used before (``X.astype(float64)``,
``X.std(0)``, ``((X - center) / scale).astype(float32)``); skbvae accumulates
moments in float64 chunk by chunk and writes the float32 result in place.
Peak NumPy allocations are measured with ``tracemalloc`` in the same run.

    python benchmarks/bench_fit_memory.py [--rows 1000000] [--features 187]
"""

import argparse
import time
import tracemalloc

import numpy as np

from skbvae._scaling import fit_scaling, scale_to_float32


def reference(X, scaling):
    X64 = X.astype(np.float64)
    if scaling == "standard":
        center, scale = X64.mean(axis=0), X64.std(axis=0)
    elif scaling == "global":
        center, scale = np.full(X.shape[1], X64.mean()), np.full(X.shape[1], X64.std())
    else:
        center, scale = X64.min(axis=0), X64.max(axis=0) - X64.min(axis=0)
    return ((X - center) / scale).astype(np.float32)


def skbvae_scaling(X, scaling):
    return scale_to_float32(X, *fit_scaling(X, scaling))


def peak_and_seconds(fn, *args):
    tracemalloc.start()
    start = time.perf_counter()
    fn(*args)
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak, seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=187)
    args = parser.parse_args()
    X = np.random.default_rng(0).standard_normal((args.rows, args.features), dtype=np.float32)
    mib = 2**20
    print(f"{args.rows} x {args.features} float32 input: {X.nbytes / mib:.0f} MiB; "
          "peak = extra host memory during scaling (the float32 output included)")
    print("| scaling | reference peak MiB | skbvae peak MiB | peak ratio | reference s | skbvae s | time ratio |")
    print("|:--|--:|--:|--:|--:|--:|--:|")
    for scaling in ("standard", "global", "minmax"):
        ref_peak, ref_s = peak_and_seconds(reference, X, scaling)
        our_peak, our_s = peak_and_seconds(skbvae_scaling, X, scaling)
        print(f"| {scaling} | {ref_peak / mib:.0f} | {our_peak / mib:.0f} | {our_peak / ref_peak:.2f} "
              f"| {ref_s:.2f} | {our_s:.2f} | {our_s / ref_s:.2f} |")


if __name__ == "__main__":
    main()
