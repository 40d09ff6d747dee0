"""Fit time against torch's intra-op threads, on a quiet machine and next to busy processes.

torch's intra-op threads wait on each other at every operation; when another
process holds a core, a fit with as many threads as cores waits for the
slowest. This measures, for several models and batch sizes, the fit time with
1, 2 and all threads (``n_jobs``), with 0, 1 and 2 busy
processes (pure-Python spinners, started and stopped here, each bounded in
time), so a thread policy can be chosen from a table rather than a guess.

Each fit takes the same number of optimizer steps (``--steps``; the broadcast
decoder a quarter of them) on 8,192 ``make_heartbeats`` beats; the median of
``--repeats`` is reported.

    python benchmarks/bench_threads.py [--steps 64] [--repeats 2] [--busy 0 1 2]
"""

import argparse
import math
import multiprocessing
import os
import statistics
import time

import torch

from skbvae import BetaVAETransformer
from skbvae.datasets import make_heartbeats

#: name: (estimator parameters, share of --steps)
MODELS = {
    "mlp (default)": ({}, 1.0),
    "mlp, hidden (1024, 512)": ({"hidden_layer_sizes": (1024, 512)}, 1.0),
    "conv1d": ({"architecture": "conv1d"}, 1.0),
    "broadcast": ({"architecture": "broadcast"}, 0.25),
}
N_ROWS = 8192


def _spin(seconds):
    """A busy process: pure-Python arithmetic for at most ``seconds``."""
    end = time.perf_counter() + seconds
    x = 0
    while time.perf_counter() < end:
        x = (x * 1103515245 + 12345) % 2**31


def fit_seconds(X, params, batch_size, steps, threads):
    epochs = max(1, round(steps / math.ceil(N_ROWS / batch_size)))
    vae = BetaVAETransformer(batch_size=batch_size, max_epochs=epochs, rotation=None, n_jobs=threads,
                             random_state=0, **params)
    start = time.perf_counter()
    vae.fit(X)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--busy", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[256, 4096])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    args = parser.parse_args()
    X, _ = make_heartbeats(N_ROWS, random_state=0)
    cores = os.cpu_count()
    thread_counts = sorted({1, 2, cores})
    print(f"{cores} cores; torch {torch.__version__}, default threads {torch.get_num_threads()}")
    for n in thread_counts:  # the first fit of a process pays for loading kernels: not timed
        fit_seconds(X, {}, 256, 4, n)
    rows = []
    for n_busy in args.busy:
        spinners = [multiprocessing.Process(target=_spin, args=(1800,), daemon=True) for _ in range(n_busy)]
        for process in spinners:
            process.start()
        try:
            for name in args.models:
                params, share = MODELS[name]
                for batch_size in args.batch_sizes:
                    steps = max(2, int(args.steps * share))
                    times = {n: [] for n in thread_counts}
                    for _ in range(args.repeats):  # alternate thread counts within a repeat
                        for n in thread_counts:
                            times[n].append(fit_seconds(X, params, batch_size, steps, n))
                    row = {"busy": n_busy, "model": name, "batch": batch_size, "steps": steps,
                           **{f"{n} thread(s) s": statistics.median(t) for n, t in times.items()}}
                    rows.append(row)
                    print(row, flush=True)
        finally:
            for process in spinners:
                process.terminate()
                process.join()

    import pandas as pd

    table = pd.DataFrame(rows)
    quiet = table[table["busy"] == 0].set_index(["model", "batch"])
    for n in thread_counts:
        column = f"{n} thread(s) s"
        # Slowdown against the quiet machine with the same thread count.
        table[f"{n}t / quiet"] = [row[column] / quiet.loc[(row["model"], row["batch"]), column]
                                  for _, row in table.iterrows()]
    print(table.to_markdown(index=False, floatfmt=".2f"))


if __name__ == "__main__":
    main()
