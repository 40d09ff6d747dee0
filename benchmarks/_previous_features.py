"""The previous release's measure_beat_features (2026-12-03), kept as bench_delineation's baseline.

Its QRS edges are where a 20 ms slope envelope falls to 13.5 % of its peak
within 120 ms of R; its P onset the 13.5 % point of the extremum before the QRS;
it had no T end. Not part of the package: a frozen copy to measure against.

Measured beat features: the factors of real heartbeats (heart rate, R, QRS, ST, T, PR).

Synthetic beats come with their generating factors; real ones do not. These
measurements, taken on the continuous lead at its own rate, stand in for
them, so that :func:`~skbvae.metrics.mutual_info_gap`, DCI and
:func:`~skbvae.plotting.plot_latent_vs_factor` can say which latent follows
which property of a real beat.

Every amplitude is measured against the beat's own PR baseline (the
isoelectric stretch just before the QRS), so baseline wander between beats
cancels. Onsets and offsets are where a wave's envelope falls to
:data:`_EDGE_FRACTION` of its peak: 1/e² ≈ 13.5 %, the 2σ point of a Gaussian
wave.
"""

import numpy as np
import pandas as pd
from scipy import ndimage, signal

from skbvae.ecg._rpeaks import check_ecg_signal, fill_missing, rr_intervals

#: Columns of :func:`measure_beat_features`, with their units.
BEAT_FEATURES = {
    "heart_rate": "bpm",
    "r_amplitude": "mV",
    "qrs_duration": "s",
    "st_level": "mV",
    "t_amplitude": "mV",
    "pr_interval": "s",
}

# Zero-phase low-pass before measuring: keeps the QRS (< 40 Hz), removes
# mains hum and most muscle noise (the AHA's diagnostic band reaches 150 Hz,
# but none of these features needs more than 40 Hz).
_LOWPASS_HZ = 40.0
# Wave edges: where the envelope falls to exp(-2) of its peak (2σ of a Gaussian).
_EDGE_FRACTION = float(np.exp(-2.0))
# The QRS envelope: |slope| averaged over 20 ms, which bridges the flat tips
# of the Q, R and S waves so that the edges are the complex's, not a wave's.
_QRS_ENVELOPE_S = 0.020
# Farthest a QRS edge can lie from R (a wide bundle-branch QRS is ~160 ms).
_QRS_SEARCH_S = 0.12
# PR baseline: the median over this stretch before QRS onset (s).
_BASELINE_S = (0.030, 0.005)
# ST level: J point + 60-80 ms (the usual clinical J+60 / J+80).
_ST_S = (0.060, 0.080)
# P wave: searched this far before QRS onset (s); the PR interval is 120-200 ms normally.
_P_SEARCH_S = (0.30, 0.03)
# A P wave counts as measurable when it stands this far above the noise and R.
_P_MIN_SNR, _P_MIN_R_FRACTION = 4.0, 0.04


def _noise_level(ecg, fs):
    """Robust standard deviation of the signal's part above 40 Hz (before the low-pass)."""
    b, a = signal.butter(2, min(_LOWPASS_HZ / (fs / 2), 0.99), btype="high")
    high = signal.filtfilt(b, a, ecg)
    return 1.4826 * np.median(np.abs(high - np.median(high)))


def _t_window(rr):
    """Seconds from R to the end of its T wave's window: min(0.6 RR, 0.6 √RR).

    Bazett's QT (~0.42 √RR from QRS onset) with some margin at normal rates,
    and at most 60 % of the cycle at fast ones, before the next P wave.
    """
    return min(0.6 * rr, 0.6 * np.sqrt(rr))


def _edge(envelope, start, stop, step, threshold):
    """First index from ``start`` towards ``stop`` (exclusive) where ``envelope`` < ``threshold``."""
    for i in range(start, stop, step):
        if envelope[i] < threshold:
            return i
    return None


