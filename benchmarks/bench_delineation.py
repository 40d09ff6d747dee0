"""P, QRS and T boundaries against cardiologists': LUDB, lead II and 12 leads, beside neurokit2 and the previous release.

LUDB (Kalyakulina et al., 2020): 200 patients, 10 s of 12 leads at 500 Hz,
and for every lead the cardiologists' onsets and offsets of P, QRS and T. Each
method is given the annotated QRS peaks as R peaks, and its boundaries are
compared with the cardiologists' (error = method - cardiologist, ms): bias and
standard deviation per boundary and interval (QRS = QRS offset - onset, PR =
QRS onset - P onset, QT = T end - QRS onset) against the CSE working party's
2-SD tolerances (Martinez et al., 2004), and the share of annotated waves
measured.

- ``skbvae, lead II``: :func:`~skbvae.ecg.delineate_beats` on lead II,
  against lead II's annotation;
- ``skbvae, 12 leads``: the same on all 12 leads at once (each boundary the
  median over leads), against the median over leads of the cardiologists'
  boundaries;
- ``previous skbvae``: the previous release's ``measure_beat_features``
  (``_previous_features.py``; QRS and PR only, no T end);
- ``neurokit2 dwt``: ``neurokit2.ecg_delineate(method="dwt")`` on lead II,
  when neurokit2 is installed (``pip install neurokit2 PyWavelets``; a
  benchmark extra, not a dependency).

The delineator's thresholds were tuned on the odd-numbered records; the table
gives the even ones apart, as a check on data the tuning did not see. Time per
beat is measured on MIT-BIH record 100 (30 min, 2,240 beats) against the
previous release in the same run. Figures of the worst records by QRS and QT
error go to ``--figures``.

``--noise``: lead II clean and with ambulatory noise added (baseline wander
and bursts of muscle noise, two levels, seeded by record), the SDs and their
ratio to the clean ones (issue 36: within 1.3x).

``--paced-wide PATH``: a figure of paced and wide beats with both sets of
boundaries, the pacing spikes found and the ``paced`` flag.

``--every-lead``: each of the 12 leads alone against its own annotation (the
thresholds were tuned on lead II: how far they carry to the leads a user may
hold instead), and pairs of leads at once against the cardiologists' median
over the 12 leads (what a two-lead Holter or the QT database gives); odd and
even records apart. ``--pairs-noise LEVEL``: the pairs alone, with ambulatory
noise of that level added to each lead on its own (seeded by record and lead),
as a two-lead Holter records it.

    python benchmarks/bench_delineation.py [--ludb PATH] [--figures docs/_static/delineation_worst.png] [--noise]
                                           [--paced-wide docs/_static/delineation_paced_wide.png] [--every-lead]
                                           [--pairs-noise {moderate,strong}]

About 2 minutes on 2 CPU cores (neurokit2 adds ~30 s).
"""

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import wfdb

from _previous_features import measure_beat_features as previous_features  # benchmarks/ is on sys.path
from skbvae.ecg import delineate_beats, measure_beat_features

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
LEADS = ["i", "ii", "iii", "avr", "avl", "avf", "v1", "v2", "v3", "v4", "v5", "v6"]
BOUNDARY_COLUMNS = ["p_on", "p_off", "qrs_on", "qrs_off", "t_off"]
#: The CSE working party's 2-SD tolerances (ms), as delineation papers hold methods to them.
TOLERANCE = {"p_on": 10.2, "p_off": 12.7, "qrs_on": 6.5, "qrs_off": 11.6, "t_off": 30.6,
             "QRS": 18.1, "PR": 16.7, "QT": 37.1}


def _waves(annotation):
    """(kind, onset, peak, offset) of every annotated wave: kind 'p', 'N' (QRS) or 't'."""
    symbols, samples = np.array(annotation.symbol), np.array(annotation.sample)
    waves = []
    for i, symbol in enumerate(symbols):
        if symbol in ("p", "N", "t"):
            onset = samples[i - 1] if i > 0 and symbols[i - 1] == "(" else np.nan
            offset = samples[i + 1] if i + 1 < len(symbols) and symbols[i + 1] == ")" else np.nan
            waves.append((symbol, onset, samples[i], offset))
    return waves


