"""Single heartbeats from WFDB records (PTB Diagnostic ECG, MIT-BIH and alike)."""

import re
import warnings
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import wfdb
from joblib import Parallel, delayed
from scipy.signal import resample_poly

from ._rpeaks import detect_r_peaks

#: Names of lead II across databases, tried in order when ``lead=None``.
LEAD_II_NAMES = ("ii", "mlii", "ecg lead ii", "lead ii", "ecg ii", "ecg")
#: WFDB annotation symbols that mark a beat (PhysioNet's beat annotation codes).
BEAT_SYMBOLS = frozenset("NLRBAaJSVrFejnE/fQ?")
# Kaggle/Kachuee layout (Kachuee et al., 2018): 125 Hz, 10 s windows scaled to
# [0, 1], beats of 1.2 × the window's median RR from R, zero-padded to 187.
_KACHUEE = {"fs": 125.0, "length": 187, "chunk_s": 10.0, "rr_factor": 1.2}
_COLUMNS = ["record", "patient", "lead", "diagnosis", "label", "r_peak", "fs", "rr", "heart_rate"]


class _RecordError(ValueError):
    """A record that cannot give beats; the message starts with the record's path."""


def _record_paths(path):
    """Record paths (without extension) named by a record, a folder or a database root."""
    path = Path(path)
    if path.with_name(path.name + ".hea").is_file():
        return [path]
    if path.is_dir():
        listing = path / "RECORDS"
        if listing.is_file():
            names = [line.strip() for line in listing.read_text().splitlines() if line.strip()]
            return [path / name for name in names]
        records = sorted(p.with_suffix("") for p in path.rglob("*.hea"))
        if records:
            return records
        raise FileNotFoundError(f"{path}: no WFDB header (.hea) files and no RECORDS file in this folder.")
    raise FileNotFoundError(f"{path}: no such WFDB record ({path}.hea) or folder.")


def _read_leads(record_path, leads):
    """The record and, for each of ``leads``, its name and signal (columns of ``ecg``)."""
    try:
        record = wfdb.rdrecord(str(record_path))
    except FileNotFoundError as exc:
        raise _RecordError(f"{record_path}: missing file ({exc.filename or exc}).") from exc
    except Exception as exc:  # wfdb raises many types for corrupt or truncated files
        raise _RecordError(f"{record_path}: could not be read as a WFDB record ({exc}).") from exc
    indices = [_lead_index(record, record_path, lead) for lead in leads]
    if len(set(indices)) < len(indices):
        raise _RecordError(f"{record_path}: leads {list(leads)} name the same signal twice.")
    ecg = record.p_signal[:, indices].astype(float)
    return record, [record.sig_name[i] for i in indices], ecg


def _lead_index(record, record_path, lead):
    names = [name.strip().lower() for name in record.sig_name]
    if lead is None:
        index = next((names.index(name) for name in LEAD_II_NAMES if name in names), None)
        if index is None:
            raise _RecordError(f"{record_path}: no lead II among its leads {record.sig_name}; pass lead=NAME or INDEX.")
    elif isinstance(lead, (int, np.integer)):
        if not 0 <= lead < len(names):
            raise _RecordError(f"{record_path}: lead index {lead} out of range; leads are {record.sig_name}.")
        index = int(lead)
    elif str(lead).strip().lower() in names:
        index = names.index(str(lead).strip().lower())
    else:
        raise _RecordError(f"{record_path}: no lead named {lead!r}; available leads: {record.sig_name}.")
    return index


def _fill_nans(ecg, record_path, lead_name):
    """Linearly interpolate NaN samples of one lead; return the signal and the NaN mask."""
    missing = np.isnan(ecg)
    if missing.all():
        raise _RecordError(f"{record_path}: lead {lead_name} holds only NaN samples.")
    if missing.any():
        ecg = ecg.copy()
        ecg[missing] = np.interp(np.flatnonzero(missing), np.flatnonzero(~missing), ecg[~missing])
    return ecg, missing


