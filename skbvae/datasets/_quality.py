"""Signal quality: which beats of a lead are ECG, and which stretches hold none.

A beat's quality is its correlation with the record's median beat (the
template), the best over shifts of ±100 ms, on two views of the signal (0.5-40
Hz band-passed, and step-free) so that neither a rectangular artefact nor a
jittery fiducial point on a fragmented QRS makes a real beat look bad. On
real records the beats of an ECG score 0.9-1.0 (MIT-BIH 100: 5th percentile
0.96); "beats" that a detector finds in white noise or in a lead with no ECG
score 0.1-0.4 (median 0.2-0.3), so :data:`MIN_QUALITY` = 0.5 separates them.

Stretches without usable ECG are the missing (NaN) samples, flat lines
(peak-to-peak under the amplitude floor for 0.5 s), saturation (50 ms or more
held at the lead's extreme value) and the spans of beats below the quality
threshold (noise).
"""

import numpy as np
from scipy import ndimage, signal

from ._rpeaks import step_free

#: Beats whose correlation with the record's median beat is lower are dropped.
MIN_QUALITY = 0.5
# Beat window for the template (s before and after R) and the shifts tried.
_WINDOW_S, _SHIFT_S = (0.2, 0.4), 0.1
_FLAT_S, _SATURATION_S = 0.5, 0.05
REASONS = ("missing", "flat", "saturated", "noise")


def _views(ecg, fs):
    sos = signal.butter(2, [0.5, min(40.0, 0.45 * fs)], btype="bandpass", fs=fs, output="sos")
    return signal.sosfiltfilt(sos, ecg), step_free(ecg, fs)


def _template_correlation(view, peaks, before, after, shift):
    windows = view[peaks[:, None] + np.arange(-before - shift, after + shift)]
    template = np.median(windows[:, shift:windows.shape[1] - shift], axis=0)
    template = template - template.mean()
    template /= np.linalg.norm(template) + 1e-300
    best = np.full(len(peaks), -1.0)
    for k in range(-shift, shift + 1, max(1, shift // 10)):
        segment = windows[:, shift + k:windows.shape[1] - shift + k]
        segment = segment - segment.mean(axis=1, keepdims=True)
        best = np.maximum(best, segment @ template / (np.linalg.norm(segment, axis=1) + 1e-300))
    return best


def beat_quality(ecg, fs, peaks):
    """Correlation of each beat with the median beat, in [-1, 1]; NaN where the window leaves the signal.

    ``ecg`` is one NaN-free lead and ``peaks`` its R peaks (sample indices).
    """
    before, after, shift = int(_WINDOW_S[0] * fs), int(_WINDOW_S[1] * fs), int(_SHIFT_S * fs)
    peaks = np.asarray(peaks, dtype=int)
    inside = (peaks - before - shift >= 0) & (peaks + after + shift <= len(ecg))
    quality = np.full(len(peaks), np.nan)
    if inside.sum() >= 2:
        views = _views(ecg, fs)
        quality[inside] = np.max([_template_correlation(v, peaks[inside], before, after, shift) for v in views], axis=0)
    return quality


def _runs(mask, min_length):
    """Mask of the runs of True in ``mask`` that last ``min_length`` samples or more."""
    labels, count = ndimage.label(mask)
    if count == 0:
        return np.zeros_like(mask)
    lengths = np.bincount(labels)[1:]
    return np.isin(labels, np.flatnonzero(lengths >= min_length) + 1)


def unusable_samples(ecg, fs, missing, floor):
    """Masks per reason (missing, flat, saturated) over the samples of one lead."""
    flat_size = max(2, int(_FLAT_S * fs))
    span = ndimage.maximum_filter1d(ecg, flat_size) - ndimage.minimum_filter1d(ecg, flat_size)
    flat = _runs(span <= floor, flat_size) & ~missing
    held = max(2, int(_SATURATION_S * fs))
    # A real ECG touches its extremes for an instant; a saturated amplifier holds them.
    saturated = (_runs(ecg == ecg.max(), held) | _runs(ecg == ecg.min(), held)) & ~flat & ~missing
    return {"missing": missing, "flat": flat, "saturated": saturated}


def assess_lead(ecg, fs, peaks, missing, *, floor, min_quality=MIN_QUALITY):
    """Quality of each beat, which beats to keep, and the seconds dropped per reason.

    Parameters
    ----------
    ecg : ndarray of shape (n_samples,)
        One lead with NaN samples filled in; ``missing`` marks them.
    peaks : ndarray of int
        R peaks of the lead.
    floor : float
        Peak-to-peak (in the lead's units) under which 0.5 s is a flat line.

    Returns
    -------
    quality : ndarray of shape (n_peaks,)
    keep : ndarray of bool
        Beats of quality ``min_quality`` or more, outside every unusable stretch.
    dropped : dict
        Seconds of signal per reason in :data:`REASONS` (0 when none).
    stretches : list of (start_s, stop_s, reason)
    """
    masks = unusable_samples(ecg, fs, missing, floor)
    quality = beat_quality(ecg, fs, peaks)
    noise = np.zeros(len(ecg), dtype=bool)
    bad = ~(quality >= min_quality)  # NaN (window leaves the signal) is not evidence of noise
    bad &= ~np.isnan(quality)
    if len(peaks):
        # A bad beat stands for the signal from halfway to its neighbours.
        edges = np.concatenate([[0], (peaks[1:] + peaks[:-1]) // 2, [len(ecg)]])
        for i in np.flatnonzero(bad):
            noise[edges[i]:edges[i + 1]] = True
    masks["noise"] = noise & ~masks["missing"] & ~masks["flat"] & ~masks["saturated"]
    unusable = np.logical_or.reduce(list(masks.values()))
    margin = int(0.1 * fs)
    near_unusable = ndimage.maximum_filter1d(unusable.astype(np.uint8), 2 * margin + 1).astype(bool)
    keep = ~bad & ~near_unusable[peaks] if len(peaks) else np.zeros(0, dtype=bool)
    dropped = {reason: float(masks[reason].sum() / fs) for reason in REASONS}
    stretches = []
    for reason in REASONS:
        labels, count = ndimage.label(masks[reason])
        for where in ndimage.find_objects(labels):
            stretches.append((where[0].start / fs, where[0].stop / fs, reason))
    return quality, keep, dropped, sorted(stretches)