def reference(ludb, record, lead):
    """One row per annotated QRS of a lead: its R (the annotated peak) and the P and T that belong to it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        waves = _waves(wfdb.rdann(str(ludb / str(record)), lead))
    qrs = [wave for wave in waves if wave[0] == "N"]
    rows = []
    for k, (_, onset, peak, offset) in enumerate(qrs):
        previous = qrs[k - 1][2] if k else -np.inf
        following = qrs[k + 1][1] if k + 1 < len(qrs) else np.inf
        p = [w for w in waves if w[0] == "p" and previous < w[2] < peak and (np.isnan(w[3]) or w[3] <= onset + 2)]
        t = [w for w in waves if w[0] == "t" and peak < w[2] < following]
        p, t = (p[-1] if p else (None,) + (np.nan,) * 3), (t[0] if t else (None,) + (np.nan,) * 3)
        rows.append(dict(record=record, r=peak, qrs_on=onset, qrs_off=offset, p_on=p[1], p_off=p[3], t_off=t[3]))
    return pd.DataFrame(rows)


def same_beats(base, other):
    """Per row of ``base``: the index of ``other``'s nearest annotated R, and whether it is the same beat (100 ms)."""
    nearest = np.abs(other.r.to_numpy()[None, :] - base.r.to_numpy()[:, None]).argmin(axis=1)
    return nearest, np.abs(other.r.to_numpy()[nearest] - base.r.to_numpy()) < 50


def multi_lead_reference(ludb, record):
    """Lead II's beats with each boundary the median over the leads that annotate that beat."""
    base = reference(ludb, record, "ii")
    stacks = {column: [] for column in BOUNDARY_COLUMNS}
    for lead in LEADS:
        other = reference(ludb, record, lead)
        if other.empty:
            continue
        nearest, same = same_beats(base, other)
        for column in BOUNDARY_COLUMNS:
            values = other[column].to_numpy()[nearest].astype(float)
            values[~same] = np.nan
            stacks[column].append(values)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for column in BOUNDARY_COLUMNS:
            base[column] = np.nanmedian(np.array(stacks[column]), axis=0)
    return base


def _intervals(frame):
    return pd.DataFrame({"QRS": frame.qrs_off - frame.qrs_on, "PR": frame.qrs_on - frame.p_on,
                         "QT": frame.t_off - frame.qrs_on})


def scores(found, truth, fs=500.0):
    """Bias, SD (ms) and share measured for every boundary and interval ``found`` has, against ``truth``."""
    rows = []
    ms = 1000.0 / fs
    found, truth = pd.concat([found, _intervals(found)], axis=1), pd.concat([truth, _intervals(truth)], axis=1)
    for name in [*BOUNDARY_COLUMNS, "QRS", "PR", "QT"]:
        if name not in found or found[name].isna().all():
            continue
        has = truth[name].notna()
        error = (found[name] - truth[name])[has] * ms
        rows.append({"quantity": name, "bias ms": error.mean(), "SD ms": error.std(), "tolerance ms": TOLERANCE[name],
                     "SD within": bool(error.std() <= TOLERANCE[name]), "measured": error.notna().mean(),
                     "gross": (error.dropna().abs() > GROSS_MS).mean(), "n": int(has.sum())})
    return pd.DataFrame(rows)


#: An error larger than this is a boundary on the wrong wave, not an imprecise one (issue 36's "gross").
GROSS_MS = 50.0
#: Ambulatory noise added to LUDB: baseline wander (peak, mV, from breathing and movement, 0.05-0.5 Hz)
#: and muscle noise (RMS, mV, 20-100 Hz), at the levels of the MIT-BIH noise stress test's "bw" and "ma"
#: records scaled to a Holter recording at rest ("moderate") and walking ("strong").
NOISE_LEVELS = {"moderate": (0.3, 0.02), "strong": (0.6, 0.05)}