def _annotated_peaks(record_path):
    try:
        annotation = wfdb.rdann(str(record_path), "atr")
    except FileNotFoundError as exc:
        raise _RecordError(f"{record_path}: annotations=True but there is no {record_path}.atr file.") from exc
    symbols = np.asarray(annotation.symbol)
    return np.asarray(annotation.sample)[np.isin(symbols, list(BEAT_SYMBOLS))].astype(int)


def _resample(ecg, fs_from, fs_to):
    if fs_from == fs_to:
        return ecg
    ratio = Fraction(fs_to / fs_from).limit_denominator(1000)
    return resample_poly(ecg, ratio.numerator, ratio.denominator)


def _cut_windows(ecg, peaks, before, after):
    """Rows ``ecg[p - before : p + after]``; peaks whose window leaves the signal are dropped."""
    keep = (peaks - before >= 0) & (peaks + after <= len(ecg))
    offsets = np.arange(-before, after)
    return ecg[peaks[keep, None] + offsets], keep


def _cut_kachuee(ecg, peaks, fs):
    """Beats in the Kachuee layout; returns rows and the kept mask over ``peaks``."""
    chunk = int(_KACHUEE["chunk_s"] * fs)
    length = _KACHUEE["length"]
    rows, keep = [], np.zeros(len(peaks), dtype=bool)
    for start in range(0, len(ecg), chunk):
        segment = ecg[start:start + chunk]
        inside = np.flatnonzero((peaks >= start) & (peaks < start + len(segment)))
        if len(inside) < 2 or np.ptp(segment) == 0:
            continue
        segment = (segment - segment.min()) / np.ptp(segment)
        span = int(round(_KACHUEE["rr_factor"] * np.median(np.diff(peaks[inside]))))
        for i in inside:
            beat = segment[peaks[i] - start:peaks[i] - start + min(span, length)]
            rows.append(np.pad(beat, (0, length - len(beat))))
            keep[i] = True
    return (np.array(rows) if rows else np.empty((0, length))), keep


def _diagnosis(comments):
    for line in comments:
        match = re.match(r"\s*reason for admission:\s*(.*)", line, flags=re.I)
        if match:
            return match.group(1).strip() or None
    return None


def _label(diagnosis):
    """1 for myocardial infarction, 0 for healthy control, NaN otherwise (PTB classes)."""
    if diagnosis is None:
        return np.nan
    text = diagnosis.lower()
    if "myocardial infarction" in text:
        return 1.0
    if "healthy control" in text:
        return 0.0
    return np.nan