def measure_beat_features(ecg, fs, r_peaks):
    """Heart rate, R amplitude, QRS duration, ST level, T wave and PR interval of every beat.

    Measured on a continuous lead at its own sampling rate, at given R
    peaks (from :func:`~skbvae.ecg.detect_r_peaks`, annotations, or the
    ``r_peak`` column of :func:`~skbvae.datasets.load_wfdb_heartbeats`).
    These are the factors of real beats: with them the disentanglement
    metrics and :func:`~skbvae.plotting.plot_latent_vs_factor` work on
    records that have no generating factors.

    How each is measured (after a zero-phase 40 Hz low-pass):

    ============  ==============================================================
    heart_rate    60 / the interval to the next R peak (the previous one for
                  the last beat), bpm
    r_amplitude   signal at R minus the PR baseline (the median over 5-30 ms
                  before QRS onset), mV
    qrs_duration  QRS onset to offset (the J point), s: where the absolute slope
                  averaged over 20 ms falls to 13.5 % (1/e², the 2σ point of a
                  Gaussian wave) of its peak near R, within 120 ms of R
    st_level      mean signal over J + 60 to J + 80 ms minus the PR baseline, mV
    t_amplitude   signed height of the T wave above the line from the ST point
                  (J + 70 ms) to the end of the T window (R + min(0.6 RR,
                  0.6 √RR)), its positive lobe's height plus its negative
                  lobe's depth (a biphasic T scores near 0): ST elevation is
                  not counted a second time, mV
    pr_interval   P-wave onset (where it falls to 13.5 % of its height above
                  the lowest point before it) to QRS
                  onset, s; NaN where no P wave stands 4× above the noise
                  and 4 % of R (atrial fibrillation, paced or noisy beats)
    ============  ==============================================================

    A feature is NaN where its window reaches past the signal, touches a
    missing (NaN) sample, or (heart rate) where there is no neighbouring beat.
    Amplitudes are in the signal's units (mV for an ECG).

    Parameters
    ----------
    ecg : array-like of shape (n_samples,)
        One lead, in mV; NaN marks missing samples.
    fs : float
        Sampling rate of ``ecg`` in Hz.
    r_peaks : array-like of int
        Sample index of each R peak, increasing.

    Returns
    -------
    features : pandas.DataFrame of shape (len(r_peaks), 6)
        One row per R peak, columns :data:`BEAT_FEATURES`.

    Examples
    --------
    >>> from skbvae.datasets import make_ecg
    >>> from skbvae.ecg import measure_beat_features
    >>> ecg, r_peaks = make_ecg(10.0, fs=250, heart_rate=60, rr_jitter=0, random_state=0)
    >>> features = measure_beat_features(ecg, 250, r_peaks)
    >>> list(features.columns)
    ['heart_rate', 'r_amplitude', 'qrs_duration', 'st_level', 't_amplitude', 'pr_interval']
    >>> round(float(features["heart_rate"].median()))
    60
    """
    ecg, fs = check_ecg_signal(ecg, fs)
    try:
        peaks = np.asarray(r_peaks, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"r_peaks must be sample indices (integers); got {type(r_peaks).__name__}.") from exc
    if peaks.ndim != 1 or (len(peaks) and (np.any(peaks != np.round(peaks)) or np.any(np.isnan(peaks)))):
        raise ValueError("r_peaks must be a 1-D array of integer sample indices.")
    peaks = peaks.astype(int)
    if np.any(np.diff(peaks) <= 0):
        raise ValueError("r_peaks must be strictly increasing sample indices.")
    if len(peaks) and (peaks[0] < 0 or peaks[-1] >= len(ecg)):
        raise ValueError(f"r_peaks must lie within the signal (0 to {len(ecg) - 1}); "
                         f"got {peaks.min()} to {peaks.max()}.")
    # One array per feature, filled beat by beat (a DataFrame cell write per
    # feature and beat took 2 s on a 30-minute record) and framed at the end.
    values = {name: np.full(len(peaks), np.nan) for name in BEAT_FEATURES}
    filled, missing = fill_missing(ecg)
    if len(peaks) == 0 or missing.all():
        return pd.DataFrame(values)
    noise = _noise_level(filled, fs)
    if _LOWPASS_HZ < fs / 2:
        b, a = signal.butter(4, _LOWPASS_HZ / (fs / 2))
        x = signal.filtfilt(b, a, filled)
    else:
        x = filled
    slope = np.abs(np.gradient(x)) * fs
    envelope = ndimage.uniform_filter1d(slope, max(1, int(round(_QRS_ENVELOPE_S * fs))))
    lost = np.cumsum(missing)

    def window_ok(lo, hi):
        return 0 <= lo < hi <= len(x) and lost[hi - 1] - (lost[lo - 1] if lo > 0 else 0) == 0

    def samples(seconds):
        return int(round(seconds * fs))

    rr_beat = rr_intervals(peaks) / fs
    rr_prev = np.concatenate([[np.nan], np.diff(peaks) / fs])  # where the previous beat's T window ends
    values["heart_rate"] = 60.0 / rr_beat
    search = samples(_QRS_SEARCH_S)
    for i, r in enumerate(peaks):
        lo, hi = r - search, r + search + 1
        if not window_ok(lo, hi):
            continue
        peak = envelope[lo:hi].max()
        threshold = _EDGE_FRACTION * peak
        # Walk out from the steepest point on each side of R.
        left = lo + int(np.argmax(envelope[lo:r + 1]))
        right = r + int(np.argmax(envelope[r:hi]))
        onset, offset = _edge(envelope, left, lo - 1, -1, threshold), _edge(envelope, right, hi, 1, threshold)
        if onset is None or offset is None:
            continue
        base_lo, base_hi = onset - samples(_BASELINE_S[0]), onset - samples(_BASELINE_S[1]) + 1
        if not window_ok(base_lo, base_hi):
            continue
        baseline = np.median(x[base_lo:base_hi])
        values["r_amplitude"][i] = x[r] - baseline
        values["qrs_duration"][i] = (offset - onset) / fs
        st_lo, st_hi = offset + samples(_ST_S[0]), offset + samples(_ST_S[1]) + 1
        rr_i = rr_beat[i] if np.isfinite(rr_beat[i]) else 0.8
        t_end = r + samples(_t_window(rr_i))
        if window_ok(st_lo, st_hi):
            values["st_level"][i] = x[st_lo:st_hi].mean() - baseline
        st_point = offset + samples(np.mean(_ST_S))
        if window_ok(st_point, t_end + 1) and t_end - st_point > samples(0.06):
            line = np.linspace(x[st_point], x[t_end], t_end - st_point + 1)
            deviation = x[st_point:t_end + 1] - line
            # The positive lobe's height plus the negative lobe's depth (the
            # deviation is 0 at both ends, so each is >= 0 or <= 0): a monophasic
            # T gives its height, and a flat biphasic T, whose two lobes take
            # turns at being the larger, gives ~0 rather than jumping between
            # +h and -h from beat to beat (MIT-BIH 100 lead MLII).
            values["t_amplitude"][i] = deviation.max() + deviation.min()
        # P wave: the extremum before QRS onset, after the previous beat's T window.
        p_lo = onset - samples(_P_SEARCH_S[0])
        if i > 0:
            p_lo = max(p_lo, peaks[i - 1] + samples(_t_window(rr_prev[i])))
        p_hi = onset - samples(_P_SEARCH_S[1])
        if p_hi - p_lo < samples(0.04) or not window_ok(p_lo, p_hi):
            continue
        wave = x[p_lo:p_hi] - baseline
        top = int(np.argmax(np.abs(wave)))
        height = abs(wave[top])
        if height < _P_MIN_SNR * noise or height < _P_MIN_R_FRACTION * abs(x[r] - baseline):
            continue
        # The P wave often starts from a TP level above the PR segment (atrial
        # repolarisation depresses PR): its onset is measured from the lowest
        # point before it, not from the PR baseline.
        upright = wave * np.sign(wave[top])
        floor = upright[:top + 1].min()
        p_onset = _edge(upright, top, -1, -1, floor + _EDGE_FRACTION * (height - floor))
        if p_onset is not None:
            values["pr_interval"][i] = (onset - (p_lo + p_onset)) / fs
    return pd.DataFrame(values)