def add_ambulatory_noise(signal, fs, level, seed):
    """``signal`` with baseline wander and muscle noise of ``NOISE_LEVELS[level]`` added (reproducible by seed)."""
    from scipy import signal as sp

    wander_mv, muscle_mv = NOISE_LEVELS[level]
    rng = np.random.default_rng(seed)
    t = np.arange(len(signal)) / fs
    wander = sum(np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi)) * a
                 for f, a in zip(rng.uniform(0.05, 0.5, 3), rng.dirichlet(np.ones(3))))
    sos = sp.butter(4, [20.0, 100.0], btype="bandpass", fs=fs, output="sos")
    muscle = sp.sosfiltfilt(sos, rng.standard_normal(len(signal)))
    # Muscle noise comes in bursts (movement): its envelope swings between 0.3 and 1.7 of the level.
    envelope = 1.0 + 0.7 * np.sin(2 * np.pi * rng.uniform(0.1, 0.3) * t + rng.uniform(0, 2 * np.pi))
    muscle = muscle / muscle.std() * muscle_mv * envelope
    noise = wander_mv * wander + muscle
    return signal + (noise[:, None] if signal.ndim == 2 else noise)


def previous_boundaries(signal, fs, r_peaks):
    """The previous release's QRS duration and PR interval as boundaries around the annotated QRS onset."""
    features = previous_features(signal, fs, r_peaks)
    # It gave durations, not boundaries: place them so that only the intervals are compared.
    return pd.DataFrame({"QRS_only": features["qrs_duration"] * fs, "PR_only": features["pr_interval"] * fs})


def neurokit_boundaries(signal, fs, r_peaks):
    import neurokit2 as nk

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, waves = nk.ecg_delineate(signal, rpeaks=r_peaks, sampling_rate=fs, method="dwt")
    names = {"p_on": "ECG_P_Onsets", "p_off": "ECG_P_Offsets", "qrs_on": "ECG_R_Onsets", "qrs_off": "ECG_R_Offsets",
             "t_off": "ECG_T_Offsets"}
    return pd.DataFrame({ours: np.asarray(waves[theirs], dtype=float)[:len(r_peaks)] for ours, theirs in names.items()})


def run(ludb, records, method, multi_lead=False, noise=None):
    found, truth, seconds, beats = [], [], 0.0, 0
    for record in records:
        ref = multi_lead_reference(ludb, record) if multi_lead else reference(ludb, record, "ii")
        if ref.empty:
            continue
        header = wfdb.rdrecord(str(ludb / str(record)), channel_names=None if multi_lead else ["ii"])
        signal = header.p_signal if multi_lead else header.p_signal[:, 0]
        if noise is not None:
            signal = add_ambulatory_noise(signal, float(header.fs), noise, seed=record)
        start = time.perf_counter()
        found.append(method(signal, float(header.fs), ref.r.to_numpy()))
        seconds += time.perf_counter() - start
        beats += len(ref)
        truth.append(ref)
    return pd.concat(found, ignore_index=True), pd.concat(truth, ignore_index=True), seconds / beats


def interval_scores(found, truth):
    """Scores of a method that gives intervals only (the previous release)."""
    ms = 2.0
    rows = []
    for name, column, want in (("QRS", "QRS_only", truth.qrs_off - truth.qrs_on), ("PR", "PR_only", truth.qrs_on - truth.p_on)):
        has = want.notna()
        error = (found[column] - want)[has] * ms
        rows.append({"quantity": name, "bias ms": error.mean(), "SD ms": error.std(), "tolerance ms": TOLERANCE[name],
                     "SD within": bool(error.std() <= TOLERANCE[name]), "measured": error.notna().mean(),
                     "n": int(has.sum())})
    return pd.DataFrame(rows)


