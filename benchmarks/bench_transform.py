"""Streaming inference: transform throughput and peak memory on 2,000,000 × 187 float32 rows.

Encodes the rows with a fitted default MLP ``BetaVAETransformer`` and, in the
same run, with a plain batched PyTorch loop over the same encoder (the
baseline), and reports rows/s, their ratio, and the peak memory beyond the
input and the output (the working set ``transform`` adds). The two are timed
in alternation (``--repeats`` pairs, median and range of the ratio), at one
thread (``n_jobs=None``, the default) and at torch's threads (``n_jobs=-1``),
each against the plain loop at the same thread count: single timings of
each, one after the other, read 0.98 to 1.56 on this machine as its speed
drifted. On a GPU it also times the bare host→device copy of the input (the
bound for data that starts in host memory).

    python benchmarks/bench_transform.py [--rows 2000000] [--repeats 5] [--device cpu|cuda]
"""

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from skbvae import BetaVAETransformer
from skbvae.datasets import make_heartbeats


def _status_bytes(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024  # reported in kB
    raise RuntimeError(f"{field} not in /proc/self/status (Linux only)")


def reset_peak_rss():
    """Reset the kernel's high-water mark (VmHWM) to the current RSS (Linux >= 4.0)."""
    Path("/proc/self/clear_refs").write_text("5")


def plain_encode(encoder, X, batch, device):
    out = np.empty((len(X), encoder[-1].out_features // 2), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, len(X), batch):
            x = torch.from_numpy(X[start:start + batch]).to(device)
            out[start:start + batch] = encoder(x)[:, : out.shape[1]].cpu().numpy()
    return out


def paired_ratios(first, second, repeats):
    """Seconds of ``first`` and ``second`` run in alternation, and their ratios, ``repeats`` times."""
    times = []
    for _ in range(repeats):
        pair = []
        for fn in (first, second):
            start = time.perf_counter()
            fn()
            pair.append(time.perf_counter() - start)
        times.append(pair)
    times = np.array(times)
    return times[:, 0], times[:, 1], times[:, 0] / times[:, 1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    train, _ = make_heartbeats(2000, random_state=0)
    # rotation=None: the baseline below is the raw encoder (the default ICA rotation keeps the active
    # latents only and rotates them, so its codes are another array; it costs one small matmul).
    vae = BetaVAETransformer(max_epochs=1, rotation=None, device=args.device, random_state=0).fit(
        train.astype(np.float32))
    # Tile real beats up to the requested size (float32, as a user would store 2 M beats).
    X = np.resize(train.astype(np.float32), (args.rows, train.shape[1]))
    X += np.float32(1e-3) * np.random.default_rng(0).standard_normal(X.shape, dtype=np.float32)
    vae.transform(X[:10_000])  # warm-up
    reset_peak_rss()
    rss_before = _status_bytes("VmRSS")
    if args.device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
        torch.cuda.synchronize()
    start = time.perf_counter()
    Z = vae.transform(X)
    seconds = time.perf_counter() - start
    working_set = _status_bytes("VmHWM") - rss_before - Z.nbytes
    # Baseline: the same encoder applied batch by batch to already-scaled rows.
    X_scaled = ((X - vae.center_) / vae.scale_).astype(np.float32)
    np.testing.assert_allclose(Z, plain_encode(vae.net_.module_.encoder, X_scaled, 8192, args.device),
                               rtol=1e-3, atol=1e-3)
    print(f"device={args.device} torch={torch.__version__} threads={torch.get_num_threads()} "
          f"rows={args.rows} input={X.nbytes / 2**20:.0f} MiB output={Z.nbytes / 2**20:.0f} MiB")
    print(f"host peak memory beyond input and output during transform: {working_set / 2**20:.0f} MiB")
    default_threads = torch.get_num_threads()
    for n_jobs in (None, -1):
        vae.set_params(n_jobs=n_jobs)
        threads = 1 if n_jobs is None else default_threads

        def plain(threads=threads):
            torch.set_num_threads(threads)
            try:
                plain_encode(vae.net_.module_.encoder, X_scaled, 8192, args.device)
            finally:
                torch.set_num_threads(default_threads)

        ours, base, ratio = paired_ratios(lambda: vae.transform(X), plain, args.repeats)
        print(f"n_jobs={n_jobs} ({threads} thread(s)): skbvae transform {np.median(ours):.2f} s "
              f"({args.rows / np.median(ours):,.0f} rows/s), plain loop on pre-scaled rows {np.median(base):.2f} s; "
              f"time ratio median {np.median(ratio):.2f} (range {ratio.min():.2f}-{ratio.max():.2f}, "
              f"{args.repeats} alternating pairs)")
    if args.device.startswith("cuda"):
        print(f"GPU peak memory allocated: {torch.cuda.max_memory_allocated() / 2**20:.0f} MiB")
        pinned = torch.from_numpy(X).pin_memory()
        torch.cuda.synchronize()
        start = time.perf_counter()
        pinned.to(args.device, non_blocking=True)
        torch.cuda.synchronize()
        copy_seconds = time.perf_counter() - start
        print(f"host->device copy of the input (pinned): {copy_seconds:.2f} s; "
              f"transform / copy bound: {seconds / copy_seconds:.2f} (target <= 2)")


if __name__ == "__main__":
    main()
