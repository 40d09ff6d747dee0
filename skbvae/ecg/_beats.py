"""Heartbeats cut from an ECG: at detected or given R peaks, with quality, RR features, labels and measured features.

One place cuts beats, for records on disk (:func:`~skbvae.datasets.load_wfdb_heartbeats`)
and for signals already in memory (:func:`cut_heartbeats`), so both give the
same beats for the same signal.

RR features are those of the inter-patient heartbeat-classification
literature (de Chazal et al., 2004; Mar et al., 2011): the intervals to the
previous and the next beat, their local mean over the ten beats around, and
the record's mean, so that a classifier can compare a beat's timing with its
own patient's rhythm.
"""

import numbers
import re
import warnings
from fractions import Fraction

import numpy as np
import pandas as pd
from scipy.signal import resample_poly

from ..exceptions import RecordError
from ._features import measure_beat_features
from ._quality import MIN_QUALITY, assess_lead
from ._rpeaks import _detect, amplitude_floor, check_ecg_signal, fill_missing, rr_intervals, step_free

#: AAMI EC57 heartbeat classes of the MIT-BIH beat symbols (de Chazal et al., 2004):
#: N (normal, bundle branch block, escape beats), S (supraventricular ectopic), V
#: (ventricular ectopic), F (fusion of ventricular and normal) and Q (paced,
#: fusion of paced and normal, unclassifiable). Paced records are therefore Q.
AAMI_CLASSES = {
    "N": "N", "L": "N", "R": "N", "e": "N", "j": "N", "B": "N", "n": "N",
    "A": "S", "a": "S", "J": "S", "S": "S",
    "V": "V", "E": "V", "r": "V",
    "F": "F",
    "/": "Q", "f": "Q", "Q": "Q", "?": "Q",
}
#: An RR interval up to this long (s) after a beat at a plausible rate is a
#: sinus pause or a block: the beat before it is kept (longer, no beat was found).
MAX_PAUSE_S = 6.0
#: ``rr_local`` is the mean of the RR intervals of this many beats around each beat.
RR_LOCAL_BEATS = 10
#: Columns of the beat metadata, after the loader's record columns.
BEAT_COLUMNS = ["r_peak", "fs", "rr", "heart_rate", "rr_pre", "rr_post", "rr_local", "rr_record", "quality",
                "shape"]

#: What ``baseline`` takes: ``"keep"`` leaves each window at the record's level,
#: ``"record"`` subtracts the lead's median over the whole record from every window,
#: ``"median"`` subtracts each lead's window median from that window.
BASELINES = ("keep", "record", "median")

# Kaggle/Kachuee layout (Kachuee et al., 2018): 125 Hz, 10 s windows scaled to
# [0, 1], beats of 1.2 × the window's median RR from R, zero-padded to 187.
KACHUEE = {"fs": 125.0, "length": 187, "chunk_s": 10.0, "rr_factor": 1.2}


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
    chunk = int(KACHUEE["chunk_s"] * fs)
    length = KACHUEE["length"]
    rows, keep = [], np.zeros(len(peaks), dtype=bool)
    for start in range(0, len(ecg), chunk):
        segment = ecg[start:start + chunk]
        inside = np.flatnonzero((peaks >= start) & (peaks < start + len(segment)))
        if len(inside) < 2 or np.ptp(segment) == 0:
            continue
        segment = (segment - segment.min()) / np.ptp(segment)
        span = int(round(KACHUEE["rr_factor"] * np.median(np.diff(peaks[inside]))))
        for i in inside:
            beat = segment[peaks[i] - start:peaks[i] - start + min(span, length)]
            rows.append(np.pad(beat, (0, length - len(beat))))
            keep[i] = True
    return (np.array(rows) if rows else np.empty((0, length))), keep


