"""Ventricular flutter and fibrillation: stretches of ECG that hold no QRS complex to detect.

In ventricular flutter the ECG is a continuous oscillation of 3-5 Hz with no
flat baseline between its waves: there are no QRS complexes, and a QRS
detector counts each flutter wave as a beat (MIT-BIH 207: 350 false beats in
its 143 s of flutter, +P 84 % on that record). What tells flutter from a fast
ventricular rhythm whose beats are real is the baseline: even ventricular
tachycardia at 200 bpm has moments where the signal rests, and its QRS
complexes are steep where flutter waves are smooth. Measured on the 22 DS1
records of MIT-BIH: the share of samples whose 1-15 Hz slope is under a tenth
of the window's 95th percentile, over 3 s windows, falls to 0.04 in 207's
flutter and stays above 0.19 everywhere else (lowest: 114, 0.19; 205's
ventricular tachycardia, 0.21; 208, 0.21). Sinus tachycardia with tall T
waves has no baseline either (v102s, 104 bpm: 0.11-0.19), but steep QRS
slopes: a stretch is flutter where the share is under 0.15 *and* the 10-25 Hz
slopes are under 0.8 of the 1-15 Hz ones, grown over its neighbours with a
share under 0.33 (the windows at its edges hold some normal signal). 315 of
the 350 false beats in 207's flutter are gone, no annotated beat is lost
(``benchmarks/bench_rpeaks.py``).
"""

import numpy as np
from scipy import signal

# Half-width of the window whose flat share is measured, and the grid it is measured on.
_WINDOW_S, _STEP_S = 1.5, 0.5
# A sample is flat where its slope is under this share of the window's 95th percentile.
_FLAT_SLOPE = 0.1
# A stretch is flutter where the flat share is under _CORE, and grows over neighbours under _EDGE
# (hysteresis: the edges of an episode, where its window holds some normal signal, join it).
_CORE, _EDGE = 0.15, 0.33
# ... and, where it starts, has no QRS-like steep slopes (tall T waves at 104 bpm have no flat baseline either).
_CORE_RATIO = 0.8
# Shorter stretches are not called flutter: three waves at least.
_MIN_S = 1.0


def _slopes(clean, fs, band, q, slope=None):
    """|slope| of ``clean`` band-passed to ``band`` (Hz) (or ``slope`` given): every q-th sample, and each q's maximum."""
    if slope is None:
        sos = signal.butter(2, [band[0], min(band[1], 0.45 * fs)], btype="bandpass", fs=fs, output="sos")
        slope = np.abs(np.gradient(signal.sosfiltfilt(sos, clean)))
    n = len(slope) // q * q
    return slope[:n:q], slope[:n].reshape(-1, q).max(axis=1)


def flat_share(clean, fs, steep=None):
    """Per point of a 0.5 s grid, over the 3 s window around it: the share of flat samples and the QRS-band ratio.

    The ratio is the 99th percentile of the 10-25 Hz slope over that of the
    1-15 Hz slope: a QRS complex is steep in both, a flutter wave only in the
    second (207's flutter: median 0.50, 90 % under 0.78; sinus tachycardia with
    tall T waves, which has no flat baseline either, v102s: above 0.9).
    ``steep``: the 10-25 Hz |slope| of ``clean`` where the caller has it (the detector does).
    Returns ``share``, ``ratio`` and the grid (samples of ``clean``).
    """
    # Slopes of a 1-15 Hz signal need no more than ~50 samples a second: taking every q-th
    # makes the windows q times shorter (the detector's time per record: 1.5x without it).
    q = max(1, int(fs // 50))
    slope, slope_max = _slopes(clean, fs, (1.0, 15.0), q)
    _, steep_max = _slopes(clean, fs, (10.0, 25.0), q, steep)
    half, step = int(_WINDOW_S * fs / q), max(1, int(_STEP_S * fs / q))
    grid = np.arange(0, len(slope), step)
    share, ratio = np.full(len(grid), np.nan), np.full(len(grid), np.nan)
    if len(slope) <= 2 * half:
        return share, ratio, grid * q
    views = [np.lib.stride_tricks.sliding_window_view(np.pad(values, half, mode="reflect"), 2 * half)
             for values in (slope, slope_max, steep_max)]
    # In chunks: a 30-minute record has 3,600 windows of 150 samples.
    for start in range(0, len(grid), 512):
        at = grid[start:start + 512]
        block = views[0][at]
        limit = _FLAT_SLOPE * np.percentile(block, 95, axis=1, keepdims=True)
        share[start:start + 512] = (block < limit).mean(axis=1)
        ratio[start:start + 512] = (np.percentile(views[2][at], 99, axis=1)
                                    / np.maximum(np.percentile(views[1][at], 99, axis=1), 1e-300))
    return share, ratio, grid * q


def flutter_mask(clean, fs, steep=None):
    """Boolean per sample of the step-free signal ``clean``: inside ventricular flutter or fibrillation."""
    share, ratio, grid = flat_share(clean, fs, steep)
    flagged = (share < _CORE) & (ratio < _CORE_RATIO)
    # Grow over neighbours under the edge level, on both sides, until nothing changes.
    while True:
        grow = (share < _EDGE) & ~flagged & (np.r_[False, flagged[:-1]] | np.r_[flagged[1:], False])
        if not grow.any():
            break
        flagged |= grow
    mask = np.zeros(len(clean), dtype=bool)
    step = grid[1] - grid[0] if len(grid) > 1 else len(clean)
    for run in np.split(np.flatnonzero(flagged), np.flatnonzero(np.diff(np.flatnonzero(flagged)) > 1) + 1):
        if len(run) == 0 or (run[-1] - run[0] + 1) * step < _MIN_S * fs:
            continue
        mask[max(0, grid[run[0]] - step // 2):grid[run[-1]] + step // 2 + 1] = True
    return mask
