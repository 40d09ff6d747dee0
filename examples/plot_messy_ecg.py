"""Messy records: which beats the loader keeps, and which stretches it drops.
==========================================================================

Real records are not clean: an ICU monitor's rectangular pulses, baseline
jumps, bursts of noise, the signal lost for seconds, T waves as tall as the R.
Nor are hearts regular: runs of ventricular beats look nothing like the
record's normal beat, yet they are clean ECG, often the beats a study is
about. This example writes a synthetic record with all of them at known
places (:func:`skbvae.datasets.make_ecg` with ``rhythm="ventricular_runs"``,
``rectangles=``, ``baseline_jumps=``, ``noise_bursts=``, ``dropouts=`` and
``t_amplitude=``), loads it with :func:`skbvae.datasets.load_wfdb_heartbeats`
like any WFDB record, and draws the signal with the beats kept (triangles
coloured by ``meta["shape"]``, the beat shape the loader learned from the
record: 0 the median beat, 1 the ventricular beats), the beats the quality
check dropped (red crosses, with their quality) and the artefacts as
``make_ecg`` placed them (shaded; baseline jumps as dashed lines). It prints
the loader's warning and the sensitivity and positive predictivity against
the true R peaks outside noise bursts and dropouts, for every beat and for the
ventricular ones.

``--wfdb RECORD`` (and ``--lead``) draws a real record instead, e.g.
``../shared/data/wfdb/v102s``: 300 s of an ICU alarm record whose tall T waves
other detectors count as beats.

.. code-block:: bash

    python examples/plot_messy_ecg.py [--wfdb RECORD --lead II] [--rhythm sinus] [--seconds 20] [--out examples/output]

Writes ``messy_ecg.png`` (committed in ``docs/_static``):

.. image:: /_static/messy_ecg.png
   :width: 100%
"""

import argparse
import tempfile
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import wfdb  # noqa: E402

from skbvae.datasets import RHYTHMS, load_wfdb_heartbeats, make_ecg  # noqa: E402
from skbvae.datasets._artefacts import readable_mask  # noqa: E402
from skbvae.datasets._records import read_record  # noqa: E402

COLOURS = {"rectangles": "tab:orange", "baseline_jumps": "tab:purple", "noise_bursts": "tab:red",
           "dropouts": "tab:brown"}


SHAPE_COLOURS = {0: "tab:green", 1: "tab:blue", 2: "tab:purple", 3: "tab:olive", 4: "tab:cyan", -1: "tab:orange"}


def synthetic_record(folder, seconds, rhythm):
    ecg, r_peaks, events, kinds = make_ecg(seconds, fs=250, t_amplitude=0.8, rectangles=40, baseline_jumps=6,
                                           noise_bursts=4, dropouts=4, rhythm=rhythm, random_state=3,
                                           return_events=True, return_kinds=True)
    wfdb.wrsamp("messy", fs=250, units=["mV"], sig_name=["II"], p_signal=ecg[:, None], fmt=["16"],
                adc_gain=[1000.0], baseline=[0], write_dir=str(folder))
    return Path(folder) / "messy", "II", r_peaks, events, kinds


def load(path, lead):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _, meta = load_wfdb_heartbeats(path, lead=lead, window=(0.0, 0.01))
        _, everything = load_wfdb_heartbeats(path, lead=lead, window=(0.0, 0.01), min_quality=-1.0)
    for warning in caught[:1]:  # the first load's (the second keeps every beat of quality >= -1)
        print("warning:", warning.message)
    return meta, everything


def score(found, truth, fs, tolerance_s=0.15):
    distance = np.abs(found[:, None] - truth[None, :])
    return 100 * (distance.min(axis=0) <= tolerance_s * fs).mean(), 100 * (distance.min(axis=1) <= tolerance_s * fs).mean()


