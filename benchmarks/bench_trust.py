"""Intervals you can trust: lead agreement against the cardiologists (LUDB) and label-free checks on long records (DS1).

``measure_trusted_features`` keeps an interval where the other leads agree with the first
(QRS within 20 ms, PR and QT within 40 ms) and gives NaN elsewhere.

- ``ludb``: lead II's QRS, PR and QT against the cardiologists' boundaries of lead II
  (200 patients, their annotated QRS complexes), alone, checked against V5, I, or both, and
  delineated together with V5 or I (``measure_beat_features`` of two columns):
  bias ± SD (ms), share of the annotated intervals measured, share of gross errors
  (|error| > 50 ms);
- ``ds1``: MIT-BIH DS1's 22 30-minute two-lead records, no boundaries to compare with, so
  label-free measures of gross errors on the annotated normal beats: how often the two leads
  agree on QRS within 20 ms, and how often QRS or QT jumps by more than 50 ms between
  neighbouring normal beats of a steady rhythm (RR within 10 % of the previous), lead MLII
  alone, trusted, and both leads delineated at once (``measure_beat_features`` of the two
  columns: each boundary the leads' median, NaN where they disagree); and the same jumps on
  MLII between neighbouring bundle branch block beats of one kind (L or R), wide complexes;
- ``agreement``: what "the leads agree on QRS within 20 ms" can reach: on LUDB, how often the
  cardiologists' own QRS durations of lead II and of another lead agree within 20 ms (they
  annotate each lead on its own), beside the same for skbvae's single-lead durations at the
  same beats.

  ``--fs 250`` resamples DS1's records first (the QT database's rate, and many Holters').

    python benchmarks/bench_trust.py [--datasets ludb ds1 agreement] [--fs 250]
"""

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import wfdb

from skbvae.ecg import measure_beat_features, measure_trusted_features
from skbvae.ecg._beats import _resample

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_delineation import reference, same_beats  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
INTERVALS = {"QRS": "qrs_duration", "PR": "pr_interval", "QT": "qt_interval"}


def _truth(ref):
    return pd.DataFrame({"QRS": (ref.qrs_off - ref.qrs_on) / 500, "PR": (ref.qrs_on - ref.p_on) / 500,
                         "QT": (ref.t_off - ref.qrs_on) / 500})


def ludb(folder, checks=(("alone", ()), ("with V5", ("v5",)), ("with I", ("i",)), ("with V5 and I", ("v5", "i")),
                         ("and V5 at once", ("v5",)), ("and I at once", ("i",)))):
    errors = {name: [] for name, _ in checks}
    for record in range(1, 201):
        ref = reference(folder, record, "ii")
        truth = _truth(ref)
        signals = {lead: wfdb.rdrecord(str(folder / str(record)), channel_names=[lead]).p_signal[:, 0]
                   for lead in ("ii", "v5", "i")}
        peaks = ref.r.to_numpy()
        for name, others in checks:
            stacked = np.column_stack([signals["ii"], *(signals[o] for o in others)])
            if name.endswith("at once"):  # both leads delineated together, boundaries where they agree
                found = measure_beat_features(stacked, 500, peaks)
            elif others:
                found = measure_trusted_features(stacked, 500, peaks)
            else:
                found = measure_beat_features(signals["ii"], 500, peaks)
            errors[name].append(pd.DataFrame({k: found[c].to_numpy() - truth[k].to_numpy() for k, c in INTERVALS.items()})
                                .assign(**{f"has {k}": truth[k].notna().to_numpy() for k in INTERVALS}))
    rows = []
    for name, parts in errors.items():
        table = pd.concat(parts, ignore_index=True)
        for quantity in INTERVALS:
            has = table[f"has {quantity}"]
            error = 1000 * table.loc[has, quantity]
            rows.append({"lead II": name, "interval": quantity, "bias ms": error.mean(), "SD ms": error.std(),
                         "measured": error.notna().mean(), "gross": (error.abs() > 50).sum() / error.notna().sum()})
    return pd.DataFrame(rows)


def _jumps(values, rr, normal, symbols=None):
    """How many pairs of steady neighbouring normal beats (of one kind, given their ``symbols``) jump by more
    than 50 ms, and how many pairs were compared."""
    steady = normal[1:] & normal[:-1] & (np.abs(np.diff(rr)) <= 0.1 * rr[:-1])
    if symbols is not None:
        steady &= symbols[1:] == symbols[:-1]
    jump = np.abs(np.diff(values)) > 0.050
    known = steady & np.isfinite(values[1:]) & np.isfinite(values[:-1])
    return jump[known].sum(), known.sum()


def _resampled(signal, peaks, fs):
    """The record's signals and annotated R peaks at ``fs`` Hz (the loader's polyphase resampling), as a
    recorder at that rate gives them."""
    x = _resample(signal.p_signal, signal.fs, fs)
    return x, np.round(peaks * fs / signal.fs).astype(int).clip(0, len(x) - 1), fs