def _record_beats(record_path, leads, fs, layout, window, annotations, heart_rate_range):
    record, lead_names, ecg = _read_leads(record_path, leads)
    filled = [_fill_nans(signal, record_path, name) for signal, name in zip(ecg.T, lead_names)]
    leads_ecg = [signal for signal, _ in filled]
    missing = np.any([mask for _, mask in filled], axis=0)
    fs_record = float(record.fs)
    # R peaks come from the first lead named; every lead is cut at the same peaks.
    peaks = _annotated_peaks(record_path) if annotations else detect_r_peaks(leads_ecg[0], fs_record)
    if len(peaks) < 2:
        raise _RecordError(f"{record_path}: fewer than two beats found (flat, too short or too noisy).")
    rr = np.diff(peaks) / fs_record
    rr = np.append(rr, rr[-1])  # the last beat takes its predecessor's RR
    heart_rate = 60.0 / rr
    low, high = heart_rate_range
    plausible = (heart_rate >= low) & (heart_rate <= high)
    # Beats within 100 ms of a NaN sample are built from interpolated signal.
    if missing.any():
        near_missing = np.convolve(missing, np.ones(2 * int(0.1 * fs_record) + 1), mode="same") > 0
        plausible &= ~near_missing[peaks]
    target_fs = _KACHUEE["fs"] if layout == "kachuee" else fs
    before, after = int(round(window[0] * target_fs)), int(round(window[1] * target_fs))
    cuts = []
    for signal in leads_ecg:
        resampled = _resample(signal, fs_record, target_fs)
        peaks_target = np.round(peaks * target_fs / fs_record).astype(int).clip(0, len(resampled) - 1)
        if layout == "kachuee":
            cuts.append(_cut_kachuee(resampled, peaks_target, target_fs))
        else:
            cuts.append(_cut_windows(resampled, peaks_target, before, after))
    # A beat is kept when every lead could cut it (the Kachuee layout skips a
    # lead's flat 10 s stretches); rows are channel-major:
    # [lead 1 samples | lead 2 samples | ...].
    kept = np.logical_and.reduce([lead_kept for _, lead_kept in cuts])
    beats = np.concatenate([rows[kept[lead_kept]] for rows, lead_kept in cuts], axis=1)
    beats = beats[plausible[kept]]
    selected = kept & plausible
    if len(beats) == 0:
        raise _RecordError(f"{record_path}: no complete beat with a plausible heart rate ({low}-{high} bpm).")
    diagnosis = _diagnosis(record.comments)
    patient = record_path.parent.name if record_path.parent.name.lower().startswith("patient") else record_path.name
    meta = pd.DataFrame({
        "record": str(record_path), "patient": patient, "lead": ",".join(lead_names), "diagnosis": diagnosis,
        "label": np.full(len(beats), _label(diagnosis)), "r_peak": peaks[selected], "fs": fs_record,
        "rr": rr[selected], "heart_rate": heart_rate[selected],
    }, columns=_COLUMNS)
    return beats, meta