def speed_ratio(wfdb_folder):
    """Seconds per beat of measure_beat_features, new against previous, on MIT-BIH 100 (best of 3, alternating)."""
    record = wfdb.rdrecord(str(wfdb_folder / "100"))
    annotation = wfdb.rdann(str(wfdb_folder / "100"), "atr")
    peaks = np.asarray(annotation.sample)[np.isin(annotation.symbol, list("NLRAaJSVFejE/fQ"))]
    signal = record.p_signal[:, 0]
    times = {"new": [], "previous": []}
    for _ in range(3):
        for name, fn in (("new", measure_beat_features), ("previous", previous_features)):
            start = time.perf_counter()
            fn(signal, 360.0, peaks)
            times[name].append(time.perf_counter() - start)
    new, old = min(times["new"]) / len(peaks), min(times["previous"]) / len(peaks)
    return new, old, len(peaks)


#: How the figures draw each boundary: P green, QRS blue, T end red.
COLOURS = {"p_on": "tab:green", "p_off": "tab:green", "qrs_on": "tab:blue", "qrs_off": "tab:blue", "t_off": "tab:red"}


def draw_beat(ax, signal, r, truth, found, fs=500.0):
    """One beat of ``signal`` from 0.45 s before R to 0.65 s after, with the cardiologists' boundaries
    (``truth``, dashed) and skbvae's (``found``, solid): two rows of boundaries in samples. Returns the
    drawn window's first and last sample."""
    lo, hi = int(r - 0.45 * fs), int(r + 0.65 * fs)
    ax.plot((np.arange(lo, hi) - r) / fs, signal[lo:hi], color="black", lw=1)
    for column, colour in COLOURS.items():
        for row, style in ((truth, "--"), (found, "-")):
            if np.isfinite(row[column]):
                ax.axvline((row[column] - r) / fs, color=colour, ls=style, lw=1.5 if style == "-" else 1)
    return lo, hi


def worst_figure(ludb, path, found, truth):
    """The records with the largest median QRS and QT errors, with both sets of boundaries drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    error = pd.DataFrame({"record": truth.record, "QRS": ((found.qrs_off - found.qrs_on) - (truth.qrs_off - truth.qrs_on)).abs(),
                          "QT": ((found.t_off - found.qrs_on) - (truth.t_off - truth.qrs_on)).abs()})
    by_record = error.groupby("record").median()
    worst = list(by_record.QRS.nlargest(3).index) + list(by_record.QT.nlargest(3).index)
    fig, axes = plt.subplots(len(worst), 1, figsize=(11, 2.2 * len(worst)), constrained_layout=True)
    for ax, record in zip(axes, worst):
        signal = wfdb.rdrecord(str(ludb / str(record)), channel_names=["ii"]).p_signal[:, 0]
        rows = truth.index[truth.record == record]
        i = rows[min(1, len(rows) - 1)]
        draw_beat(ax, signal, truth.r[i], truth.loc[i], found.loc[i])
        said = {name: f"{2 * by_record[name][record]:.0f} ms" if np.isfinite(by_record[name][record])
                else "none (not measured)" for name in ("QRS", "QT")}
        ax.set_title(f"LUDB record {record}, lead II: median |QRS error| {said['QRS']}, |QT error| {said['QT']}; "
                     "beat 2 drawn", fontsize=9)
        ax.set_ylabel("mV", fontsize=8)
    axes[-1].set_xlabel("time from R (s); dashed: cardiologist, solid: skbvae (green P, blue QRS, red T end)")
    fig.savefig(path, dpi=90)
    print(f"figure of the worst records written to {path}")


def paced_and_wide_figure(ludb, path, cases=((34, "paced, unipolar ventricular pacing"), (8, "paced, unipolar ventricular pacing"),
                                               (104, "P-synchronous ventricular pacing, R on the spike"),
                                               (13, "wide QRS, slurred end (rsR')"), (111, "bipolar ventricular pacing: spike filtered out, wide QRS"))):
    """A paced and a wide beat each, lead II, with the cardiologists' and skbvae's boundaries, the spike and the flag."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from skbvae.ecg._pacing import detect_pacing_spikes

    fig, axes = plt.subplots(len(cases), 1, figsize=(10, 2.4 * len(cases)), constrained_layout=True)
    for ax, (record, what) in zip(axes, cases):
        truth = reference(ludb, record, "ii")
        signal = wfdb.rdrecord(str(ludb / str(record)), channel_names=["ii"]).p_signal[:, 0]
        features, found = measure_beat_features(signal, 500.0, truth.r.to_numpy(), return_boundaries=True)
        i = min(2, len(truth) - 1)
        r = truth.r.iloc[i]
        lo, hi = draw_beat(ax, signal, r, truth.iloc[i], found.iloc[i])
        spikes = detect_pacing_spikes(signal, 500.0)
        spikes = spikes[(spikes >= lo) & (spikes < hi)]
        ax.plot((spikes - r) / 500, signal[spikes], "v", color="tab:orange", ms=8, label="pacing spike found")
        qrs_ms = 1000 * features["qrs_duration"].iloc[i]
        true_ms = 2 * (truth.qrs_off.iloc[i] - truth.qrs_on.iloc[i])
        pr = features["pr_interval"].iloc[i]
        ax.set_title(f"LUDB {record}, lead II, {what}: QRS {qrs_ms:.0f} ms (cardiologists {true_ms:.0f}); "
                     f"paced flag {bool(features['paced'].iloc[i])}; PR {'none' if not np.isfinite(pr) else f'{1000 * pr:.0f} ms'}",
                     fontsize=9)
        ax.set_ylabel("mV", fontsize=8)
        if len(spikes):
            ax.legend(fontsize=8, loc="upper right")
    axes[-1].set_xlabel("time from R (s); dashed: cardiologists, solid: skbvae (green P, blue QRS, red T end)")
    fig.savefig(path, dpi=90)
    print(f"figure of paced and wide beats written to {path}")