def ds1(folder, fs=None):
    """The label-free table; ``fs``: resample every record to this rate first (None: as recorded, 360 Hz)."""
    rows = []
    for record in (folder / "RECORDS").read_text().split():
        signal = wfdb.rdrecord(str(folder / record))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            annotation = wfdb.rdann(str(folder / record), "atr")
        symbols = np.array(annotation.symbol)
        beats = np.isin(symbols, list("NLRBAaJSVrFejnE/fQ?"))
        peaks, symbols = annotation.sample[beats], symbols[beats]
        inside = (peaks > 0) & (peaks < signal.sig_len)
        peaks, symbols = peaks[inside], symbols[inside]
        normal = symbols == "N"
        # Bundle branch block beats (L, R; 109, 118, 124 and 207 have no N): neighbours of one kind.
        blocked = np.isin(symbols, ["L", "R"])
        x, rate = signal.p_signal, signal.fs
        if fs is not None:
            x, peaks, rate = _resampled(signal, peaks, fs)
        first = measure_beat_features(x[:, 0], rate, peaks)
        trusted = measure_trusted_features(x, rate, peaks)
        together = measure_beat_features(x, rate, peaks)
        rr = np.diff(peaks, append=peaks[-1] + np.median(np.diff(peaks))) / rate
        spread = trusted["qrs_spread"][normal]
        compared = int(np.isfinite(spread).sum())  # 0 on records without N beats (bundle branch blocks, 207)
        row = {"record": record, "leads": ",".join(signal.sig_name), "normal beats": int(normal.sum()),
               "QRS agree": (spread <= 0.020).sum() / compared if compared else np.nan,
               **{f"{k} measured at once": together[c][normal].notna().mean() if normal.any() else np.nan
                  for k, c in INTERVALS.items()}}
        for name, table in (("alone", first), ("trusted", trusted), ("both leads at once", together)):
            for quantity in ("QRS", "QT"):
                jumps, pairs = _jumps(table[INTERVALS[quantity]].to_numpy(), rr, normal)
                row[f"{quantity} jumps {name}"], row[f"{quantity} pairs {name}"] = jumps, pairs
        for quantity in ("QRS", "QT"):
            jumps, pairs = _jumps(first[INTERVALS[quantity]].to_numpy(), rr, blocked, symbols)
            row[f"{quantity} jumps bundle branch block"], row[f"{quantity} pairs bundle branch block"] = jumps, pairs
        rows.append(row)
        print(f"{record}: QRS leads agree on {row['QRS agree']:.1%} of normal beats", flush=True)
    return pd.DataFrame(rows)


def lead_agreement(folder, others=("v1", "v5", "i", "avf")):
    """Lead II's QRS duration against another lead's, the cardiologists' and skbvae's, on the same beats."""
    rows = []
    for record in range(1, 201):
        base = reference(folder, record, "ii")
        peaks = base.r.to_numpy()
        signals = {lead: wfdb.rdrecord(str(folder / str(record)), channel_names=[lead]).p_signal[:, 0]
                   for lead in ("ii", *others)}
        ours_ii = measure_beat_features(signals["ii"], 500, peaks)["qrs_duration"].to_numpy()
        for lead in others:
            other = reference(folder, record, lead)
            nearest, same = same_beats(base, other)
            theirs = ((base.qrs_off - base.qrs_on).to_numpy() - (other.qrs_off - other.qrs_on).to_numpy()[nearest]) / 500
            ours = ours_ii - measure_beat_features(signals[lead], 500, peaks)["qrs_duration"].to_numpy()
            rows.append(pd.DataFrame({"lead": lead, "record": record, "cardiologists": np.where(same, theirs, np.nan),
                                      "skbvae": np.where(same, ours, np.nan)}))
    table = pd.concat(rows, ignore_index=True).dropna()
    offset = table.groupby(["lead", "record"])["cardiologists"].transform("median")
    table["cardiologists, record offset out"] = table["cardiologists"] - offset
    agree = table.drop(columns="record").groupby("lead").agg(lambda d: (d.abs() <= 0.020).mean())
    return agree.assign(beats=table.groupby("lead").size())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="*", default=["ludb", "ds1", "agreement"])
    parser.add_argument("--fs", type=float, default=None,
                        help="ds1: resample the records to this rate first (250: the QT database's)")
    args = parser.parse_args()
    if "agreement" in args.datasets:
        print("LUDB: share of beats whose lead-II QRS duration is within 20 ms of another lead's")
        print(lead_agreement(SHARED / "ludb").to_markdown(floatfmt=".3f"))
    if "ludb" in args.datasets:
        print(ludb(SHARED / "ludb").to_markdown(index=False, floatfmt=".3g"))
    if "ds1" in args.datasets:
        table = ds1(SHARED / "mitdb", args.fs)
        print(table[["record", "leads", "normal beats", "QRS agree"]].to_markdown(index=False, floatfmt=".3f"))
        for quantity in ("QRS", "QT"):
            for name in ("alone", "trusted", "both leads at once"):
                share = table[f"{quantity} jumps {name}"].sum() / table[f"{quantity} pairs {name}"].sum()
                said = name if name == "both leads at once" else f"lead MLII {name}"
                print(f"{quantity} jumps > 50 ms between steady neighbouring normal beats, {said}: {share:.2%} "
                      f"of {table[f'{quantity} pairs {name}'].sum()} pairs")
        for quantity in ("QRS", "QT"):
            share = (table[f"{quantity} jumps bundle branch block"].sum()
                     / table[f"{quantity} pairs bundle branch block"].sum())
            print(f"{quantity} jumps > 50 ms between steady neighbouring bundle branch block beats (L or R), lead MLII: "
                  f"{share:.2%} of {table[f'{quantity} pairs bundle branch block'].sum()} pairs")
        has = table["normal beats"] > 0  # 109, 118, 124 and 207 have bundle-branch-block beats, no N
        agree = np.average(table.loc[has, "QRS agree"], weights=table.loc[has, "normal beats"])
        print(f"leads agree on QRS within 20 ms: {agree:.1%} of the normal beats of {has.sum()} records "
              f"(median record {table.loc[has, 'QRS agree'].median():.1%})")
        for quantity in INTERVALS:
            share = np.average(table.loc[has, f"{quantity} measured at once"], weights=table.loc[has, "normal beats"])
            print(f"{quantity} measured on both leads at once (its boundaries where the leads agree): "
                  f"{share:.1%} of the normal beats")


if __name__ == "__main__":
    main()
