"""Measured beat features: the factors of real heartbeats (heart rate, R, QRS, ST, T, PR, QT).

Synthetic beats come with their generating factors; real ones do not. These
measurements, taken on the continuous lead at its own rate, stand in for
them, so that :func:`~skbvae.metrics.mutual_info_gap`, DCI and
:func:`~skbvae.plotting.plot_latent_vs_factor` can say which latent follows
which property of a real beat, and they are clinical features of their own.

The P, QRS and T boundaries come from :func:`delineate_beats` (wavelet
delineation of each beat's local median beat, :mod:`._delineation`).
Every amplitude is measured against the beat's own PR baseline (the
isoelectric stretch just before the QRS), so baseline wander between beats
cancels.
"""

import numpy as np
import pandas as pd
from scipy import signal

from ._delineation import BOUNDARIES, delineate
from ._pacing import detect_pacing_spikes, paced_beats
from ._rpeaks import check_ecg_signal, fill_missing, rr_intervals

#: Columns of :func:`measure_beat_features`, with their units.
BEAT_FEATURES = {
    "heart_rate": "bpm",
    "r_amplitude": "mV",
    "qrs_duration": "s",
    "st_level": "mV",
    "t_amplitude": "mV",
    "pr_interval": "s",
    "qt_interval": "s",
    "qtc_bazett": "s",
    "qtc_fridericia": "s",
}

# Zero-phase low-pass before measuring amplitudes: keeps the QRS (< 40 Hz), removes
# mains hum and most muscle noise (the AHA's diagnostic band reaches 150 Hz,
# but none of these features needs more than 40 Hz).
_LOWPASS_HZ = 40.0
# PR baseline: the median over this stretch before QRS onset (s).
_BASELINE_S = (0.030, 0.005)
# ST level: J point + 60-80 ms (the usual clinical J+60 / J+80).
_ST_S = (0.060, 0.080)


# Each wave's span, and the boundaries lost when it touches a missing sample.
_WAVE_SPANS = {("p_on", "p_off"): ["p_on", "p_peak", "p_off"], ("qrs_on", "qrs_off"): ["qrs_on", "qrs_off"],
               ("qrs_on", "t_off"): ["t_peak", "t_off"]}


def _t_window(rr):
    """Seconds from R to the end of its T wave's window: min(0.6 RR, 0.6 √RR)."""
    return min(0.6 * rr, 0.6 * np.sqrt(rr))


def _windows_ok(lost, lo, hi, n):
    """Whether each window [lo, hi) lies in the signal and holds no missing sample (``lost``: their cumulative count)."""
    inside = (lo >= 0) & (hi <= n) & (lo < hi)
    lo_c, hi_c = np.clip(lo, 0, n), np.clip(hi, 0, n)
    padded = np.concatenate([[0], lost])
    return inside & (padded[hi_c] - padded[lo_c] == 0)


def _checked_peaks(r_peaks, n_samples):
    try:
        peaks = np.asarray(r_peaks, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"r_peaks must be sample indices (integers); got {type(r_peaks).__name__}.") from exc
    if peaks.ndim != 1 or (len(peaks) and (np.any(peaks != np.round(peaks)) or np.any(np.isnan(peaks)))):
        raise ValueError("r_peaks must be a 1-D array of integer sample indices.")
    peaks = peaks.astype(int)
    if np.any(np.diff(peaks) <= 0):
        raise ValueError("r_peaks must be strictly increasing sample indices.")
    if len(peaks) and (peaks[0] < 0 or peaks[-1] >= n_samples):
        raise ValueError(f"r_peaks must lie within the signal (0 to {n_samples - 1}); "
                         f"got {peaks.min()} to {peaks.max()}.")
    return peaks


def _checked_leads(ecg, fs):
    """``ecg`` as a list of 1-D leads (one lead, or the columns of a 2-D array) and its rate."""
    array = np.asarray(ecg, dtype=float) if not isinstance(ecg, np.ndarray) else ecg
    if getattr(array, "ndim", 1) == 2 and min(array.shape) > 1:
        leads = [check_ecg_signal(lead, fs)[0] for lead in np.asarray(array, dtype=float).T]
        return leads, float(fs)
    lead, fs = check_ecg_signal(ecg, fs)
    return [lead], fs