def paced_patients(ludb):
    """The records whose patient has a pacemaker, from ``ludb.csv``'s "Cardiac pacing" column."""
    table = pd.read_csv(Path(ludb) / "ludb.csv")
    return table.loc[table["Cardiac pacing"].fillna("").str.strip() != "", "ID"].tolist()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ludb", default=str(SHARED / "ludb"))
    parser.add_argument("--wfdb", default=str(SHARED / "wfdb"), help="folder with MIT-BIH 100, for the speed ratio")
    parser.add_argument("--figures", default=None, help="PNG of the worst records")
    parser.add_argument("--paced-wide", default=None, help="PNG of paced and wide beats with their boundaries, then stop")
    parser.add_argument("--noise", action="store_true",
                        help="only the noise table: lead II clean and with ambulatory noise added, SD ratios")
    parser.add_argument("--every-lead", action="store_true",
                        help="only the tables of each lead alone and of pairs of leads at once")
    parser.add_argument("--pairs-noise", choices=sorted(NOISE_LEVELS), default=None,
                        help="only the pairs of leads at once, with ambulatory noise of this level added to each lead")
    args = parser.parse_args()
    ludb = Path(args.ludb)
    records = list(range(1, 201))
    pd.set_option("display.width", 160)
    if args.noise:
        noise_table(ludb, records)
        return
    if args.every_lead or args.pairs_noise:
        every_lead_tables(ludb, records, noise=args.pairs_noise)
        return
    if args.paced_wide:
        paced_and_wide_figure(ludb, args.paced_wide)
        return
    results = {}
    lead_ii, truth_ii, per_beat = run(ludb, records, delineate_beats)
    results["skbvae, lead II (all 200)"] = scores(lead_ii, truth_ii)
    for name, keep in (("odd records: tuned on", truth_ii.record % 2 == 1), ("even records: not tuned on", truth_ii.record % 2 == 0)):
        results[f"skbvae, lead II, {name}"] = scores(lead_ii[keep.to_numpy()].reset_index(drop=True),
                                                      truth_ii[keep.to_numpy()].reset_index(drop=True))
    width = (truth_ii.qrs_off - truth_ii.qrs_on) * 2
    for name, keep in (("narrow QRS < 120 ms", width < 120), ("wide QRS >= 120 ms", width >= 120)):
        results[f"skbvae, lead II, {name}"] = scores(lead_ii[keep.to_numpy()].reset_index(drop=True),
                                                      truth_ii[keep.to_numpy()].reset_index(drop=True))
    paced_records = paced_patients(ludb)
    keep = truth_ii.record.isin(paced_records).to_numpy()
    results[f"skbvae, lead II, paced patients ({len(paced_records)})"] = scores(
        lead_ii[keep].reset_index(drop=True), truth_ii[keep].reset_index(drop=True))
    multi, truth_multi, _ = run(ludb, records, delineate_beats, multi_lead=True)
    results["skbvae, 12 leads (median over leads)"] = scores(multi, truth_multi)
    previous, truth_previous, _ = run(ludb, records, previous_boundaries)
    results["previous skbvae, lead II (intervals only)"] = interval_scores(previous, truth_previous)
    try:
        nk_found, nk_truth, nk_per_beat = run(ludb, records, neurokit_boundaries)
        results["neurokit2 dwt, lead II"] = scores(nk_found, nk_truth)
    except ImportError:
        nk_per_beat = None
        print("neurokit2 not installed: its rows are left out (pip install neurokit2 PyWavelets)")
    print(f"LUDB lead II: {len(truth_ii)} annotated beats of {truth_ii.record.nunique()} records; "
          f"{int(truth_ii.p_on.notna().sum())} with a P wave, {int(truth_ii.t_off.notna().sum())} with a T end, "
          f"{int((width >= 120).sum())} with QRS >= 120 ms")
    for name, table in results.items():
        print(f"\n## {name}")
        print(table.round({"bias ms": 1, "SD ms": 1, "measured": 3}).to_string(index=False))
    print_p_without_annotation(ludb, lead_ii, truth_ii)
    print(f"time per beat on LUDB lead II: skbvae {1e3 * per_beat:.3f} ms"
          + (f", neurokit2 {1e3 * nk_per_beat:.3f} ms" if nk_per_beat else ""))
    if Path(args.wfdb, "100.hea").is_file():
        new, old, n = speed_ratio(Path(args.wfdb))
        print(f"measure_beat_features on MIT-BIH 100 ({n} beats, best of 3): {1e3 * new:.3f} ms per beat, previous release "
              f"{1e3 * old:.3f} ms; ratio {new / old:.2f} (target <= 2)")
    if args.figures:
        worst_figure(ludb, args.figures, lead_ii, truth_ii)


