"""Dataset throughput: loading + segmenting a WFDB record, and make_heartbeats.

Writes a 30-minute 360 Hz two-lead record (the size of an MIT-BIH record) with
``wfdb.wrsamp``, then times ``load_wfdb_heartbeats`` on it (read, detect,
refine, resample, cut) against the target of < 1 s, and times
``make_heartbeats``. With ``--wfdb PATH`` it also times a real record.

    python benchmarks/bench_datasets.py [--wfdb ../shared/data/wfdb/100]
"""

import argparse
import statistics
import tempfile
import time

import wfdb

from skbvae.datasets import load_wfdb_heartbeats, make_ecg, make_heartbeats


def best_of(fn, repeats=3):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wfdb", help="also time this real record or folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        ecg, _ = make_ecg(1800.0, fs=360, heart_rate=75, random_state=0)
        wfdb.wrsamp("synthetic", fs=360, units=["mV", "mV"], sig_name=["MLII", "V5"],
                    p_signal=ecg[:, None].repeat(2, axis=1), fmt=["212", "212"], adc_gain=[200.0, 200.0],
                    baseline=[0, 0], write_dir=folder)
        seconds, (X, _) = best_of(lambda: load_wfdb_heartbeats(f"{folder}/synthetic"))
    print(f"load_wfdb_heartbeats, 30 min at 360 Hz (synthetic): {seconds:.3f} s, {len(X)} beats, "
          f"{len(X) / seconds:,.0f} beats/s  (target < 1 s)")
    if args.wfdb:
        seconds, (X, _) = best_of(lambda: load_wfdb_heartbeats(args.wfdb))
        print(f"load_wfdb_heartbeats, {args.wfdb}: {seconds:.3f} s, {len(X)} beats, {len(X) / seconds:,.0f} beats/s")
    seconds, (X, _) = best_of(lambda: make_heartbeats(20_000, random_state=0))
    print(f"make_heartbeats(20000): {seconds:.3f} s, {len(X) / seconds:,.0f} beats/s")


if __name__ == "__main__":
    main()
