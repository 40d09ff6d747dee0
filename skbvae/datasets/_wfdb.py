"""Single heartbeats from WFDB records (PTB Diagnostic ECG, MIT-BIH and alike)."""

import numbers
import re
import warnings
from fractions import Fraction

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from scipy.signal import resample_poly

from ..exceptions import RecordError
from ._features import measure_beat_features
from ._quality import MIN_QUALITY, assess_lead
from ._records import (BEAT_SYMBOLS, LEAD_II_NAMES, amplitude_floor, annotated_peaks, check_lead_rate,
                       lead_index, read_record, record_paths)
from ._rpeaks import detect_r_peaks, fill_missing, rr_intervals, step_free

__all__ = ["BEAT_SYMBOLS", "LEAD_II_NAMES", "load_wfdb_heartbeats"]

# Kaggle/Kachuee layout (Kachuee et al., 2018): 125 Hz, 10 s windows scaled to
# [0, 1], beats of 1.2 × the window's median RR from R, zero-padded to 187.
_KACHUEE = {"fs": 125.0, "length": 187, "chunk_s": 10.0, "rr_factor": 1.2}
_COLUMNS = ["record", "patient", "lead", "diagnosis", "label", "r_peak", "fs", "rr", "heart_rate", "quality", "shape"]


def _read_leads(record_path, leads, allow_non_ecg):
    """The record and, for each of ``leads``: name, signal at its own rate, rate and units."""
    record, signals, rates = read_record(record_path)
    indices = [lead_index(record, record_path, lead, allow_non_ecg=allow_non_ecg) for lead in leads]
    if len(set(indices)) < len(indices):
        raise RecordError(f"{record_path}: leads {list(leads)} name the same signal twice.", record=record_path)
    names = [record.sig_name[i] for i in indices]
    for i, name in zip(indices, names):
        check_lead_rate(record_path, name, rates[i])
        if np.isnan(signals[i]).all():
            raise RecordError(f"{record_path}: lead {name} holds only missing (NaN) samples.", record=record_path)
    units = [(record.units[i] if record.units else "") for i in indices]
    return record, names, [signals[i] for i in indices], [rates[i] for i in indices], units


def _describe(stretches, limit=3):
    shown = ", ".join(f"{start:.2f}-{stop:.2f} s {reason}" for start, stop, reason in stretches[:limit])
    return shown + (f" and {len(stretches) - limit} more" if len(stretches) > limit else "")


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


def _record_beats(record_path, leads, fs, layout, window, annotations, heart_rate_range, min_quality,
                  allow_non_ecg, features=False):
    record, lead_names, signals, rates, units = _read_leads(record_path, leads, allow_non_ecg)
    filled = [fill_missing(signal) for signal in signals]
    first, missing = filled[0]
    fs_lead = rates[0]
    floor = amplitude_floor(units[0])
    # R peaks come from the first lead named, at its own rate; every lead is cut at the same times.
    if annotations:
        peaks = annotated_peaks(record_path, float(record.fs), fs_lead)
        peaks = peaks[(peaks >= 0) & (peaks < len(first))]
    else:
        peaks = detect_r_peaks(np.where(missing, np.nan, first), fs_lead, min_amplitude=floor)
    where = f"{record_path}: lead {lead_names[0]}"
    if len(peaks) < 2:
        under = f" or a QRS under {floor:g} {units[0]}" if floor is not None else ""
        raise RecordError(f"{where}: fewer than two beats found: no ECG in it (flat, noise{under}), or too short.",
                          record=record_path)
    if floor is None:  # units that are not a voltage: 2 % of the typical R amplitude
        floor = 0.02 * np.median(np.abs(step_free(first, fs_lead)[peaks]))
    quality, shape, unlike_median, good, dropped, stretches, masks = assess_lead(
        first, fs_lead, peaks, missing, floor=floor, min_quality=min_quality)
    # Annotated beats are the reference: only signal that is really gone breaks their RR intervals.
    lost = [reason for reason in masks if not (annotations and reason == "noise")]
    unusable = np.logical_or.reduce([masks[reason] for reason in lost])
    if annotations:
        good = np.ones(len(peaks), dtype=bool)  # reference beats are kept; their quality is reported
    elif good.sum() < 2 or good.mean() < 0.5 or unlike_median > 0.5 * len(peaks):
        raise RecordError(
            f"{where} holds no usable ECG: {max(int((~good).sum()), unlike_median)} of "
            f"{len(peaks)} detected beats look like noise "
            f"(median correlation with the median beat {np.nanmedian(quality):.2f}; an ECG's is above 0.9).",
            record=record_path)
    notices = [record.header_notice] if getattr(record, "header_notice", None) else []
    if not annotations and sum(dropped.values()) > 0:
        seconds = ", ".join(f"{reason} {value:.2g} s" for reason, value in dropped.items() if value > 0)
        lost = int((~good).sum())
        notices.append(f"{where}: dropped {sum(dropped.values()):.3g} s without usable ECG ({seconds}; at "
                       f"{_describe(stretches)})" + (f" and the {lost} beat(s) there." if lost else "."))
    rr = rr_intervals(peaks, unusable) / fs_lead
    heart_rate = 60.0 / rr
    low, high = heart_rate_range
    plausible = (heart_rate >= low) & (heart_rate <= high) & good
    target_fs = _KACHUEE["fs"] if layout == "kachuee" else fs
    before, after = int(round(window[0] * target_fs)), int(round(window[1] * target_fs))
    cuts = []
    for (signal, _), rate in zip(filled, rates):
        resampled = _resample(signal, rate, target_fs)
        peaks_target = np.round(peaks * target_fs / fs_lead).astype(int).clip(0, len(resampled) - 1)
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
        raise RecordError(f"{where}: no complete, usable beat with a plausible heart rate ({low}-{high} bpm).",
                          record=record_path)
    diagnosis = _diagnosis(record.comments)
    patient = record_path.parent.name if record_path.parent.name.lower().startswith("patient") else record_path.name
    meta = pd.DataFrame({
        "record": str(record_path), "patient": patient, "lead": ",".join(lead_names), "diagnosis": diagnosis,
        "label": np.full(len(beats), _label(diagnosis)), "r_peak": peaks[selected], "fs": fs_lead,
        "rr": rr[selected], "heart_rate": heart_rate[selected], "quality": quality[selected],
        "shape": shape[selected],
    }, columns=_COLUMNS)
    if features:
        # Measured on the continuous first lead at its own rate (not on the
        # resampled window), missing samples as NaN; heart_rate is already there.
        measured = measure_beat_features(np.where(missing, np.nan, first), fs_lead, peaks[selected])
        for name in measured.columns.drop("heart_rate"):
            meta[name] = measured[name].to_numpy()
    return beats, meta, notices, units


