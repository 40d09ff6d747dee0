"""Signal quality: which beats of a lead are ECG, and which stretches hold none.

A beat's quality is its correlation with the nearest of the record's beat
shapes (templates), the best over shifts of ±100 ms, on two views of the
signal (0.5-40 Hz band-passed, and step-free) so that neither a rectangular
artefact nor a jittery fiducial point on a fragmented QRS makes a real beat
look bad. The shapes are learned from the record's own beats: the median
beat, then up to four shapes that recur among the beats the known shapes
would reject (ventricular beats, escape beats), each the median of at least
four such beats that correlate with
one another by 0.85 or more. Noise does not recur that way (two windows of
noise correlate by ~0.1), so it gains no template; a run of clean beats of
another shape does, and is kept. Exact copies of a window count once (a
multi-segment record that holds one stretch three times repeats its noise
exactly). On real records the beats
of an ECG score 0.9-1.0 (MIT-BIH 100: 5th percentile 0.96); "beats" that a
detector finds in white noise or in a lead with no ECG score 0.1-0.4 (median
0.2-0.3), so :data:`MIN_QUALITY` = 0.5 separates them.

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
#: Beat shapes learned per lead at most: the median beat and the others that recur.
MAX_SHAPES = 5
#: Two beats whose windows correlate this much or more have one shape; a shape
#: other than the median beat's needs :data:`MIN_SHAPE_BEATS` such beats.
SAME_SHAPE = 0.85
MIN_SHAPE_BEATS = 4
# Beats compared pairwise when looking for a recurring shape (the cost is its square).
_SHAPE_SAMPLE = 400
REASONS = ("missing", "flat", "saturated", "noise")


def _views(ecg, fs, clean):
    sos = signal.butter(2, [0.5, min(40.0, 0.45 * fs)], btype="bandpass", fs=fs, output="sos")
    return signal.sosfiltfilt(sos, ecg), clean


def _best_correlation(windows, masks, template, shift):
    """Each window's best correlation with ``template`` over shifts of up to ``shift`` samples.

    Only the usable samples (``masks``) of a window count.
    """
    centred = template - template.mean()
    centred = centred / (np.linalg.norm(centred) + 1e-300)
    whole = masks.all(axis=1)  # most beats: a plain correlation, no masks to carry
    best = np.full(len(windows), -1.0)
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
    return best


def _recurring_shape(cores, candidates):
    """The median of the largest set of ``candidates`` that share one shape, or None.

    A set is a seed beat and the beats whose window correlates with its window
    by :data:`SAME_SHAPE` or more, at least :data:`MIN_SHAPE_BEATS` of them.
    Noise does not recur: two windows of noise correlate by ~0.1, so only
    clean beats of one shape make such a set.
    """
    if len(candidates) < MIN_SHAPE_BEATS:
        return None
    sample = candidates[np.linspace(0, len(candidates) - 1, min(len(candidates), _SHAPE_SAMPLE)).astype(int)]
    # Windows that are exact copies count once: a multi-segment record that holds one stretch
    # several times repeats its noise exactly, and copies of one burst are not a recurring shape.
    _, first = np.unique(cores[sample].astype(np.float32), axis=0, return_index=True)
    sample = sample[np.sort(first)]
    if len(sample) < MIN_SHAPE_BEATS:
        return None
    centred = cores[sample] - cores[sample].mean(axis=1, keepdims=True)
    centred /= np.linalg.norm(centred, axis=1, keepdims=True) + 1e-300
    alike = centred @ centred.T >= SAME_SHAPE
    partners = alike.sum(axis=1)
    seed = int(np.argmax(partners))
    if partners[seed] < MIN_SHAPE_BEATS:
        return None
    return np.median(cores[sample[alike[seed]]], axis=0)


def _shape_correlation(view, usable, peaks, before, after, shift, min_quality, learn=True):
    """Best correlation of each beat with the record's beat shapes, and the shape it is nearest to.

    The first shape is the median beat. Then, up to :data:`MAX_SHAPES`, come
    the shapes that recur among the beats the known shapes would reject
    (correlation under ``min_quality``): premature or escape ventricular
    beats. Shapes are not learned from beats that pass: they gain nothing
    from a shape of their own, each extra shape is one more chance for noise
    to pass, and on a messy record such "shapes" were mostly normal beats
    next to an artefact. With ``learn=False`` the median beat is the only
    shape.
    """
    offsets = peaks[:, None] + np.arange(-before - shift, after + shift)
    windows, masks = view[offsets], usable[offsets].astype(float)
    core = slice(shift, windows.shape[1] - shift)
    clear = masks[:, core].all(axis=1)
    cores = windows[:, core]
    templates = [np.median(cores[clear] if clear.sum() >= 2 else cores, axis=0)]
    scores = [_best_correlation(windows, masks, templates[0], shift)]
    while learn and len(templates) < MAX_SHAPES:
        template = _recurring_shape(cores, np.flatnonzero(clear & (np.max(scores, axis=0) < min_quality)))
        if template is None:
            break
        templates.append(template)
        scores.append(_best_correlation(windows, masks, template, shift))
    scores = np.array(scores)
    best, shape, median_beat = scores.max(axis=0), scores.argmax(axis=0), scores[0]
    # A window mostly lost to a dropout or saturation says nothing about its beat.
    best[masks[:, core].mean(axis=1) < 0.5] = np.nan
    return best, shape, np.where(np.isnan(best), np.nan, median_beat)


def beat_quality(ecg, fs, peaks, usable=None, clean=None, return_shape=False, min_quality=MIN_QUALITY):
    """Correlation of each beat with the nearest of the record's beat shapes, in [-1, 1].

    ``ecg`` is one NaN-free lead and ``peaks`` its R peaks (sample indices).
    Only the ``usable`` samples (default: all) of each window count, so a
    beat next to a dropout is judged on its own signal. NaN where the window
    leaves the signal or is mostly unusable. ``clean`` is ``step_free(ecg,
    fs)`` when the caller has it already. With ``return_shape``, also the
    index of each beat's nearest shape (0: the median beat; 1, 2, ...: the
    other recurring shapes in the order found; -1 where the quality is NaN),
    and each beat's correlation with the median beat alone.
    New shapes are learned from the beats under ``min_quality`` only.
    """
    before, after, shift = int(_WINDOW_S[0] * fs), int(_WINDOW_S[1] * fs), int(_SHIFT_S * fs)
    peaks = np.asarray(peaks, dtype=int)
    usable = np.ones(len(ecg), dtype=bool) if usable is None else usable
    inside = (peaks - before - shift >= 0) & (peaks + after + shift <= len(ecg))
    quality = np.full(len(peaks), np.nan)
    shape = np.full(len(peaks), -1)
    median_quality = np.full(len(peaks), np.nan)
    if inside.sum() >= 2:
        views = _views(ecg, fs, step_free(ecg, fs) if clean is None else clean)
        # Shapes are learned on the step-free view only. On the band-passed one, a rectangular
        # pulse or baseline jump near a beat leaves a slow swing that recurs from beat to beat;
        # shapes learned from such windows are mostly that swing, and the slow drift of a noise
        # burst correlates with them (a messy synthetic record kept 33 of 39 beats in its noise
        # bursts that way, against 13 with the median beat alone).
        band, _, band_median = _shape_correlation(views[0], usable, peaks[inside], before, after, shift,
                                                  min_quality, learn=False)
        free, free_shape, free_median = _shape_correlation(views[1], usable, peaks[inside], before, after,
                                                           shift, min_quality)
        quality[inside] = np.fmax(band, free)
        median_quality[inside] = np.fmax(band_median, free_median)
        shape[inside] = np.where(np.isnan(free), 0, free_shape)
        shape[np.isnan(quality)] = -1
    return (quality, shape, median_quality) if return_shape else quality


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
    shape : ndarray of int of shape (n_peaks,)
        The beat shape each beat is nearest to (:func:`beat_quality`); -1 for
        a lone ectopic beat kept despite its quality, and where the quality is NaN.
    unlike_median : int
        Beats that match neither the median beat nor the lone-ectopic rule:
        over half the beats, the lead holds no usable ECG.
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
    quality, shape, median_quality = beat_quality(ecg, fs, peaks, usable=~np.logical_or.reduce(list(masks.values())),
                                                  clean=clean, return_shape=True, min_quality=min_quality)
    noise = np.zeros(len(ecg), dtype=bool)
    bad = ~(quality >= min_quality)  # NaN (window leaves the signal) is not evidence of noise
    bad &= ~np.isnan(quality)
    ectopic = ectopic_beats(clean, fs, peaks, bad)
    bad &= ~ectopic
    # Whether the lead is an ECG at all is judged against its median beat, as before shapes were
    # learned: shapes learned from a lead that is mostly artefact would let its artefacts pass.
    unlike_median = int((~(median_quality >= min_quality) & ~np.isnan(median_quality) & ~ectopic).sum())
    shape[ectopic] = -1  # a lone beat of its own shape
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
    return quality, shape, unlike_median, keep, dropped, sorted(stretches), masks