def delineate_beats(ecg, fs, r_peaks):
    """Onset, peak and offset of every beat's P wave, QRS complex and T wave.

    The boundaries :func:`measure_beat_features` measures its intervals
    between, from the wavelet delineation of Martinez et al. (2004) applied to
    each beat's local median beat (the median of it and its neighbours of the
    same shape): noise, and atrial activity that is not locked to the QRS
    (fibrillation), average out of it. QRS boundaries are then refined on the
    beat itself where its QRS duration stays within 25 ms of the median
    beat's. A P wave is searched up to 450 ms before the QRS (first-degree
    block) and reported only where it stands clear of the noise, outside
    irregularly irregular rhythm (atrial fibrillation), and where the beats'
    own P segments follow their median beat's; a T end only where two
    scales of the transform agree on it (not for a T too flat to end clearly).

    Measured against the cardiologists' boundaries of LUDB (200 patients,
    ``benchmarks/bench_delineation.py``): on lead II, QRS duration, PR and QT
    with biases within 7 ms; with the 12 leads (boundaries as the median over
    leads), QRS duration 0.4 ± 11.7 ms, PR 0.8 ± 8.9 ms and QT −0.9 ± 12.9 ms,
    within the CSE working party's tolerances.

    Parameters
    ----------
    ecg : array-like of shape (n_samples,) or (n_samples, n_leads)
        One lead in mV (NaN marks missing samples), or several leads at one
        rate: each lead is delineated at the same R peaks and every boundary
        is the median over the leads that show the wave, as cardiologists
        read boundaries from all leads at once; NaN where those leads
        disagree (two by more than 40 ms for the QRS, 60 ms for P and T).
    fs : float
        Sampling rate of ``ecg`` in Hz.
    r_peaks : array-like of int
        Sample index of each R peak, increasing.

    Returns
    -------
    boundaries : pandas.DataFrame of shape (len(r_peaks), 7)
        ``p_on``, ``p_peak``, ``p_off``, ``qrs_on``, ``qrs_off``, ``t_peak``,
        ``t_off``: sample indices at ``fs`` (floats: boundaries are found at
        250 Hz), NaN where the wave was not found or its window touches a
        missing sample.

    Examples
    --------
    >>> from skbvae.datasets import make_ecg
    >>> from skbvae.ecg import delineate_beats
    >>> ecg, r_peaks = make_ecg(10.0, fs=250, heart_rate=60, rr_jitter=0, random_state=0)
    >>> b = delineate_beats(ecg, 250, r_peaks)
    >>> list(b.columns)
    ['p_on', 'p_peak', 'p_off', 'qrs_on', 'qrs_off', 't_peak', 't_off']
    >>> bool((b["p_on"] < b["qrs_on"]).all() and (b["qrs_off"] < b["t_off"]).iloc[1:-1].all())
    True
    """
    leads, fs = _checked_leads(ecg, fs)
    peaks = _checked_peaks(r_peaks, len(leads[0]))
    if len(peaks) == 0:
        return pd.DataFrame({name: np.empty(0) for name in BOUNDARIES})
    filled = [fill_missing(lead) for lead in leads]
    missing = np.logical_or.reduce([m for _, m in filled])
    if missing.all():
        return pd.DataFrame({name: np.full(len(peaks), np.nan) for name in BOUNDARIES})
    signals = np.column_stack([lead for lead, _ in filled]) if len(filled) > 1 else filled[0][0]
    boundaries = delineate(signals, fs, peaks)
    if missing.any():
        # A wave whose span touches a missing sample is not measured.
        lost = np.concatenate([[0], np.cumsum(missing)])
        touched = {}
        for (start, stop), columns in _WAVE_SPANS.items():
            lo, hi = boundaries[start].to_numpy(), boundaries[stop].to_numpy()
            ok = np.isfinite(lo) & np.isfinite(hi)
            a = np.clip(np.floor(np.where(ok, lo, 0)).astype(int), 0, len(missing) - 1)
            b = np.clip(np.ceil(np.where(ok, hi, 0)).astype(int), 0, len(missing) - 1)
            touched[tuple(columns)] = ok & (lost[b + 1] - lost[a] > 0)
        for columns, mask in touched.items():  # after every span is judged on the boundaries as found
            boundaries.loc[mask, list(columns)] = np.nan
    return boundaries


