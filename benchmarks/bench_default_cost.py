"""Cost of the defaults against the previous defaults: fit time for the same optimizer steps, same run.

The defaults (a Student-t decoder with a heteroscedastic scale: twice the
decoder outputs, a scale term in the loss), the defaults given the beats'
records (``fit(X, groups=records)``: a prior per record) and the previous
defaults (``decoder_variance="fixed"``) train on the same 10,000
``make_heartbeats`` beats in 333 records for the same number of epochs (so
the same optimizer steps); fits alternate and the median of ``--repeats`` is
reported, on a quiet machine and with ``--busy`` processes spinning on the
cores (started and stopped here, each bounded in time), since users share
machines. The target for the defaults: at most 2x the previous defaults.

    python benchmarks/bench_default_cost.py [--epochs 20] [--repeats 3] [--busy 0 1]
"""

import argparse
import multiprocessing
import statistics
import time

from skbvae import BetaVAETransformer
from skbvae.datasets import make_heartbeats

#: name: (parameters, fit with the records as groups)
CANDIDATES = {"defaults": ({}, False), "defaults with groups": ({}, True),
              "previous defaults (fixed variance, β 0.25)": ({"decoder_variance": "fixed"}, False)}


def _spin(seconds):
    """A busy process: pure-Python arithmetic for at most ``seconds``."""
    end = time.perf_counter() + seconds
    x = 0
    while time.perf_counter() < end:
        x = (x * 1103515245 + 12345) % 2**31


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--busy", type=int, nargs="+", default=[0, 1])
    args = parser.parse_args()
    X, _, records = make_heartbeats(10_000, n_records=333, random_state=0)
    for n_busy in args.busy:
        spinners = [multiprocessing.Process(target=_spin, args=(600,), daemon=True) for _ in range(n_busy)]
        for process in spinners:
            process.start()
        try:
            times = {name: [] for name in CANDIDATES}
            for _ in range(args.repeats):
                for name, (params, grouped) in CANDIDATES.items():
                    start = time.perf_counter()
                    BetaVAETransformer(max_epochs=args.epochs, random_state=0, **params).fit(
                        X, groups=records if grouped else None)
                    times[name].append(time.perf_counter() - start)
        finally:
            for process in spinners:
                process.terminate()
                process.join()
        median = {name: statistics.median(values) for name, values in times.items()}
        *_, previous = median.values()
        print(f"{n_busy} busy process(es), {args.epochs} epochs on 10,000 beats "
              f"({args.epochs * 40} optimizer steps), median of {args.repeats}:")
        for name, seconds in median.items():
            print(f"  {name}: {seconds:.2f} s ({seconds / previous:.2f}x the previous defaults)")


if __name__ == "__main__":
    main()