#: Pairs of leads delineated at once by ``--every-lead``: limb with chest, chest with chest, and leads
#: whose waves are often flat (III, aVR, aVL, V1).
LEAD_PAIRS = [("ii", "v1"), ("ii", "v5"), ("v1", "v5"), ("i", "v2"), ("iii", "v4"), ("avl", "v6"), ("avr", "v3")]


def _every_lead_rows(ludb, records, leads, multi_lead, noise=None):
    """Interval errors of ``leads`` delineated at once, against that lead's annotation or the 12 leads' median;
    ``noise``: a level of :data:`NOISE_LEVELS` added to each lead on its own."""
    found, truth = [], []
    for record in records:
        ref = multi_lead_reference(ludb, record) if multi_lead else reference(ludb, record, leads[0])
        if ref.empty:
            continue
        signal = wfdb.rdrecord(str(ludb / str(record)), channel_names=list(leads)).p_signal
        if noise is not None:
            signal = np.column_stack([add_ambulatory_noise(signal[:, k], 500.0, noise, seed=1000 * k + record)
                                      for k in range(signal.shape[1])])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            found.append(delineate_beats(signal if len(leads) > 1 else signal[:, 0], 500.0, ref.r.to_numpy()))
        truth.append(ref.assign(record=record))
    found, truth = pd.concat(found, ignore_index=True), pd.concat(truth, ignore_index=True)
    row = {"leads": "+".join(leads)}
    for half, keep in (("all", truth.record > 0), ("odd", truth.record % 2 == 1), ("even", truth.record % 2 == 0)):
        table = scores(found[keep.to_numpy()].reset_index(drop=True), truth[keep.to_numpy()].reset_index(drop=True))
        for interval in ("QRS", "PR", "QT"):
            got = table[table.quantity == interval].iloc[0]
            if half == "all":
                row[f"{interval} SD ms"] = round(got["SD ms"], 1)
                row[f"{interval} measured"] = f"{got.measured:.1%}"
                row[f"{interval} gross"] = f"{got.gross:.1%}"
            else:
                row[f"{interval} gross"] += f" ({got.gross:.1%})" if half == "odd" else f" / {got.gross:.1%}"
    return row


