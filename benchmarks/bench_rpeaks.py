"""R-peak detection: skbvae against wfdb's XQRS and GQRS, on real and misbehaving synthetic records.

Real records (``--wfdb``, default ``../shared/data/wfdb``): every record there
that has an ECG lead. The reference is the ``.atr`` beat annotations where
they exist (MIT-BIH 100), else the beats on which XQRS and GQRS agree within
150 ms (their consensus), which is only as good as they are: read the beat
counts and rates beside it, and look at the signal where they disagree.

Synthetic records: :func:`skbvae.datasets.make_ecg` with each misbehaviour at
a known place (5 min, 250 and 500 Hz, seeds 0-2). Beats inside noise bursts
and dropouts (±200 ms) cannot be found and are left out of the reference and
of the detections alike; every other beat counts.

For each detector: beats found, sensitivity (Se, % of reference beats found
within 150 ms), positive predictivity (+P, % of detections that are reference
beats), median heart rate and time. ``loader`` is ``load_wfdb_heartbeats``
end to end on the same signal written with ``wfdb.wrsamp`` (detection, then
the quality check that drops noise; window beats that leave the record are
not counted as missed).

MIT-BIH (``--mitdb``, default ``../shared/data/mitdb``, DS1): the detector
and the loader on every annotated record against its ``.atr`` beats, per
record and pooled, with the false detections inside annotated ventricular
flutter counted apart.

    python benchmarks/bench_rpeaks.py [--wfdb ../shared/data/wfdb] [--mitdb ../shared/data/mitdb] [--quick]
"""

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import wfdb
from wfdb import processing

from skbvae.datasets import load_wfdb_heartbeats, make_ecg
from skbvae.ecg import detect_r_peaks
from skbvae.datasets._artefacts import readable_mask
from skbvae.datasets._records import BEAT_SYMBOLS, is_ecg, read_record

TOLERANCE_S = 0.15
CASES = {
    "clean": {},
    "tall T waves (1 mV)": {"t_amplitude": 1.0},
    "tall T waves, 110 bpm": {"t_amplitude": 1.0, "heart_rate": 110},
    "rectangles (40/min)": {"rectangles": 40},
    "baseline jumps (6/min)": {"baseline_jumps": 6},
    "noise bursts (3/min)": {"noise_bursts": 3},
    "dropouts (3/min)": {"dropouts": 3},
    "all of them": {"t_amplitude": 0.8, "rectangles": 40, "baseline_jumps": 6, "noise_bursts": 2, "dropouts": 2},
    # Clean beats of other shapes (make_ecg's rhythms), which the quality check must keep.
    "bigeminy": {"rhythm": "bigeminy"},
    "trigeminy": {"rhythm": "trigeminy"},
    "ventricular runs": {"rhythm": "ventricular_runs"},
    "escape beats": {"rhythm": "escape"},
    "bundle branch block episode": {"rhythm": "bundle_branch_episode"},
    "ventricular runs, noise bursts (3/min)": {"rhythm": "ventricular_runs", "noise_bursts": 3},
    "bigeminy, all artefacts": {"rhythm": "bigeminy", "t_amplitude": 0.8, "rectangles": 40, "baseline_jumps": 6,
                                "noise_bursts": 2, "dropouts": 2},
}
# Real records and the lead to read (None: lead II under its usual names).
REAL = [("100", "MLII"), ("100", "V5"), ("s0010_re", "ii"), ("v102s", "II"), ("v102s", "V"),
        ("p10143", "FECG"), ("test_generator_2", "ECG"), ("mixedsignals", "II"), ("3000003_0003", "II"),
        ("test01_00s", "ECG 1"), ("100_3chan", "II"), ("multi-segment/041s/041s", "III"),
        ("multi-segment/041s/041s", "I"), ("multi-segment/fixed1/v102s", "II")]


def match(detected, reference, fs):
    """Sensitivity and positive predictivity (%) with a ±150 ms tolerance."""
    detected, reference = np.sort(np.asarray(detected)), np.sort(np.asarray(reference))
    if len(reference) == 0 or len(detected) == 0:
        return (np.nan if len(reference) == 0 else 0.0), (np.nan if len(detected) == 0 else 0.0)
    return 100 * _found(reference, detected, fs).mean(), 100 * _found(detected, reference, fs).mean()