def _baseline_levels(rows, signal, baseline):
    """The level ``baseline`` takes out of each of one lead's windows ``rows`` (cut from ``signal``).

    ``"median"``: each window's own median, the level of its isoelectric
    stretches (the QRS and most of the T wave are less than half of a window
    of 1-2 s around R), so the record's DC offset and the slow wander under
    the beat go and the waves keep their height above it. ``"record"``: the
    median of all the lead's samples (mostly isoelectric), one level for every
    window: the recorder's offset goes, each beat's level against its
    neighbours stays.
    """
    if baseline == "median":
        return np.median(rows, axis=1)
    return np.full(len(rows), np.median(signal))


def _describe(stretches, limit=3):
    shown = ", ".join(f"{start:.2f}-{stop:.2f} s {reason}" for start, stop, reason in stretches[:limit])
    return shown + (f" and {len(stretches) - limit} more" if len(stretches) > limit else "")


def rr_features(peaks, fs, unusable=None):
    """RR features of every beat, in seconds: ``rr_pre``, ``rr_post``, ``rr_local`` and ``rr_record``.

    ``rr_pre`` / ``rr_post``: the interval from the previous beat / to the
    next one (NaN for the first / last beat, and across a lost stretch,
    ``unusable``, where beats between were not seen). ``rr_local``: the mean of
    ``rr_pre`` over the :data:`RR_LOCAL_BEATS` beats centred on the beat.
    ``rr_record``: the mean of every ``rr_pre`` of the record.
    """
    intervals = np.diff(peaks).astype(float) / fs
    if unusable is not None and len(peaks):
        lost = np.cumsum(unusable)
        intervals[lost[peaks[1:]] - lost[peaks[:-1]] > 0] = np.nan
    rr_pre = np.concatenate([[np.nan], intervals])
    rr_post = np.concatenate([intervals, [np.nan]])
    rr_local = pd.Series(rr_pre).rolling(RR_LOCAL_BEATS, center=True, min_periods=1).mean().to_numpy()
    rr_record = np.full(len(peaks), np.nanmean(intervals) if np.isfinite(intervals).any() else np.nan)
    return {"rr_pre": rr_pre, "rr_post": rr_post, "rr_local": rr_local, "rr_record": rr_record}


#: Sampling rates ECGs are commonly recorded at, to suggest when ``fs`` looks wrong.
COMMON_RATES = (125.0, 128.0, 200.0, 250.0, 256.0, 257.0, 360.0, 500.0, 1000.0)


def _check_rate_says_fs_is_right(heart_rate, fs, heart_rate_range, where, record):
    """Raise when the detected beats' median rate is implausible: the likely cause is a wrong ``fs``.

    The detector finds the same beats whatever ``fs`` it is told, so a wrong
    rate scales every heart rate by the same factor (MIT-BIH 100 at 360 Hz
    read as 125 Hz: 26 bpm instead of 75). Without this check a few beats
    passed as "pauses" and came back without a word.
    """
    heart_rate = heart_rate[np.isfinite(heart_rate)]
    if len(heart_rate) < 2:
        return
    median = float(np.median(heart_rate))
    low, high = heart_rate_range
    if low <= median <= high:
        return
    # The common rate at which the same beats come closest to 75 bpm.
    suggested = min(COMMON_RATES, key=lambda rate: abs(np.log(median * rate / fs / 75.0)))
    at_suggested = median * suggested / fs
    hint = (f" At {suggested:g} Hz they would come at {at_suggested:.0f} bpm." if low <= at_suggested <= high else "")
    raise RecordError(
        f"{where}: the {len(heart_rate)} detected beats come at a median {median:.0f} bpm at fs={fs:g} Hz, outside "
        f"heart_rate_range ({low:g}-{high:g} bpm). Is fs the rate the signal was recorded at?{hint} Pass the "
        "recording's rate as fs (a WFDB header gives it: wfdb.rdheader(path).fs), or widen heart_rate_range "
        "for a rhythm that really is this slow or fast.", record=record)