def measure_beat_features(ecg, fs, r_peaks, *, return_boundaries=False):
    """Heart rate, R amplitude, QRS duration, ST level, T wave, PR and QT intervals of every beat.

    Measured on a continuous lead at its own sampling rate, at given R
    peaks (from :func:`~skbvae.ecg.detect_r_peaks`, annotations, or the
    ``r_peak`` column of :func:`~skbvae.datasets.load_wfdb_heartbeats`).
    These are the factors of real beats: with them the disentanglement
    metrics and :func:`~skbvae.plotting.plot_latent_vs_factor` work on
    records that have no generating factors.

    Boundaries come from :func:`delineate_beats`; amplitudes are measured on
    the lead after a zero-phase 40 Hz low-pass:

    ==============  ============================================================
    heart_rate      60 / the interval to the next R peak (the previous one for
                    the last beat), bpm
    r_amplitude     signal at R minus the PR baseline (the median over 5-30 ms
                    before QRS onset), mV
    qrs_duration    QRS onset to offset (the J point), s
    st_level        mean signal over J + 60 to J + 80 ms minus the PR baseline, mV
    t_amplitude     signed height of the T wave above the line from the ST point
                    (J + 70 ms) to the end of the T window (R + min(0.6 RR,
                    0.6 √RR)), its positive lobe's height plus its negative
                    lobe's depth (a biphasic T scores near 0), mV
    pr_interval     P-wave onset to QRS onset, s; NaN without a P wave
                    (atrial fibrillation, ventricular or paced beats, noise)
    qt_interval     QRS onset to T end, s; NaN where the T end is not clear
    qtc_bazett      QT / √RR (Bazett), RR the interval from the previous beat
                    in s (the next one for the first beat)
    qtc_fridericia  QT / ∛RR (Fridericia)
    ==============  ============================================================

    A feature is NaN where its window reaches past the signal, touches a
    missing (NaN) sample, or (heart rate) where there is no neighbouring beat.
    Amplitudes are in the signal's units (mV for an ECG).

    Parameters
    ----------
    ecg : array-like of shape (n_samples,) or (n_samples, n_leads)
        One lead, in mV; NaN marks missing samples. With several leads at one
        rate, boundaries come from all of them (:func:`delineate_beats`) and
        amplitudes from the first.
    fs : float
        Sampling rate of ``ecg`` in Hz.
    r_peaks : array-like of int
        Sample index of each R peak, increasing.
    return_boundaries : bool, default=False
        Also return the P, QRS and T boundaries (:func:`delineate_beats`).

    Returns
    -------
    features : pandas.DataFrame of shape (len(r_peaks), 10)
        One row per R peak, columns :data:`BEAT_FEATURES`, then the flag
        ``paced`` (a pacing spike found just before the QRS onset:
        :func:`skbvae.ecg._pacing.detect_pacing_spikes`; such a beat gets no
        PR interval); ``features.attrs["units"]``
        maps each column to its units (intervals in seconds, not ms:
        multiply by 1000 for ms).
    boundaries : pandas.DataFrame
        Only with ``return_boundaries=True``.

    Examples
    --------
    >>> from skbvae.datasets import make_ecg
    >>> from skbvae.ecg import measure_beat_features
    >>> ecg, r_peaks = make_ecg(10.0, fs=250, heart_rate=60, rr_jitter=0, random_state=0)
    >>> features = measure_beat_features(ecg, 250, r_peaks)
    >>> list(features.columns)[:6]
    ['heart_rate', 'r_amplitude', 'qrs_duration', 'st_level', 't_amplitude', 'pr_interval']
    >>> round(float(features["heart_rate"].median()))
    60
    >>> features.attrs["units"]["qt_interval"], features.attrs["units"]["st_level"]
    ('s', 'mV')
    """
    leads, fs = _checked_leads(ecg, fs)
    peaks = _checked_peaks(r_peaks, len(leads[0]))
    boundaries = delineate_beats(leads[0] if len(leads) == 1 else np.column_stack(leads), fs, peaks)
    values = {name: np.full(len(peaks), np.nan) for name in BEAT_FEATURES}
    filled, missing = fill_missing(leads[0])
    if len(peaks) == 0 or missing.all():
        out = _with_units(pd.DataFrame(values).assign(paced=np.zeros(len(peaks), dtype=bool)))
        return (out, boundaries) if return_boundaries else out
    x = filled
    if _LOWPASS_HZ < fs / 2:
        b, a = signal.butter(4, _LOWPASS_HZ / (fs / 2))
        x = signal.filtfilt(b, a, filled)
    lost = np.cumsum(missing)

    def window_ok(lo, hi):
        return 0 <= lo < hi <= len(x) and lost[hi - 1] - (lost[lo - 1] if lo > 0 else 0) == 0

    def samples(seconds):
        return int(round(seconds * fs))

    rr_beat = rr_intervals(peaks) / fs
    rr_before = np.concatenate([[np.nan], np.diff(peaks) / fs])
    rr_before[0] = rr_beat[0]
    values["heart_rate"] = 60.0 / rr_beat
    qrs_on, qrs_off = boundaries["qrs_on"].to_numpy(), boundaries["qrs_off"].to_numpy()
    # A paced beat is flagged and has no PR interval (the P found before it was reported). Its QRS keeps
    # the delineator's onset, which is sought with the spike taken out: on LUDB's paced patients +14 ms
    # from the cardiologists' in the median (they mark it 14-40 ms after the spike; bench_pacing.py).
    paced, _ = paced_beats(detect_pacing_spikes(filled, fs), qrs_on, fs, peaks)
    p_on, t_off = boundaries["p_on"].to_numpy(), boundaries["t_off"].to_numpy()
    values["qrs_duration"] = (qrs_off - qrs_on) / fs
    values["pr_interval"] = (qrs_on - p_on) / fs
    values["qt_interval"] = (t_off - qrs_on) / fs
    values["qtc_bazett"] = values["qt_interval"] / np.sqrt(rr_before)
    values["qtc_fridericia"] = values["qt_interval"] / np.cbrt(rr_before)
    values["pr_interval"][paced] = np.nan
    # Baselines and ST levels of every beat at once: fixed-length windows gathered by index.
    measured = np.isfinite(qrs_on) & np.isfinite(qrs_off)
    onset = np.where(measured, np.round(qrs_on), 0).astype(int)
    offset = np.where(measured, np.round(qrs_off), 0).astype(int)
    base_lo, base_hi = onset - samples(_BASELINE_S[0]), onset - samples(_BASELINE_S[1]) + 1
    st_lo, st_hi = offset + samples(_ST_S[0]), offset + samples(_ST_S[1]) + 1
    usable = measured & _windows_ok(lost, base_lo, base_hi, len(x)) & _windows_ok(
        lost, np.minimum(onset, peaks), np.maximum(offset, peaks) + 1, len(x))
    for name in ("qrs_duration", "pr_interval", "qt_interval", "qtc_bazett", "qtc_fridericia"):
        values[name][~usable] = np.nan
    baseline = np.full(len(peaks), np.nan)
    baseline[usable] = np.median(x[base_lo[usable, None] + np.arange(base_hi[0] - base_lo[0])], axis=1)
    values["r_amplitude"] = x[peaks] - baseline
    st_ok = usable & _windows_ok(lost, st_lo, st_hi, len(x))
    values["st_level"][st_ok] = x[st_lo[st_ok, None] + np.arange(st_hi[0] - st_lo[0])].mean(axis=1) - baseline[st_ok]
    st_point = offset + samples(np.mean(_ST_S))
    for i in np.flatnonzero(usable):
        r = peaks[i]
        rr_i = rr_beat[i] if np.isfinite(rr_beat[i]) else 0.8
        # The T window's end, not the delineated T end: a T end placed a little early tilts the line
        # the height is measured from (MAE on make_ecg 26 µV against 17-20 µV with the window).
        t_end = r + samples(_t_window(rr_i))
        if window_ok(st_point[i], t_end + 1) and t_end - st_point[i] > samples(0.06):
            segment = x[st_point[i]:t_end + 1]
            line = segment[0] + (segment[-1] - segment[0]) * np.arange(len(segment)) / (len(segment) - 1)
            deviation = segment - line
            # The positive lobe's height plus the negative lobe's depth (the
            # deviation is 0 at both ends, so each is >= 0 or <= 0): a monophasic
            # T gives its height, and a flat biphasic T, whose two lobes take
            # turns at being the larger, gives ~0 rather than jumping between
            # +h and -h from beat to beat (MIT-BIH 100 lead MLII).
            values["t_amplitude"][i] = deviation.max() + deviation.min()
    out = _with_units(pd.DataFrame(values).assign(paced=paced))
    return (out, boundaries) if return_boundaries else out


def _with_units(features):
    """``features`` with each column's units in ``attrs["units"]`` (intervals in s, amplitudes in mV)."""
    features.attrs["units"] = {name: BEAT_FEATURES[name] for name in features.columns if name in BEAT_FEATURES}
    return features