def detectors(ecg, fs):
    filled = np.nan_to_num(ecg, nan=float(np.nanmedian(ecg)))  # xqrs and gqrs do not take NaN
    return {
        "skbvae": lambda: detect_r_peaks(ecg, fs),
        "xqrs": lambda: processing.xqrs_detect(filled, fs, verbose=False),
        "gqrs": lambda: processing.gqrs_detect(filled, fs),
    }


def run(ecg, fs):
    out = {}
    for name, detect in detectors(ecg, fs).items():
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            peaks = np.asarray(detect(), dtype=int)
        out[name] = (peaks, time.perf_counter() - start)
    return out


def loader_peaks(ecg, fs, folder, name="case"):
    wfdb.wrsamp(name, fs=fs, units=["mV"], sig_name=["II"], p_signal=ecg[:, None], fmt=["16"],
                adc_gain=[1000.0], baseline=[0], write_dir=folder)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            _, meta = load_wfdb_heartbeats(f"{folder}/{name}", window=(0.0, 0.01))
        except ValueError:
            return np.array([], dtype=int)
    return meta["r_peak"].to_numpy()


def rate(peaks, fs):
    return 60 * fs / np.median(np.diff(peaks)) if len(peaks) > 2 else np.nan


def row(label, reference, results, fs):
    cells = [label, f"{len(reference)}"]
    for name, (peaks, seconds) in results.items():
        se, pp = match(peaks, reference, fs)
        cells.append(f"{len(peaks)} / {se:.2f} / {pp:.2f} / {rate(peaks, fs):.0f} / {seconds:.3f}")
    print("| " + " | ".join(cells) + " |", flush=True)


def synthetic(seeds, rates):
    names = ["skbvae", "xqrs", "gqrs", "loader"]
    print("\n### Synthetic records (make_ecg, 5 min; cells: beats / Se % / +P % / bpm / s)\n")
    print("| case, fs, seed | reference beats | " + " | ".join(names) + " |")
    print("|" + " --- |" * (2 + len(names)))
    with tempfile.TemporaryDirectory() as folder:
        for case, options in CASES.items():
            for fs in rates:
                for seed in seeds:
                    ecg, r_peaks, events = make_ecg(300.0, fs=fs, random_state=seed, return_events=True, **options)
                    readable = readable_mask(len(ecg), events, int(0.2 * fs))
                    reference = r_peaks[readable[r_peaks]]
                    results = run(ecg, fs)
                    start = time.perf_counter()
                    results["loader"] = (loader_peaks(ecg, fs, folder), time.perf_counter() - start)
                    results = {k: (p[readable[p]] if len(p) else p, t) for k, (p, t) in results.items()}
                    row(f"{case}, {fs} Hz, seed {seed}", reference, results, fs)


