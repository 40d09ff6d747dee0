"""Pacing spikes on LUDB lead II: paced beats flagged, their PR taken away, and how often a beat is flagged wrongly.

LUDB's ``ludb.csv`` names the patients with a pacemaker ("Cardiac pacing": unipolar,
bipolar or biventricular ventricular pacing, P-synchrony). For every patient the
cardiologists' QRS complexes of lead II are measured by
:func:`skbvae.ecg.measure_beat_features` at the annotated R peaks; reported per patient
group: the share of beats flagged ``paced``, and the share of beats that get a PR interval
(a ventricular-paced beat has none; before the flag, the delineator reported one),
with the flag and without it (the same beats, the flag's effect removed). ``--leads`` measures
other leads together (the first one named finds the spikes; ``--leads`` alone: all 12, lead I first).

    python benchmarks/bench_pacing.py [--ludb ../shared/data/ludb] [--leads ii v5 ...]
"""

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import wfdb

from skbvae.ecg import measure_beat_features

LUDB = Path(__file__).resolve().parents[2] / "shared" / "data" / "ludb"


def patient(folder, record, leads=("ii",)):
    signal = wfdb.rdrecord(str(folder / str(record)), channel_names=list(leads) if leads else None).p_signal
    signal = signal[:, 0] if signal.shape[1] == 1 else signal
    annotation = wfdb.rdann(str(folder / str(record)), "ii")
    peaks = np.array([s for s, symbol in zip(annotation.sample, annotation.symbol) if symbol == "N"])
    features, boundaries = measure_beat_features(signal, 500, peaks, return_boundaries=True)
    # The cardiologists' QRS duration of each beat: its "(" before and ")" after the N.
    symbols, samples = list(annotation.symbol), annotation.sample
    truth = []
    for k, symbol in enumerate(symbols):
        if symbol == "N":
            on = samples[k - 1] if k > 0 and symbols[k - 1] == "(" else np.nan
            off = samples[k + 1] if k + 1 < len(symbols) and symbols[k + 1] == ")" else np.nan
            truth.append((off - on) / 500)
    features["qrs_truth"] = truth
    return features, boundaries


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ludb", type=Path, default=LUDB)
    parser.add_argument("--leads", nargs="*", default=["ii"],
                        help="leads measured together (measure_beat_features of several columns); none: all 12")
    args = parser.parse_args()
    table = pd.read_csv(args.ludb / "ludb.csv")
    pacing = table["Cardiac pacing"].fillna("").str.strip()
    rows = []
    for record, kind in zip(table["ID"], pacing):
        features, boundaries = patient(args.ludb, record, args.leads)
        # Without the flag, the PR interval is qrs_on - p_on wherever a P was delineated.
        pr_without_flag = np.isfinite(boundaries["p_on"]) & np.isfinite(boundaries["qrs_on"])
        error = 1000 * (features["qrs_duration"] - features["qrs_truth"])
        rows.append({"record": record, "pacing": kind.replace("\n", "; ") or "none", "beats": len(features),
                     "flagged": features["paced"].mean(), "PR": features["pr_interval"].notna().mean(),
                     "PR without flag": pr_without_flag.mean(), "QRS error ms": error.median()})
    results = pd.DataFrame(rows)
    paced = results["pacing"].str.contains("pacing")
    print(results[results["pacing"] != "none"].to_markdown(index=False, floatfmt=".2f"))
    for name, group in (("ventricular pacing", results[paced]), ("no pacemaker", results[results["pacing"] == "none"])):
        beats = group["beats"]
        print(f"\n{name}: {len(group)} patients, {beats.sum()} beats; flagged "
              f"{np.average(group['flagged'], weights=beats):.1%} of beats; PR reported on "
              f"{np.average(group['PR'], weights=beats):.1%} (without the flag {np.average(group['PR without flag'], weights=beats):.1%}); "
              f"patients with any beat flagged: {(group['flagged'] > 0).sum()}; median QRS error per patient "
              f"{group['QRS error ms'].median():+.0f} ms")


if __name__ == "__main__":
    main()