def load_wfdb_heartbeats(path, *, lead=None, fs=125.0, layout="window", window=(0.25, 1.25),
                         annotations=False, heart_rate_range=(30.0, 200.0), min_quality=MIN_QUALITY,
                         allow_non_ecg=False, features=False, errors="raise", n_jobs=None, verbose=0,
                         as_frame=False):
    """Cut single heartbeats out of WFDB ECG records.

    For each record: read the lead at its own rate (multi-frequency records
    are not frame-averaged; a multi-segment record is read once through its
    master header), fill NaN samples, find R peaks (:func:`detect_r_peaks`,
    or the record's ``.atr`` beat annotations), drop the beats of stretches
    without usable ECG (noise, flat line, saturation, dropouts) and those with
    implausible heart rates, resample to ``fs`` and cut one row per beat.

    Parameters
    ----------
    path : str or path-like
        A record without extension (``.../s0010_re``) or one of its files
        (``s0010_re.hea``, ``.dat``, ``.mat``), a folder of records, or a
        database root with a ``RECORDS`` file (the PTB layout
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
    min_quality : float, default=0.5
        Beats whose quality (correlation with the nearest of the record's
        beat shapes, the best over ±100 ms shifts; ECG beats score 0.9-1,
        beats found in noise 0.1-0.4) is lower are dropped, with the stretch
        of signal they stand for. The shapes are the median beat and those
        that recur among the beats it would reject (ventricular or escape
        beats, in bigeminy or in runs), so clean beats of another shape are
        kept and noise, which does not recur, is not. Flat, saturated and missing stretches are dropped too; a warning
        names the record and the seconds dropped. A lead where fewer than half
        the beats reach ``min_quality`` holds no usable ECG and is an error.
        With ``annotations=True`` every annotated beat is kept (the quality is
        still reported).
    allow_non_ecg : bool, default=False
        Cut beats from a signal that is not an ECG by its name (PLETH, ABP,
        RESP, ...) or units (mmHg, NU, Ohm, ...), which is otherwise refused.
    errors : {"raise", "warn"}, default="raise"
        What a bad record does: raise a :class:`~skbvae.exceptions.RecordError`
        naming the record and what is wrong, or warn and be skipped (the
        others load).
    n_jobs : int or None, default=None
        Records read in parallel with joblib (None: one process).
    verbose : int, default=0
        joblib progress messages over records (10 prints every record).
    features : bool, default=False
        Add the measured beat features of
        :func:`~skbvae.datasets.measure_beat_features` to ``meta``:
        ``r_amplitude``, ``qrs_duration``, ``st_level``, ``t_amplitude``
        and ``pr_interval`` (``heart_rate`` is always there), measured on the
        continuous first lead at its own rate. They are the factors of real
        beats, for the disentanglement metrics and
        :func:`~skbvae.plotting.plot_latent_vs_factor`.
    as_frame : bool, default=False
        Return ``X`` as a DataFrame whose columns name lead and sample
        (``ii_t042``: lead ii, sample 42 of the beat), which a fitted
        estimator keeps as ``feature_names_in_`` (plots then label leads).
        Its ``attrs["signal"]`` holds the beats' rate (``fs``), the time of
        their first sample from R (``start``, s) and their units; an
        estimator fitted on it keeps them as ``signal_info_``, and the
        plots of :mod:`skbvae.plotting` then draw seconds from R and mV.

    Returns
    -------
    X : ndarray or DataFrame of shape (n_beats, n_leads * n_samples)
        One heartbeat per row (all leads, channel-major).
    meta : pandas.DataFrame of shape (n_beats, 11)
        ``record``, ``patient`` (PTB folder name, else the record name),
        ``lead`` (lead names as the record spells them, comma-separated
        when several), ``diagnosis`` (PTB's ``Reason for admission:``), ``label``
        (1 myocardial infarction, 0 healthy control, NaN otherwise),
        ``r_peak`` (sample index at the first lead's own rate), ``fs`` (that
        rate, Hz: ``fs × samples per frame`` of a multi-frequency record),
        ``rr`` (s), ``heart_rate`` (bpm), ``quality`` (the beat's
        correlation with the nearest of the record's beat shapes) and
        ``shape`` (which shape: 0 the median beat, 1, 2, ... other shapes
        that recur in the record, such as ventricular beats, -1 a lone beat
        of its own shape); with ``features=True`` five more columns of
        measured beat features.

    Raises
    ------
    FileNotFoundError
        If ``path`` names no record or folder of records.
    skbvae.exceptions.RecordError
        A ``ValueError`` for a record that cannot be read or gives no usable
        beat (``errors="raise"``, or when every record fails), naming the
        record and what is wrong: a missing or truncated signal file, a
        sampling rate that is not a number or no ECG's, a missing or non-ECG
        lead (with the leads that exist), no usable ECG.

    Warns
    -----
    RuntimeWarning
        For the seconds of a record dropped as unusable, for each record
        skipped under ``errors="warn"``, and once for a record whose header's
        base time or date is not in WFDB's form (``2014-05-08 05:05:15``, as
        the PhysioNet/CinC Challenge 2017 writes it; a year alone): wfdb cannot
        parse such a header, so it is read without those fields, which play
        no part in cutting beats.

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
    records = record_paths(path)

    if not (isinstance(min_quality, numbers.Real) and -1 <= min_quality <= 1):
        raise ValueError(f"min_quality must be a correlation in [-1, 1]; got {min_quality!r}.")

    def load_one(record_path):
        try:
            return _record_beats(record_path, leads, fs, layout, window, annotations, heart_rate_range,
                                 min_quality, allow_non_ecg, features)
        except RecordError as exc:
            failure = exc
        except Exception as exc:  # noqa: BLE001 - any failure of one record names that record
            failure = RecordError(f"{record_path}: failed while cutting beats ({type(exc).__name__}: {exc}).",
                                  record=record_path)
            failure.__cause__ = exc
        if errors == "raise":
            raise failure
        return failure

    results = Parallel(n_jobs=n_jobs, verbose=verbose)(delayed(load_one)(r) for r in records)
    # Warnings are given here, not in the workers, so that they reach the caller under n_jobs too.
    loaded = []
    for result in results:
        if isinstance(result, RecordError):
            warnings.warn(f"skipped {result}", RuntimeWarning, stacklevel=2)
            continue
        beats, meta, notices, units = result
        for notice in notices:
            warnings.warn(notice, RuntimeWarning, stacklevel=2)
        loaded.append((beats, meta, units))
    if not loaded:
        raise RecordError(f"{path}: none of its {len(records)} record(s) gave a heartbeat (see the warnings).")
    X = np.concatenate([beats for beats, _, _ in loaded])
    meta = pd.concat([m for _, m, _ in loaded], ignore_index=True)
    if as_frame:
        names = [re.sub(r"\W+", "_", name.strip().lower()) for name in meta["lead"].iloc[0].split(",")]
        length = X.shape[1] // len(names)
        X = pd.DataFrame(X, columns=[f"{name}_t{k:03d}" for name in names for k in range(length)])
        # What plots need to draw seconds from R and the signal's units; a
        # BetaVAETransformer fitted on this frame keeps it (signal_info_).
        units = {tuple(u) for _, _, u in loaded}
        kachuee = layout == "kachuee"
        X.attrs["signal"] = {"fs": float(_KACHUEE["fs"] if kachuee else fs),
                             "start": 0.0 if kachuee else -float(window[0]),
                             "units": "scaled to [0, 1]" if kachuee else
                             (", ".join(next(iter(units))) if len(units) == 1 else None)}
    return X, meta
