"""Signal quality: which beats of a lead are ECG, and which stretches hold none.

A beat's quality is its correlation with the record's median beat (the
template), the best over shifts of ±100 ms, on two views of the signal (0.5-40
Hz band-passed, and step-free) so that neither a rectangular artefact nor a
jittery fiducial point on a fragmented QRS makes a real beat look bad. On
real records the beats of an ECG score 0.9-1.0 (MIT-BIH 100: 5th percentile
0.96); "beats" that a detector finds in white noise or in a lead with no ECG
score 0.1-0.4 (median 0.2-0.3), so :data:`MIN_QUALITY` = 0.5 separates them.

Stretches without usable ECG are the missing (NaN) samples, flat lines
(a second or more within a fifth of the amplitude floor), saturation (50 ms or more
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


def _views(ecg, fs, clean):
    sos = signal.butter(2, [0.5, min(40.0, 0.45 * fs)], btype="bandpass", fs=fs, output="sos")
    return signal.sosfiltfilt(sos, ecg), clean


def _template_correlation(view, usable, peaks, before, after, shift):
    """Best correlation over shifts with the median beat, on the usable samples of each window."""
    offsets = peaks[:, None] + np.arange(-before - shift, after + shift)
    windows, masks = view[offsets], usable[offsets].astype(float)
    core = slice(shift, windows.shape[1] - shift)
    clear = masks[:, core].all(axis=1)
    template = np.median(windows[clear][:, core] if clear.sum() >= 2 else windows[:, core], axis=0)
    centred = template - template.mean()
    centred /= np.linalg.norm(centred) + 1e-300
    whole = masks.all(axis=1)  # most beats: a plain correlation, no masks to carry
    best = np.full(len(peaks), -1.0)
    for k in range(-shift, shift + 1, max(1, shift // 10)):
        part = slice(shift + k, windows.shape[1] - shift + k)
        segment = windows[whole, part] - windows[whole, part].mean(axis=1, keepdims=True)
        best[whole] = np.maximum(best[whole], segment @ centred / (np.linalg.norm(segment, axis=1) + 1e-300))
        segment, mask = windows[~whole, part], masks[~whole, part]
        weight = np.maximum(mask.sum(axis=1, keepdims=True), 1.0)
        s = segment - (segment * mask).sum(axis=1, keepdims=True) / weight
        t = template[None, :] - (template[None, :] * mask).sum(axis=1, keepdims=True) / weight
        numerator = (mask * s * t).sum(axis=1)
        denominator = np.sqrt((mask * s * s).sum(axis=1) * (mask * t * t).sum(axis=1)) + 1e-300
        best[~whole] = np.maximum(best[~whole], numerator / denominator)
    # A window mostly lost to a dropout or saturation says nothing about its beat.
    best[masks[:, core].mean(axis=1) < 0.5] = np.nan
    return best


def beat_quality(ecg, fs, peaks, usable=None, clean=None):
    """Correlation of each beat with the median beat, in [-1, 1].

    ``ecg`` is one NaN-free lead and ``peaks`` its R peaks (sample indices).
    Only the ``usable`` samples (default: all) of each window count, so a
    beat next to a dropout is judged on its own signal. NaN where the window
    leaves the signal or is mostly unusable. ``clean`` is ``step_free(ecg,
    fs)`` when the caller has it already.
    """
    before, after, shift = int(_WINDOW_S[0] * fs), int(_WINDOW_S[1] * fs), int(_SHIFT_S * fs)
    peaks = np.asarray(peaks, dtype=int)
    usable = np.ones(len(ecg), dtype=bool) if usable is None else usable
    inside = (peaks - before - shift >= 0) & (peaks + after + shift <= len(ecg))
    quality = np.full(len(peaks), np.nan)
    if inside.sum() >= 2:
        views = _views(ecg, fs, step_free(ecg, fs) if clean is None else clean)
        quality[inside] = np.fmax(*[_template_correlation(v, usable, peaks[inside], before, after, shift)
                                    for v in views])
    return quality


def _runs(mask, min_length):
    """Mask of the runs of True in ``mask`` that last ``min_length`` samples or more."""
    labels, count = ndimage.label(mask)
    if count == 0:
        return np.zeros_like(mask)
    lengths = np.bincount(labels)[1:]
    return np.isin(labels, np.flatnonzero(lengths >= min_length) + 1)


def _widen(mask, size):
    return ndimage.maximum_filter1d(mask.astype(np.uint8), size).astype(bool)


def unusable_samples(ecg, fs, missing, floor):
    """Masks per reason (missing, flat, saturated) over the samples of one lead."""
    flat_size = max(2, int(_FLAT_S * fs))
    span = ndimage.maximum_filter1d(ecg, flat_size) - ndimage.minimum_filter1d(ecg, flat_size)
    # A second or more of samples whose whole window is flat (a quiet
    # diastole is shorter), widened back to the stretch's own edges.
    # A lost signal is held (nearly) constant: a fifth of the amplitude floor,
    # under the noise of a quiet but live baseline.
    flat = _widen(_runs(span <= 0.2 * floor, flat_size), flat_size) & ~missing
    held = max(2, int(_SATURATION_S * fs))
    # A real ECG touches its extremes for an instant; a saturated amplifier holds them.
    saturated = (_runs(ecg == ecg.max(), held) | _runs(ecg == ecg.min(), held)) & ~flat & ~missing
    return {"missing": missing, "flat": flat, "saturated": saturated}


def ectopic_beats(clean, fs, peaks, bad):
    """Beats unlike the median beat that are still beats: a lone ectopic (PVC) amid clean ones.

    Template correlation cannot tell a premature ventricular beat (0.09 on
    MIT-BIH 100) from noise. What can: noise comes in stretches, an ectopic
    beat alone. A low-quality beat counts as ectopic when both neighbours are
    good, its QRS is at least half the median beat's, and the 250 ms before
    it are as quiet as before the good beats (at most twice their 5-15 Hz
    RMS). ``clean`` is the lead's step-free signal (:func:`step_free`).
    """
    ectopic = np.zeros(len(peaks), dtype=bool)
    lone = np.flatnonzero(bad[1:-1] & ~bad[:-2] & ~bad[2:]) + 1 if len(peaks) >= 3 else np.array([], int)
    if len(lone) == 0 or (~bad).sum() < 3:
        return ectopic
    sos = signal.butter(2, [5.0, min(15.0, 0.45 * fs)], btype="bandpass", fs=fs, output="sos")
    band = signal.sosfiltfilt(sos, clean)
    half, quiet = int(0.06 * fs), (int(0.4 * fs), int(0.15 * fs))
    valid = (peaks - quiet[0] >= 0) & (peaks + half < len(clean))

    def amplitude(i):
        part = clean[peaks[i] - half:peaks[i] + half + 1]
        return np.ptp(part)

    def noise(i):
        return np.sqrt(np.mean(band[peaks[i] - quiet[0]:peaks[i] - quiet[1]] ** 2))

    good = np.flatnonzero(~bad & valid)
    if len(good) < 3:
        return ectopic
    sample = good[np.linspace(0, len(good) - 1, min(len(good), 200)).astype(int)]
    typical_amplitude = np.median([amplitude(i) for i in sample])
    typical_noise = np.median([noise(i) for i in sample])
    for i in lone[valid[lone]]:
        ectopic[i] = amplitude(i) >= 0.5 * typical_amplitude and noise(i) <= 2 * typical_noise + 1e-12
    return ectopic


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
    masks : dict
        Per reason in :data:`REASONS`, a boolean mask over the samples.
    """
    masks = unusable_samples(ecg, fs, missing, floor)
    # One step-free signal serves the quality views and the ectopic-beat check.
    clean = step_free(ecg, fs)
    quality = beat_quality(ecg, fs, peaks, usable=~np.logical_or.reduce(list(masks.values())), clean=clean)
    noise = np.zeros(len(ecg), dtype=bool)
    bad = ~(quality >= min_quality)  # NaN (window leaves the signal) is not evidence of noise
    bad &= ~np.isnan(quality)
    bad &= ~ectopic_beats(clean, fs, peaks, bad)
    if len(peaks):
        # A bad beat stands for the signal from halfway to its neighbours.
        edges = np.concatenate([[0], (peaks[1:] + peaks[:-1]) // 2, [len(ecg)]])
        for i in np.flatnonzero(bad):
            noise[edges[i]:edges[i + 1]] = True
    masks["noise"] = noise & ~masks["missing"] & ~masks["flat"] & ~masks["saturated"]
    unusable = np.logical_or.reduce(list(masks.values()))
    margin = int(0.1 * fs)
    near_unusable = _widen(unusable, 2 * margin + 1)
    keep = ~bad & ~near_unusable[peaks] if len(peaks) else np.zeros(0, dtype=bool)
    dropped = {reason: float(masks[reason].sum() / fs) for reason in REASONS}
    stretches = []
    for reason in REASONS:
        labels, count = ndimage.label(masks[reason])
        for where in ndimage.find_objects(labels):
            stretches.append((where[0].start / fs, where[0].stop / fs, reason))
    return quality, keep, dropped, sorted(stretches), masks