def load_wfdb_heartbeats(path, *, lead=None, fs=125.0, layout="window", window=(0.25, 1.25),
                         annotations=False, heart_rate_range=(30.0, 200.0), errors="raise",
                         n_jobs=None, verbose=0, as_frame=False):
    """Cut single heartbeats out of WFDB ECG records.

    For each record: read one lead, fill NaN samples, find R peaks (a
    vectorised Pan–Tompkins detector refined to the QRS extremum, or the
    record's ``.atr`` beat annotations), drop beats with implausible heart
    rates, resample to ``fs`` and cut one row per beat.

    Parameters
    ----------
    path : str or path-like
        A record without extension (``.../s0010_re``), a folder of records, or
        a database root with a ``RECORDS`` file (the PTB layout
        ``patientNNN/sNNNN_re``).
    lead : str, int, None or list of them, default=None
        Lead name (case-insensitive: ``"ii"``, ``"MLII"``, ``"V5"``...) or
        index. None takes lead II under any of its usual names
        (:data:`LEAD_II_NAMES`). A list (``["i", "ii", "v1"]``) cuts every
        lead at the same R peaks, found on the *first* lead of the list (put
        the lead with the clearest QRS first), and returns channel-major
        rows ``[lead 1 samples | lead 2 samples | ...]`` for
        ``BetaVAETransformer(n_channels=len(lead))``.
    fs : float, default=125.0
        Sampling rate of the returned beats in Hz (``layout="window"``).
    layout : {"window", "kachuee"}, default="window"
        ``"window"``: ``window`` seconds around R, in the record's units.
        ``"kachuee"``: the Kaggle PTB/MIT-BIH CSV layout of Kachuee et al.
        (2018): 125 Hz, each 10 s stretch scaled to [0, 1], beats of 1.2 × the
        stretch's median RR starting at R, zero-padded to 187 samples. Fit
        such beats with ``BetaVAETransformer(scaling="global")``: per-feature
        standardization inflates the mostly-zero padded columns.
    window : (float, float), default=(0.25, 1.25)
        Seconds before and after R (``layout="window"``); beats whose window
        leaves the record are dropped.
    annotations : bool, default=False
        Use the record's ``.atr`` beat annotations instead of detection.
    heart_rate_range : (float, float), default=(30, 200)
        Beats whose instantaneous heart rate (bpm, from the RR interval to the
        next beat) falls outside are dropped.
    errors : {"raise", "warn"}, default="raise"
        What a bad record does: raise, or warn and be skipped (the others load).
    n_jobs : int or None, default=None
        Records read in parallel with joblib (None: one process).
    verbose : int, default=0
        joblib progress messages over records (10 prints every record).
    as_frame : bool, default=False
        Return ``X`` as a DataFrame whose columns name lead and sample
        (``ii_t042``: lead ii, sample 42 of the beat), which a fitted
        estimator keeps as ``feature_names_in_`` (plots then label leads).

    Returns
    -------
    X : ndarray or DataFrame of shape (n_beats, n_leads * n_samples)
        One heartbeat per row (all leads, channel-major).
    meta : pandas.DataFrame of shape (n_beats, 9)
        ``record``, ``patient`` (PTB folder name, else the record name),
        ``lead`` (lead names as the record spells them, comma-separated
        when several), ``diagnosis`` (PTB's ``Reason for admission:``), ``label``
        (1 myocardial infarction, 0 healthy control, NaN otherwise),
        ``r_peak`` (sample index at the record's rate), ``fs`` (the record's
        rate, Hz), ``rr`` (s) and ``heart_rate`` (bpm).

    Raises
    ------
    FileNotFoundError
        If ``path`` names no record or folder of records.
    ValueError
        For a record that cannot be read or gives no beat (``errors="raise"``,
        or when every record fails), naming the record.

    Examples
    --------
    >>> import tempfile, wfdb
    >>> from skbvae.datasets import make_ecg, load_wfdb_heartbeats
    >>> ecg, _ = make_ecg(20.0, fs=250, heart_rate=75, rr_jitter=0, random_state=0)
    >>> folder = tempfile.mkdtemp()
    >>> wfdb.wrsamp("rec1", fs=250, units=["mV"], sig_name=["II"], p_signal=ecg[:, None], fmt=["16"],
    ...             adc_gain=[1000.0], baseline=[0], write_dir=folder)
    >>> beats, meta = load_wfdb_heartbeats(f"{folder}/rec1")
    >>> beats.shape[1], int(round(meta["heart_rate"].median()))
    (187, 75)
    """
    if layout not in ("window", "kachuee"):
        raise ValueError(f"layout must be 'window' or 'kachuee'; got {layout!r}.")
    if errors not in ("raise", "warn"):
        raise ValueError(f"errors must be 'raise' or 'warn'; got {errors!r}.")
    if not fs > 0:
        raise ValueError(f"fs must be a positive sampling rate in Hz; got {fs!r}.")
    if not (window[0] >= 0 and window[1] > 0):
        raise ValueError(f"window must be (seconds before R >= 0, seconds after R > 0); got {window!r}.")
    leads = list(lead) if isinstance(lead, (list, tuple)) else [lead]
    if not leads:
        raise ValueError("lead must name at least one lead; got an empty list.")
    records = _record_paths(path)

    def load_one(record_path):
        try:
            return _record_beats(record_path, leads, fs, layout, window, annotations, heart_rate_range)
        except _RecordError as exc:
            if errors == "raise":
                raise ValueError(str(exc)) from exc
            return str(exc)

    results = Parallel(n_jobs=n_jobs, verbose=verbose)(delayed(load_one)(r) for r in records)
    loaded = []
    for result in results:
        if isinstance(result, str):
            warnings.warn(f"skipped {result}", RuntimeWarning, stacklevel=2)
        else:
            loaded.append(result)
    if not loaded:
        raise ValueError(f"{path}: none of its {len(records)} record(s) gave a heartbeat.")
    X = np.concatenate([beats for beats, _ in loaded])
    meta = pd.concat([m for _, m in loaded], ignore_index=True)
    if as_frame:
        names = [re.sub(r"\W+", "_", name.strip().lower()) for name in meta["lead"].iloc[0].split(",")]
        length = X.shape[1] // len(names)
        X = pd.DataFrame(X, columns=[f"{name}_t{k:03d}" for name in names for k in range(length)])
    return X, meta