def draw(ecg, fs, meta, everything, events, seconds, title, out):
    rows = int(np.ceil(len(ecg) / fs / seconds))
    rows = min(rows, 6)
    fig, axes = plt.subplots(rows, 1, figsize=(14, 2.2 * rows), sharey=True, squeeze=False)
    kept = meta["r_peak"].to_numpy()
    dropped = everything[~everything["r_peak"].isin(kept)]
    t = np.arange(len(ecg)) / fs
    for row, ax in enumerate(axes[:, 0]):
        lo, hi = int(row * seconds * fs), min(len(ecg), int((row + 1) * seconds * fs))
        ax.plot(t[lo:hi], ecg[lo:hi], color="black", lw=0.6)
        if events is not None:
            for event in events.itertuples():
                if event.kind == "baseline_jumps":  # a jump lasts to the next one: mark where it happens
                    if lo <= event.start < hi:
                        ax.axvline(event.start / fs, color=COLOURS[event.kind], ls="--", lw=1)
                elif event.stop > lo and event.start < hi:
                    ax.axvspan(max(event.start, lo) / fs, min(event.stop, hi) / fs, color=COLOURS[event.kind],
                               alpha=0.2, lw=0)
        for shape, colour in SHAPE_COLOURS.items():
            inside = meta.loc[(meta["shape"] == shape) & meta["r_peak"].between(lo, hi - 1), "r_peak"]
            name = "lone beat of its own shape" if shape == -1 else f"kept, shape {shape}"
            ax.plot(inside / fs, ecg[inside], "v", color=colour, ms=5, label=name if len(inside) else None)
        lost = dropped[(dropped["r_peak"] >= lo) & (dropped["r_peak"] < hi)]
        ax.plot(lost["r_peak"] / fs, ecg[lost["r_peak"]], "x", color="tab:red", ms=6, label="beat dropped")
        # Quality of the dropped beats, readable: one label per 0.4 s at most,
        # above the panel's signal rather than on it.
        last = -np.inf
        top = np.nanmax(ecg[lo:hi]) if hi > lo else 0.0
        for peak, quality in zip(lost["r_peak"], lost["quality"]):
            if peak / fs - last < 0.4:
                continue
            ax.annotate(f"{quality:.2f}", (peak / fs, top), fontsize=8, color="tab:red", ha="center",
                        xytext=(0, 6), textcoords="offset points")
            last = peak / fs
        ax.set_xlim(lo / fs, hi / fs)
    handles, labels = [], []
    for ax in axes[:, 0]:  # shapes that first appear in a later row still get a legend entry
        for handle, label in zip(*ax.get_legend_handles_labels()):
            if label not in labels:
                handles.append(handle)
                labels.append(label)
    if events is not None:
        handles += [plt.Line2D([], [], color=c, ls="--") if kind == "baseline_jumps"
                    else plt.Rectangle((0, 0), 1, 1, color=c, alpha=0.3) for kind, c in COLOURS.items()]
        labels += [kind.replace("_", " ") for kind in COLOURS]
    fig.legend(handles, labels, loc="upper right", ncol=3, fontsize=8)
    fig.supxlabel("time (s)")
    fig.supylabel("mV")
    fig.suptitle(title, x=0.01, ha="left")
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    fig.savefig(out, dpi=110)
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wfdb", help="a real WFDB record to draw instead of the synthetic one")
    parser.add_argument("--lead", default=None)
    parser.add_argument("--rhythm", default="ventricular_runs", choices=RHYTHMS,
                        help="rhythm of the synthetic record (make_ecg's rhythm=)")
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds per row")
    parser.add_argument("--out", default="examples/output")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        if args.wfdb:
            path, lead, truth, events, kinds = Path(args.wfdb), args.lead, None, None, None
        else:
            path, lead, truth, events, kinds = synthetic_record(folder, 6 * args.seconds, args.rhythm)
        meta, everything = load(path, lead)
        record, signals, rates = read_record(path)
        index = [name.lower() for name in record.sig_name].index(meta["lead"].iloc[0].lower())
        ecg, fs = signals[index], rates[index]
        print(f"{len(meta)} beats kept of {len(everything)} detected; median heart rate "
              f"{meta['heart_rate'].median():.1f} bpm")
        if truth is not None:
            readable = readable_mask(len(ecg), events, int(0.2 * fs))
            inside = (truth < len(ecg) - 0.01 * fs) & readable[truth.clip(0, len(ecg) - 1)]
            truth, kinds = truth[inside], kinds[inside]
            kept = meta["r_peak"].to_numpy()
            se, pp = score(kept[readable[kept]], truth, fs)
            print(f"against the true R peaks outside noise bursts and dropouts: sensitivity {se:.1f} %, "
                  f"positive predictivity {pp:.1f} %")
            for kind in sorted(set(kinds) - {"N"}):
                found, _ = score(kept, truth[kinds == kind], fs)
                print(f"beats of kind {kind!r} (MIT-BIH symbol): {(kinds == kind).sum()}, {found:.1f} % kept")
        title = (f"{path.name}, lead {meta['lead'].iloc[0]}: {len(meta)} beats kept, "
                 f"{len(everything) - len(meta)} dropped by the quality check")
        draw(ecg, fs, meta, everything, events, args.seconds, title, out / "messy_ecg.png")
    print(f"figures written to {out}/")


if __name__ == "__main__":
    main()