def cut_leads(signals, rates, units, lead_names, *, peaks=None, symbols=None, fs=125.0, layout="window",
              window=(0.25, 1.25), heart_rate_range=(30.0, 200.0), min_quality=MIN_QUALITY, features=False,
              baseline="keep", where="ecg", record=None):
    """Beats of one recording's leads, cut at the same R peaks, and their metadata.

    Parameters
    ----------
    signals : list of ndarray
        One signal per lead, each at its own rate; NaN marks missing samples.
    rates, units, lead_names : lists
        Each lead's rate (Hz), units and name. R peaks come from the first lead.
    peaks : ndarray of int or None
        Reference R peaks at the first lead's rate (annotations, or given by
        the caller): every one is kept whose window lies in the signal, and
        only signal that is really gone (missing, flat, saturated) breaks its
        RR intervals. None detects the peaks and drops the beats of stretches
        without usable ECG and those whose rate is implausible.
    symbols : array-like of str or None
        Beat annotation symbol of each reference peak; adds ``symbol`` and
        ``aami`` (:data:`AAMI_CLASSES`) to the metadata.
    baseline : {"keep", "record", "median"}
        ``"record"``: every window minus its lead's median over the record;
        ``"median"``: each lead's window minus its own median; the first
        lead's subtracted level in the metadata's ``baseline_offset``.
    where : str
        How messages name the recording ("record 101: lead MLII").
    record : path or None
        Carried by the :class:`~skbvae.exceptions.RecordError` raised.

    Returns
    -------
    beats : ndarray of shape (n_beats, n_leads * n_samples)
    meta : pandas.DataFrame
        :data:`BEAT_COLUMNS`, then ``symbol`` and ``aami`` with ``symbols``,
        then the measured features with ``features=True``.
    notices : list of str
        What was dropped, for a warning.
    """
    filled = [fill_missing(signal) for signal in signals]
    first, missing = filled[0]
    fs_lead = rates[0]
    floor = amplitude_floor(units[0])
    reference = peaks is not None
    flutter = []  # stretches of ventricular flutter the detector gave no beats in
    if not reference:
        peaks, flutter = _detect(np.where(missing, np.nan, first), fs_lead, min_amplitude=floor)
    if len(peaks) < 2:
        under = f" or a QRS under {floor:g} {units[0]}" if floor is not None else ""
        raise RecordError(f"{where}: fewer than two beats found: no ECG in it (flat, noise{under}), or too short.",
                          record=record)
    if floor is None:  # units that are not a voltage: 2 % of the typical R amplitude
        floor = 0.02 * np.median(np.abs(step_free(first, fs_lead)[peaks]))
    quality, shape, unlike_median, good, dropped, stretches, masks = assess_lead(
        first, fs_lead, peaks, missing, floor=floor, min_quality=min_quality)
    # Reference beats are the truth: only signal that is really gone breaks their RR intervals.
    lost = [reason for reason in masks if not (reference and reason == "noise")]
    unusable = np.logical_or.reduce([masks[reason] for reason in lost])
    notices = []
    if flutter:
        # The detector gives no beats there: say so, or the stretch is lost without a word.
        seconds = sum(stop - start for start, stop in flutter) / fs_lead
        at = ", ".join(f"{start / fs_lead:.0f}-{stop / fs_lead:.0f} s" for start, stop in flutter[:3])
        notices.append(f"{where}: {seconds:.3g} s look like ventricular flutter or fibrillation (no flat baseline "
                       f"between waves: no QRS to cut; at {at}{' …' if len(flutter) > 3 else ''}).")
    if reference:
        good = np.ones(len(peaks), dtype=bool)  # every reference beat is kept; its quality is reported
    elif good.sum() < 2 or good.mean() < 0.5 or unlike_median > 0.5 * len(peaks):
        raise RecordError(
            f"{where} holds no usable ECG: {max(int((~good).sum()), unlike_median)} of "
            f"{len(peaks)} detected beats look like noise "
            f"(median correlation with the median beat {np.nanmedian(quality):.2f}; an ECG's is above 0.9).",
            record=record)
    elif sum(dropped.values()) > 0:
        seconds = ", ".join(f"{reason} {value:.2g} s" for reason, value in dropped.items() if value > 0)
        n_lost = int((~good).sum())
        notices.append(f"{where}: dropped {sum(dropped.values()):.3g} s without usable ECG ({seconds}; at "
                       f"{_describe(stretches)})" + (f" and the {n_lost} beat(s) there." if n_lost else "."))
    rr = rr_intervals(peaks, unusable) / fs_lead
    heart_rate = 60.0 / rr
    intervals = rr_features(peaks, fs_lead, unusable)
    low, high = heart_rate_range
    if not reference:
        _check_rate_says_fs_is_right(heart_rate[good], fs_lead, heart_rate_range, where, record)
    if reference:
        plausible = good  # a reference beat's rate says nothing about whether it is a beat
    else:
        # A long interval after a beat at a plausible rate is a pause or a block, not a bad beat.
        pre = intervals["rr_pre"]
        pause = (rr <= MAX_PAUSE_S) & (pre >= 60.0 / high) & (pre <= 60.0 / low)
        plausible = good & (heart_rate <= high) & ((heart_rate >= low) | pause)
    target_fs = KACHUEE["fs"] if layout == "kachuee" else fs
    before, after = int(round(window[0] * target_fs)), int(round(window[1] * target_fs))
    cuts = []
    for (signal, _), rate in zip(filled, rates):
        resampled = _resample(signal, rate, target_fs)
        peaks_target = np.round(peaks * target_fs / fs_lead).astype(int).clip(0, len(resampled) - 1)
        if layout == "kachuee":
            cuts.append(_cut_kachuee(resampled, peaks_target, target_fs))
        else:
            cuts.append(_cut_windows(resampled, peaks_target, before, after))
    offsets = None
    if baseline != "keep":
        levels = [_baseline_levels(rows, signal, baseline) for (rows, _), (signal, _) in zip(cuts, filled)]
        cuts = [(rows - level[:, None], lead_kept) for (rows, lead_kept), level in zip(cuts, levels)]
        offsets = levels[0]
    # A beat is kept when every lead could cut it (the Kachuee layout skips a
    # lead's flat 10 s stretches); rows are channel-major:
    # [lead 1 samples | lead 2 samples | ...].
    kept = np.logical_and.reduce([lead_kept for _, lead_kept in cuts])
    beats = np.concatenate([rows[kept[lead_kept]] for rows, lead_kept in cuts], axis=1)
    beats = beats[plausible[kept]]
    selected = kept & plausible
    if len(beats) == 0:
        rule = "" if reference else f" with a plausible heart rate ({low}-{high} bpm)"
        raise RecordError(f"{where}: no complete, usable beat{rule}.", record=record)
    meta = pd.DataFrame({"r_peak": peaks[selected], "fs": fs_lead, "rr": rr[selected],
                         "heart_rate": heart_rate[selected],
                         **{name: values[selected] for name, values in intervals.items()},
                         "quality": quality[selected], "shape": shape[selected]}, columns=BEAT_COLUMNS)
    if offsets is not None:
        # The first lead's level, in its units: what was taken out, so that nothing is lost.
        meta["baseline_offset"] = offsets[kept[cuts[0][1]]][plausible[kept]]
    if symbols is not None:
        symbols = np.asarray(symbols, dtype=object)[selected]
        meta["symbol"] = symbols.astype(str)
        meta["aami"] = [AAMI_CLASSES.get(symbol, "Q") for symbol in meta["symbol"]]
    if features:
        # Measured on the continuous first lead at its own rate (not on the
        # resampled window), missing samples as NaN; heart_rate is already there.
        measured = measure_beat_features(np.where(missing, np.nan, first), fs_lead, peaks[selected])
        for name in measured.columns.drop("heart_rate"):
            meta[name] = measured[name].to_numpy()
    return beats, meta, notices