def every_lead_tables(ludb, records, noise=None):
    """Each lead alone against its own annotation, and pairs at once against the 12 leads' median
    (``--every-lead``); with ``noise``, the pairs alone, noise added to each lead (``--pairs-noise``)."""
    from joblib import Parallel, delayed

    tables = [("each lead alone, against its own annotation", [(lead,) for lead in LEADS], False),
              ("pairs of leads at once, against the median over the 12 leads' annotations", LEAD_PAIRS, True)]
    if noise is not None:
        tables = [(f"pairs of leads at once, {noise} ambulatory noise added to each lead, against the median "
                   "over the 12 leads' annotations", LEAD_PAIRS, True)]
    for title, jobs, multi in tables:
        rows = Parallel(n_jobs=2)(delayed(_every_lead_rows)(ludb, records, leads, multi, noise) for leads in jobs)
        print(f"\n## {title} (gross: all 200 records (odd / even))")
        print(pd.DataFrame(rows).to_markdown(index=False))


def print_p_without_annotation(ludb, found, truth):
    """How often a P wave is reported on a lead-II beat whose P the cardiologists left unannotated, by rhythm.

    Each record's first annotated beat is counted apart: LUDB's annotation starts at a QRS, so that
    beat's P, in the signal, is left unannotated on 94 % of the records (the second beat's on 12 %).
    """
    table = pd.read_csv(Path(ludb) / "ludb.csv")
    rhythm = dict(zip(table.ID, table.Rhythms.fillna("").str.split("\n").str[0]))
    first = (truth.groupby("record").cumcount() == 0).to_numpy()
    no_p, reported = truth.p_on.isna().to_numpy(), found.p_on.notna().to_numpy()
    atrial = truth.record.map(rhythm).fillna("").str.startswith("Atrial").to_numpy()
    print("\nP reported where the cardiologists annotated none (lead II):")
    for name, keep in (("each record's first beat", first), ("other beats, atrial fibrillation or flutter", ~first & atrial),
                       ("other beats, other rhythms", ~first & ~atrial)):
        keep = keep & no_p
        print(f"  {name}: {reported[keep].mean():.2f} of {int(keep.sum())} beats")


def noise_table(ludb, records):
    """Lead II clean and with each level of ambulatory noise: SD, gross share and measured share, and SD ratios."""
    clean, truth, _ = run(ludb, records, delineate_beats)
    base = scores(clean, truth).set_index("quantity")
    rows = []
    for level in NOISE_LEVELS:
        noisy, truth_noisy, _ = run(ludb, records, delineate_beats, noise=level)
        table = scores(noisy, truth_noisy).set_index("quantity")
        for name in ("QRS", "PR", "QT", "qrs_on", "qrs_off", "t_off"):
            rows.append({"noise": level, "quantity": name, "SD clean": base.loc[name, "SD ms"],
                         "SD noisy": table.loc[name, "SD ms"], "ratio": table.loc[name, "SD ms"] / base.loc[name, "SD ms"],
                         "gross clean": base.loc[name, "gross"], "gross noisy": table.loc[name, "gross"],
                         "measured clean": base.loc[name, "measured"], "measured noisy": table.loc[name, "measured"]})
    print(f"LUDB lead II, {len(truth)} beats; noise levels (wander peak mV, muscle RMS mV): {dict(NOISE_LEVELS)}")
    print(pd.DataFrame(rows).round(3).to_markdown(index=False))


if __name__ == "__main__":
    main()