def real(root):
    print(f"\n### Real records ({root}; cells: beats / Se % / +P % / bpm / s)\n")
    print("| record, lead | reference | skbvae | xqrs | gqrs | load_wfdb_heartbeats |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, lead in REAL:
        path = root / name
        if not path.with_name(path.name + ".hea").is_file():
            continue
        record, signals, rates = read_record(path)
        lead_at = [s.strip().lower() for s in record.sig_name].index(lead.lower())
        ecg, fs = signals[lead_at], rates[lead_at]
        results = run(ecg, fs)
        if path.with_name(path.name + ".atr").is_file():
            annotation = wfdb.rdann(str(path), "atr")
            reference = annotation.sample[np.isin(annotation.symbol, list(BEAT_SYMBOLS))]
            label = f".atr ({len(reference)})"
        else:
            xqrs, gqrs = results["xqrs"][0], results["gqrs"][0]
            if len(xqrs) and len(gqrs):
                index = np.searchsorted(gqrs, xqrs).clip(1, len(gqrs) - 1)
                near = np.minimum(np.abs(xqrs - gqrs[index - 1]), np.abs(xqrs - gqrs[index])) <= TOLERANCE_S * fs
                reference = xqrs[near]
            else:
                reference = np.array([], dtype=int)
            label = f"xqrs+gqrs ({len(reference)})"
        units = (record.units or [""] * record.n_sig)[lead_at]
        note = "" if is_ecg(record.sig_name[lead_at], units) else " (not ECG)"
        cells = [f"{name} {lead}, {fs:g} Hz{note}", label]
        for detector, (peaks, seconds) in results.items():
            se, pp = match(peaks, reference, fs)
            cells.append(f"{len(peaks)} / {se:.1f} / {pp:.1f} / {rate(peaks, fs):.0f} / {seconds:.3f}")
        cells.append(loader_summary(path, lead))
        print("| " + " | ".join(cells) + " |", flush=True)


def loader_summary(path, lead):
    """What the loader makes of the record: beats and rate, seconds dropped, or the error it raises."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            _, meta = load_wfdb_heartbeats(path, lead=lead)
        except ValueError as exc:
            return "error: " + str(exc).split(": ", 1)[-1].split(" (")[0]
    dropped = [str(w.message) for w in caught if "without usable ECG" in str(w.message)]
    seconds = dropped[0].split("dropped ")[1].split(" s ")[0] + " s dropped" if dropped else "nothing dropped"
    return f"{len(meta)} beats, {meta['heart_rate'].median():.1f} bpm, {seconds}"


def speed():
    ecg, _ = make_ecg(1800.0, fs=360, heart_rate=75, random_state=0)
    results = run(ecg, 360)
    times = {name: seconds for name, (_, seconds) in results.items()}
    print(f"\n30 minutes at 360 Hz: skbvae {times['skbvae']:.3f} s, xqrs {times['xqrs']:.3f} s "
          f"({times['xqrs'] / times['skbvae']:.0f}x skbvae), gqrs {times['gqrs']:.3f} s "
          f"({times['gqrs'] / times['skbvae']:.0f}x skbvae)")


def flutter_episodes(symbols, samples, length):
    """Samples inside the annotated ventricular flutter/fibrillation episodes (``[`` to ``]``)."""
    inside = np.zeros(length, dtype=bool)
    for start, stop in zip(samples[symbols == "["], samples[symbols == "]"]):
        inside[start:stop + 1] = True
    return inside


def mitdb(root):
    """Detector and loader on every annotated record of ``root`` (MIT-BIH DS1), lead 0, pooled and per record.

    Beats annotated in ``.atr`` are the reference. Detections inside annotated
    flutter episodes that match no beat are counted as false positives (the
    issue's figure) and, apart, as ANSI/AAMI EC57 does, left out (``+P VF out``).
    """
    names = sorted({p.stem for p in root.glob("*.atr")})
    print(f"\n### MIT-BIH records ({root}, {len(names)} records, first lead; ±150 ms)\n")
    print("| record | beats | detector Se / +P % | FN / FP (in flutter) | loader Se / +P % |")
    print("| --- | --: | --- | --- | --- |")
    total = dict(ref=0, fn=0, fp=0, fp_vf=0, det=0, loader_found=0, loader_kept=0, loader_true=0)
    worst_loader = []
    for name in names:
        record = wfdb.rdrecord(str(root / name))
        annotation = wfdb.rdann(str(root / name), "atr")
        symbols, samples, fs = np.asarray(annotation.symbol), annotation.sample, float(record.fs)
        reference = samples[np.isin(symbols, list(BEAT_SYMBOLS))]
        vf = flutter_episodes(symbols, samples, record.sig_len)
        peaks = detect_r_peaks(record.p_signal[:, 0], fs)
        se, pp = match(peaks, reference, fs)
        fn = int((~_found(reference, peaks, fs)).sum())
        false = ~_found(peaks, reference, fs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _, meta = load_wfdb_heartbeats(str(root / name), window=(0.0, 0.01))
        loaded = np.sort(meta["r_peak"].to_numpy())
        loader_se, loader_pp = match(loaded, reference, fs)
        worst_loader.append((loader_se, name))
        total["ref"] += len(reference)
        total["fn"] += fn
        total["fp"] += int(false.sum())
        total["fp_vf"] += int((false & vf[peaks]).sum())
        total["loader_found"] += int(_found(reference, loaded, fs).sum())
        total["loader_kept"] += len(loaded)
        total["loader_true"] += int(_found(loaded, reference, fs).sum())
        print(f"| {name} {record.sig_name[0]} | {len(reference)} | {se:.2f} / {pp:.2f} | {fn} / {int(false.sum())} "
              f"({int((false & vf[peaks]).sum())}) | {loader_se:.2f} / {loader_pp:.2f} |", flush=True)
    found = total["ref"] - total["fn"]
    print(f"\nDetector, pooled: Se {100 * found / total['ref']:.3f} %, +P {100 * found / (found + total['fp']):.3f} % "
          f"(+P {100 * found / (found + total['fp'] - total['fp_vf']):.3f} % with flutter episodes left out as EC57 "
          f"does); {total['fn']} missed, {total['fp']} false ({total['fp_vf']} in flutter).")
    print(f"Loader, pooled: Se {100 * total['loader_found'] / total['ref']:.3f} %, "
          f"+P {100 * total['loader_true'] / total['loader_kept']:.3f} %; lowest records: "
          + ", ".join(f"{name} {value:.2f} %" for value, name in sorted(worst_loader)[:4]))


def ludb(root, leads=("ii", "v1", "v5")):
    """The detector on LUDB (200 patients, 10 s at 500 Hz) against the cardiologists' QRS peaks, lead by lead.

    LUDB annotates the beats away from the record's ends: detections more than 0.5 s outside the first and
    last annotated beat are not counted.
    """
    from bench_delineation import reference  # benchmarks/ is on sys.path

    counts = {lead: [0, 0, 0] for lead in leads}  # true, missed, false
    for record in range(1, 201):
        for lead in leads:
            truth = reference(root, record, lead)
            if truth.empty:
                continue
            signal = wfdb.rdrecord(str(root / str(record)), channel_names=[lead]).p_signal[:, 0]
            r = truth.r.to_numpy()
            peaks = detect_r_peaks(signal, 500.0)
            peaks = peaks[(peaks >= r.min() - 250) & (peaks <= r.max() + 250)]
            found = _found(r, peaks, 500.0)
            counts[lead][0] += int(found.sum())
            counts[lead][1] += int((~found).sum())
            counts[lead][2] += int((~_found(peaks, r, 500.0)).sum())
    print(f"\n### LUDB ({root}; ±150 ms around the annotated QRS peaks)\n")
    for lead, (true, missed, false) in counts.items():
        print(f"- lead {lead}: {true + missed} beats, Se {100 * true / (true + missed):.3f} %, "
              f"+P {100 * true / max(1, true + false):.3f} % ({missed} missed, {false} false)")


def _found(a, b, fs):
    """Which of ``a`` have one of ``b`` within the tolerance."""
    a, b = np.asarray(a), np.sort(np.asarray(b))
    if len(b) == 0:
        return np.zeros(len(a), dtype=bool)
    index = np.searchsorted(b, a).clip(1, len(b) - 1)
    return np.minimum(np.abs(a - b[index - 1]), np.abs(a - b[index])) <= TOLERANCE_S * fs


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wfdb", default=str(Path(__file__).parents[1] / ".." / "shared" / "data" / "wfdb"))
    parser.add_argument("--mitdb", default=str(Path(__file__).parents[1] / ".." / "shared" / "data" / "mitdb"),
                        help="folder of annotated MIT-BIH records (DS1), detector and loader per record")
    parser.add_argument("--only-mitdb", action="store_true", help="the MIT-BIH (and LUDB) tables alone")
    parser.add_argument("--ludb", default=str(Path(__file__).parents[1] / ".." / "shared" / "data" / "ludb"),
                        help="LUDB folder: the detector against its annotated QRS peaks on leads II, V1, V5")
    parser.add_argument("--quick", action="store_true", help="one seed at 250 Hz only")
    args = parser.parse_args()
    if Path(args.mitdb).is_dir():
        mitdb(Path(args.mitdb))
    if Path(args.ludb, "1.hea").is_file():
        ludb(Path(args.ludb))
    if args.only_mitdb:
        return
    speed()
    root = Path(args.wfdb)
    if root.is_dir():
        real(root)
    else:
        print(f"\n(no real records at {root}; pass --wfdb)")
    synthetic([0] if args.quick else [0, 1, 2], [250] if args.quick else [250, 500])


if __name__ == "__main__":
    main()