def beats_frame(X, lead_names, *, fs, window, layout, units):
    """``X`` as a DataFrame with columns ``ii_t042`` and the ``attrs["signal"]`` plots read."""
    names = [re.sub(r"\W+", "_", name.strip().lower()) for name in lead_names]
    length = X.shape[1] // len(names)
    frame = pd.DataFrame(X, columns=[f"{name}_t{k:03d}" for name in names for k in range(length)])
    kachuee = layout == "kachuee"
    frame.attrs["signal"] = {"fs": float(KACHUEE["fs"] if kachuee else fs),
                             "start": 0.0 if kachuee else -float(window[0]),
                             "units": "scaled to [0, 1]" if kachuee else units}
    return frame


def check_cut_options(*, fs, layout, window, min_quality, heart_rate_range, baseline="keep"):
    """The checks :func:`cut_heartbeats` and the loader share, with errors that name the option."""
    if layout not in ("window", "kachuee"):
        raise ValueError(f"layout must be 'window' or 'kachuee'; got {layout!r}.")
    if baseline not in BASELINES:
        raise ValueError(f"baseline must be one of {', '.join(map(repr, BASELINES))}; got {baseline!r}.")
    if baseline != "keep" and layout == "kachuee":
        raise ValueError(f"baseline={baseline!r} applies to layout='window': the Kachuee layout scales each 10 s "
                         "stretch to [0, 1] already; pass baseline='keep' with it.")
    if not (isinstance(fs, numbers.Real) and fs > 0):
        raise ValueError(f"fs must be a positive sampling rate in Hz; got {fs!r}.")
    if not (len(window) == 2 and window[0] >= 0 and window[1] > 0):
        raise ValueError(f"window must be (seconds before R >= 0, seconds after R > 0); got {window!r}.")
    if not (isinstance(min_quality, numbers.Real) and -1 <= min_quality <= 1):
        raise ValueError(f"min_quality must be a correlation in [-1, 1]; got {min_quality!r}.")
    if not (len(heart_rate_range) == 2 and 0 < heart_rate_range[0] < heart_rate_range[1]):
        raise ValueError(f"heart_rate_range must be (low, high) in bpm with 0 < low < high; got {heart_rate_range!r}.")


def cut_heartbeats(ecg, fs, r_peaks=None, *, symbols=None, lead_names=None, units="mV", beat_fs=125.0,
                   layout="window", window=(0.25, 1.25), heart_rate_range=(30.0, 200.0), min_quality=MIN_QUALITY,
                   baseline="keep", features=False, as_frame=False):
    """Cut single heartbeats out of an ECG already in memory, as :func:`load_wfdb_heartbeats` cuts a record.

    The same code as the loader's: R peaks found by :func:`detect_r_peaks`
    (or the ones you give), beat quality and shapes, the beats of stretches
    without usable ECG dropped, RR features, labels from annotation symbols,
    measured beat features, resampling to ``beat_fs`` and one row per beat.
    For signals from a device, a database in another format, or a record you
    have already read and filtered.

    Parameters
    ----------
    ecg : array-like of shape (n_samples,) or (n_samples, n_leads)
        The ECG, in ``units``, every lead at the rate ``fs``; NaN marks
        missing samples. With several leads, every lead is cut at the R peaks
        of the first one and rows are channel-major ``[lead 1 | lead 2 | ...]``.
    fs : float
        Sampling rate of ``ecg`` in Hz.
    r_peaks : array-like of int or None, default=None
        Sample indices of the R peaks (increasing), e.g. a database's beat
        annotations: these are the reference, so every beat whose window lies
        in the signal is kept, with its quality reported. None detects them
        and keeps the beats of usable ECG at a plausible rate.
    symbols : array-like of str or None, default=None
        The annotation symbol of each of ``r_peaks`` (MIT-BIH's: ``N``, ``V``,
        ``A``...): adds the columns ``symbol`` and ``aami`` (the AAMI class,
        :data:`AAMI_CLASSES`) to ``meta``.
    lead_names : list of str or None, default=None
        One name per lead, for ``meta["lead"]`` and ``as_frame`` columns;
        None names them ``ecg`` (one lead) or ``lead0``, ``lead1``...
    units : str, default="mV"
        Units of ``ecg``: the amplitude floor of detection is 0.05 mV in them.
    beat_fs : float, default=125.0
        Sampling rate of the returned beats in Hz (the loader's ``fs``).
    layout, window, heart_rate_range, min_quality, baseline, features, as_frame
        As for :func:`load_wfdb_heartbeats`.

    Returns
    -------
    X : ndarray or DataFrame of shape (n_beats, n_leads * n_samples)
    meta : pandas.DataFrame
        ``lead``, then the beat columns of :func:`load_wfdb_heartbeats`
        (``r_peak`` at the rate ``fs``, ``rr``, ``heart_rate``, ``rr_pre``,
        ``rr_post``, ``rr_local``, ``rr_record``, ``quality``, ``shape``), with
        ``baseline_offset`` when ``baseline`` is not ``"keep"``, ``symbol`` and ``aami``
        when ``symbols`` is given and the measured features with
        ``features=True``.

    Raises
    ------
    ValueError
        For an ``ecg``, ``fs``, ``r_peaks`` or ``symbols`` that cannot be
        used (naming which), and (a :class:`~skbvae.exceptions.RecordError`)
        for a signal with no usable ECG.

    Examples
    --------
    >>> from skbvae.datasets import make_ecg
    >>> from skbvae.ecg import cut_heartbeats
    >>> ecg, r_peaks = make_ecg(30.0, fs=250, heart_rate=60, rr_jitter=0, random_state=0)
    >>> X, meta = cut_heartbeats(ecg, 250)
    >>> X.shape, round(float(meta["rr_pre"].median()), 2)
    ((29, 187), 1.0)
    >>> X, meta = cut_heartbeats(ecg, 250, r_peaks, symbols=["N"] * len(r_peaks))
    >>> meta["aami"].unique().tolist()
    ['N']
    """
    check_cut_options(fs=beat_fs, layout=layout, window=window, min_quality=min_quality,
                      heart_rate_range=heart_rate_range, baseline=baseline)
    array = np.asarray(ecg, dtype=float) if not isinstance(ecg, np.ndarray) else ecg.astype(float, copy=False)
    if array.ndim not in (1, 2) or array.size == 0:
        raise ValueError(f"ecg must be an array of shape (n_samples,) or (n_samples, n_leads); got shape "
                         f"{array.shape}.")
    leads = [array] if array.ndim == 1 else list(array.T)
    checked = [check_ecg_signal(lead, fs, name="ecg")[0] for lead in leads]
    fs = float(fs)
    if lead_names is None:
        lead_names = ["ecg"] if len(leads) == 1 else [f"lead{k}" for k in range(len(leads))]
    lead_names = [str(name) for name in lead_names]
    if len(lead_names) != len(leads):
        raise ValueError(f"lead_names has {len(lead_names)} names for {len(leads)} lead(s) of ecg.")
    peaks = None
    if r_peaks is not None:
        peaks = np.asarray(r_peaks)
        if peaks.ndim != 1 or not np.issubdtype(peaks.dtype, np.integer):
            raise ValueError(f"r_peaks must be a 1-D array of integer sample indices; got {peaks.dtype} of shape "
                             f"{peaks.shape}.")
        if len(peaks) and (np.any(np.diff(peaks) <= 0) or peaks[0] < 0 or peaks[-1] >= len(checked[0])):
            raise ValueError(f"r_peaks must be increasing sample indices within ecg (0 to {len(checked[0]) - 1}).")
    if symbols is not None:
        if peaks is None:
            raise ValueError("symbols label given r_peaks; pass r_peaks with them.")
        symbols = np.asarray(symbols, dtype=object)
        if symbols.shape != peaks.shape:
            raise ValueError(f"symbols has {len(symbols)} entries for {len(peaks)} r_peaks: give one per peak.")
    beats, meta, notices = cut_leads(checked, [fs] * len(checked), [units] * len(checked), lead_names, peaks=peaks,
                                     symbols=symbols, fs=beat_fs, layout=layout, window=window,
                                     heart_rate_range=heart_rate_range, min_quality=min_quality,
                                     baseline=baseline, features=features, where=f"ecg (lead {lead_names[0]})")
    for notice in notices:
        warnings.warn(notice, RuntimeWarning, stacklevel=2)
    meta.insert(0, "lead", ",".join(lead_names))
    if as_frame:
        beats = beats_frame(beats, lead_names, fs=beat_fs, window=window, layout=layout, units=units)
    return beats, meta

