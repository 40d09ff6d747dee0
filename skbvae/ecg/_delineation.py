"""Wave boundaries of every beat: P, QRS and T onsets, peaks and offsets (delineation).

The method of Martinez et al. (2004, IEEE TBME 51(4):570-581), the wavelet
delineator that meets the CSE working party's tolerances on the QT database:
the signal (at 250 Hz) is taken through a dyadic wavelet transform whose
scale 2^k is the derivative of the signal smoothed over ~2^k samples (an
*à trous* transform with a B-spline smoother and a central difference, both
symmetric, so no scale shifts the waves in time). A wave shows as a pair of
modulus maxima of opposite sign at the scale that matches its width: the QRS
at 2^2, P and T at 2^4 (2^5 for wide, flat ones). A boundary is where the
transform falls, walking out from the wave's first or last significant
maximum, below a fraction of that maximum, or where it reaches a local
minimum first.

What a fixed search around R missed, and this handles:

- **wide, notched and slurred QRS** (bundle branch blocks, paced and
  ventricular beats): every significant maximum of the complex counts, so the
  offset is after the last notch or slur, not at the S nadir, and a slope
  resting at the flat top of a slurred R does not end the complex;
- **first-degree block**: P is searched up to 450 ms before the QRS;
- **no P wave** (atrial fibrillation, flutter, ventricular and paced beats):
  a P is reported only where a wave stands clear of the baseline's noise, outside
  an irregularly irregular rhythm, and where the beats' own P segments follow
  their median beat's (fibrillation waves are not locked to the QRS, also when
  a pacemaker keeps the ventricular rhythm regular);
- **T offset**, so the QT interval;
- **baseline wander** (ambulatory records): the signal is high-passed at 0.5 Hz
  before the transform, and no QRS boundary is placed within the slope noise;
- **pacing spikes** are taken out before the transform, so a paced QRS starts
  on the complex, not at its stimulus.
"""

import warnings

import numpy as np
import pandas as pd
from scipy import ndimage, signal

from ._pacing import spikes_and_baseline

#: Working rate of the transform (Hz): scales 2^1-2^5 there are Martinez et al.'s.
_WORK_FS = 250.0
#: A record whose part above 40 Hz has a robust SD over this share of its QRS complexes' height (the
#: median of each beat's largest excursion within 40 ms of R) is low-passed at
#: :data:`_NOISY_LOWPASS_HZ` before it is delineated: muscle noise (20-150 Hz) then outweighs the QRS
#: detail up there. LUDB lead II, clean: median share 0.003, 95th percentile 0.017; with a Holter's
#: muscle noise at rest (``bench_delineation.py --noise``, 0.02 mV RMS in 20-100 Hz) median 0.023 (5th
#: percentile 0.016); walking (0.05 mV) 0.037 and more; MIT-BIH DS1, 13 of 44 leads (mostly V1).
#: Low-passing every record instead took LUDB's clean QRS gross errors from 0.9 to 1.3 %. The noise
#: level that P and T waves must stand clear of stays the one measured before the filter.
_NOISY_SHARE = 0.015
_NOISY_LOWPASS_HZ = 40.0
_SMOOTH = np.array([1.0, 4.0, 6.0, 4.0, 1.0]) / 16.0
_DIFFERENCE = np.array([1.0, 0.0, -1.0]) / 2.0

#: Columns of :func:`delineate`: sample indices at the signal's own rate (NaN where absent).
BOUNDARIES = ("p_on", "p_peak", "p_off", "qrs_on", "qrs_off", "t_peak", "t_off")

# QRS: maxima within this span around R belong to the complex when large enough (s).
_QRS_SPAN_S = (0.16, 0.20)
# A maximum belongs to the QRS when at least this share of the complex's largest.
_QRS_SIGNIFICANT = 0.08
# A valley of |W2| below this share of the complex's steepest slope ends the walk too.
_QRS_VALLEY = 0.06
# Maxima of one complex: the slope between two never rests below this share of the steepest for
# this long (s); the PR and ST segments do.
_QRS_QUIET, _QRS_QUIET_S = 0.05, 0.01
# ... unless the signal rests there at least this share of the complex's excursion from the PR level.
_QRS_PLATEAU = 0.85
# Boundaries: where |W2| falls below this share of the complex's steepest slope (the cardiologists'
# onsets of LUDB lie at 3 % of it in the median, offsets at 5 %).
_QRS_ON_FRACTION, _QRS_OFF_FRACTION = 0.02, 0.06
# A QRS is kept where it lasts this long (s): the shortest, in newborns, last 40-50 ms, and the widest
# (hyperkalaemia, drug toxicity, paced beats with a block) 200-250 ms; LUDB's cardiologists' run from 54 to
# 250 ms on lead II. Bounds from physiology; on LUDB lead II they took away 2 QRS, of 28 and 260 ms (the
# cardiologists' 186 and 146), so the QRS SD went 18.5 -> 18.0 ms.
_QRS_RANGE = (0.04, 0.25)
# Each beat's own QRS boundaries are sought this close (s) to its local median beat's.
_QRS_REFINE_S = 0.016
# ... and kept where its duration is within this much (s) of the local median beat's: neighbours of one
# shape do not change their QRS duration by more from one beat to the next, so a beat that does has its
# boundary on a notch or in the noise, and the template's boundaries are kept. On LUDB lead II the
# template was more often the right one where the two disagree: QRS |error| > 50 ms on 26 -> 18 of 1,814
# beats (odd records 13 -> 8, even 13 -> 10), SD 18.0 -> 17.3 ms; 20 ms gave 20, 30 ms 19, 40 ms 23.
_QRS_BEAT_AGREES_S = 0.025
# No QRS boundary where the slope is within this many robust SDs of the template's slope noise
# (muscle noise on LUDB, 0.02 mV RMS: QRS SD 25.7 -> 24.7 ms; clean 20.1 -> 19.4).
_QRS_NOISE_FLOOR = 3.0
# On a noisy record (:data:`_NOISY_SHARE`) a slope maximum under that floor does not join the complex
# either: muscle noise left in the template made lobes after the S wave that chained the complex on into
# the ST segment (LUDB 40 and 118 with walking-level noise: every QRS offset 60-90 ms late). On a clean
# record the template's slope median measures its P and T waves, not noise, and the same rule cut small
# q and s waves off (LUDB lead II clean: QRS gross 0.9 -> 1.7 %), so it is kept to noisy records.
# (The share of the floor a lobe must reach; 1.5 did less: walking-level QRS SD 19.8 ms, gross 4.4 %.)
_QRS_LOBE_FLOOR = 1.0
# Baseline wander is taken out before the transform: P and T boundaries sit on slopes of a few mV/s,
# and 0.3 mV of wander at 0.5 Hz adds ~1 mV/s (on LUDB it took the PR SD from 15.8 to 45.6 ms).
_BASELINE_HZ = 0.5
# T wave: searched from QRS offset + 40 ms to R + min(0.75 RR, 0.6 √RR).
_T_START_S, _T_END = 0.04, (0.75, 0.55)
_T_OFF_FRACTION = 0.6
# A T end is kept only where Bazett's QTc (QT over the root of the preceding RR, s) lies in this range:
# a shorter QT is a T end on the ST segment's first hump (short-QT syndrome starts near 0.33 s; 4 of
# LUDB's 1,628 annotated lead-II QTc are under 0.30), and the upper bound leaves the longest QTs
# measured (LUDB's longest 0.68 s). On LUDB lead II it took away 6 T ends (88's flat T ended 40 ms
# after its QRS), 4 of them over 50 ms off.
_QTC_RANGE = (0.30, 0.70)
# ... and where it ends at least this long (s) before the next beat's R: in sinus rhythm the next P wave
# starts 150 ms or more before that R (a PR of 120 ms or more, and the Q-to-R time), and the T ends before
# it. The template a beat is delineated on may come from a neighbour with a longer RR (atrial
# fibrillation), so its T window can reach into a short RR's next beat. On LUDB lead II this took away 4 T
# ends: two of record 103 (fibrillation, 68 and 108 ms late) and two before premature beats that were
# right (within 24 ms; their T ended 86 and 102 ms before the next R, so the rule costs such beats).
_T_CLEAR_OF_NEXT_R_S = 0.1
# A T wave is reported where it stands this many noise SDs (the signal's above 40 Hz) clear of its end
# (:func:`_t_height`), as a P wave must: a T end walked down a flat T in noise lands anywhere. LUDB lead
# II with moderate ambulatory noise: QT gross 5.5 -> 3.5 %, SD 31.0 -> 24.4 ms, measured 95 -> 84 % (3:
# 4.8 %, 90 %); clean, gross 3.0 -> 2.9 %, measured 94.8 -> 94.4 %. On MIT-BIH DS1's two leads at once
# it leaves the noisy lead's T out (122's V1), so more QT are measured (76 -> 81 % of the normal beats).
_T_MIN_SNR = 4.0
# A T end is kept where the scales 2^4 and 2^5 place it this close (s).
_T_AGREE_S = 0.08
# The T wave is the first wave after the QRS at least this share of the window's largest.
_T_FIRST_SHARE = 0.2
# Maxima of the T window that take part: at least this share of its largest.
_T_SIGNIFICANT = 0.1
# A T wave's two slopes lie within this (s) of each other: a first pair of slopes that shares its second
# maximum with a larger pair this close is the start of that wave (a small ST slope before an inverted
# or flat T), not a wave of its own. On LUDB lead II it had ended whole records' T waves (28, 54, 61,
# 71, 98) at their trough or hump, 60-100 ms early (QT gross errors 4.7 -> 3.3 %).
_T_SLOPES_APART_S = 0.16
# P wave: searched from QRS onset - 450 ms (first-degree block) to 20 ms before.
_P_SEARCH_S = (0.45, 0.02)
# A P wave starts at least this far (s) inside its search window. A wave whose onset the walk finds at or
# before the window's start was cut by it: the tail of the previous beat's T wave (the window starts an RR
# after this template's T end, and a slow T runs on past the end the transform gives it) or a wave fused
# with it, whose onset is not clear. LUDB, each lead alone against its own annotation: PR errors over 50 ms
# on V2 8.1 -> 6.6 %, V3 7.2 -> 6.3 %, aVL 8.3 -> 7.1 %, V5 4.5 -> 3.4 %, lead II 0.6 -> 0.5 % (SD 14.3 ->
# 13.7 ms), 0.1-1.3 points fewer P measured; over the 12 leads' odd records (chosen there) 3.5 -> 3.2 %,
# SD 29.3 -> 23.5 ms; 0.04 s did more on LUDB (3.0 %) but took 3.8 points of MIT-BIH DS1's MLII P waves
# (fast rhythms, whose P starts soon after the T), 0.02 s takes 1.8 and halves DS1's PR jumps between
# neighbouring beats (0.48 -> 0.26 %).
_P_INSIDE_WINDOW_S = 0.02
_P_ON_FRACTION, _P_OFF_FRACTION = 0.6, 0.7
# The scale P waves are delineated at (2^3: with this package's smoother, 2^4 widened them by ~20 ms).
_P_SCALE = 3
# The P wave is the last wave before the QRS at least this share of the window's largest.
_P_LAST_SHARE = 0.5
# No P wave lasts longer (s): LUDB's annotated P waves last 96 ms in the median, 156 ms at the 99th
# percentile, over 200 ms on 0.1 % (16,780 over the 12 leads). Where a lead's P wave is flat, its onset
# walked back along a slowly rising baseline to the previous T wave's end: a "P wave" of 210-290 ms and
# a PR 100-250 ms too long (LUDB 11 and 56 on V3, 14 and 65 on V2); such a P is left unmeasured. Each LUDB
# lead alone, PR errors over 50 ms: V2 6.6 -> 3.5 %, V3 6.3 -> 3.5 %, V5 3.4 -> 2.0 %, V6 2.5 -> 0.9 %,
# aVF 3.3 -> 2.4 %, lead II 0.54 -> 0.47 % (SD 13.7 -> 13.6 ms), 0-2.5 points fewer PR measured; the 12
# leads' odd records 3.2 -> 2.3 % (SD 23.5 -> 17.7 ms), even 4.3 -> 3.3 %. 0.16-0.18 s did more on the
# odd records (1.9-2.1 %) and was not taken: 0.6 / 0.2 % of the annotated P waves last longer. MIT-BIH
# DS1 MLII: PR jumps over 50 ms between steady neighbouring beats 0.26 -> 0.17 % (73.6 -> 73.3 % of the
# normal beats' PR measured); both leads at once 0.20 -> 0.15 % (70.1 -> 70.4 %).
_P_LONGEST_S = 0.2
# A P wave stands this far above the noise and this share of R.
_P_MIN_SNR, _P_MIN_R_FRACTION = 4.0, 0.02
# A P wave is locked to its QRS: each beat's own P segment (its P +- 20 ms) follows its template's.
# Kept where the median of that correlation over the beat and its neighbours (the template's span,
# :data:`_TEMPLATE_NEIGHBOURS` on each side) is at least this. Fibrillation waves are not locked, yet
# where the ventricular rhythm is regular (paced fibrillation, which the RR irregularity misses) a
# bump of them survives in a template and was reported as a P wave. LUDB lead II: P reported on 66 of
# the 218 beats whose P the cardiologists left unannotated, other than each record's first and last,
# -> 35, no annotated P lost (PR measured 92.2 %); MIT-BIH DS1 MLII: P on 41 -> 11 of 3,805 beats in
# atrial fibrillation or flutter, on 85.7 -> 85.4 % of the normal beats in sinus rhythm. Per beat,
# without the neighbours' median, it took 4 annotated P and 1.9 % of DS1's sinus P: a noisy beat's P
# departs from its template too. 0.5 left 51 of the 66, 0.7 took 1.4 % of DS1's sinus P.
_P_LOCKED = 0.6


def _dilated(kernel, level):
    """``kernel`` with 2^level - 1 zeros between its taps (the à trous 'holes')."""
    if level == 0:
        return kernel
    out = np.zeros((len(kernel) - 1) * 2**level + 1)
    out[:: 2**level] = kernel
    return out


def wavelet_scales(x, n_scales=5):
    """The transform at scales 2^1 .. 2^n_scales: each the derivative of ``x`` smoothed at that scale.

    ``x`` is one signal, or several in rows (each transformed along its last axis).
    """
    approximation, scales = np.asarray(x, dtype=float), []
    for level in range(n_scales):
        scales.append(ndimage.convolve1d(approximation, _dilated(_DIFFERENCE, level), axis=-1, mode="nearest"))
        approximation = ndimage.convolve1d(approximation, _dilated(_SMOOTH, level), axis=-1, mode="nearest")
    return scales


def _median(values):
    """The median of a small 1-D array (np.median's overhead is ~20x the work here: 3,000 calls a record)."""
    ordered = np.sort(values, axis=None)
    n = len(ordered)
    return 0.5 * (ordered[(n - 1) // 2] + ordered[n // 2]) if n else np.nan


def _maxima(w, lo, hi):
    """Indices in [lo, hi) where |w| has a local maximum (plateaus count once)."""
    lo, hi = max(lo, 1), min(hi, len(w) - 1)
    if hi <= lo:
        return np.array([], dtype=int)
    a = np.abs(w[lo - 1:hi + 1])
    peaks = np.flatnonzero((a[1:-1] > a[:-2]) & (a[1:-1] >= a[2:]))
    return peaks + lo


def _walk(w, start, step, limit, fraction, level=None, valley=0.5, deepest=False):
    """From ``start`` towards ``limit``: the first index where |w| falls below ``fraction`` of |w[start]|
    (or below ``level``, when given), or a local minimum of |w| under ``valley`` × |w[start]| is reached
    (the slope turns back up: another wave begins), whichever comes first. None at ``limit``, or with
    ``deepest``, the lowest point of |w| on the way (a wave crowded by its neighbour never rests)."""
    level = fraction * abs(w[start]) if level is None else level
    i = start
    while 0 < i + step < len(w) and (i - limit) * step < 0:
        nxt = i + step
        if abs(w[nxt]) <= level:
            return nxt
        if abs(w[nxt]) > abs(w[i]) and abs(w[i]) < valley * abs(w[start]):  # a valley of |w|
            return i
        i = nxt
    if deepest and i != start:
        path = np.arange(start + step, i + step, step)
        return int(path[np.argmin(np.abs(w[path]))])
    return None


def _qrs(w2, r, lo, hi, floor=0.0, x=None, lobe_floor=0.0):
    """QRS onset and offset (working-rate indices) around ``r`` within [lo, hi), or (None, None).

    ``floor``: the slope the noise alone reaches; no boundary is placed under it. ``lobe_floor``: no
    slope maximum under it belongs to the complex. ``x``: the signal
    ``w2`` is the transform of; a slope that rests at the complex's extreme (the flat top of a slurred,
    notched R wave) then does not end the complex.
    """
    maxima = _maxima(w2, lo, hi)
    if len(maxima) == 0:
        return None, None
    near = maxima[np.abs(maxima - r) <= int(0.06 * _WORK_FS)]
    peak = np.max(np.abs(w2[near])) if len(near) else np.max(np.abs(w2[maxima]))
    significant = maxima[np.abs(w2[maxima]) >= max(_QRS_SIGNIFICANT * peak, lobe_floor)]
    if len(significant) == 0:
        return None, None
    # The complex: significant maxima chained to the one nearest R, as long as the slope between two
    # does not rest near zero for long (an isoelectric stretch: the PR or ST segment). Between the
    # lobes of one complex it only crosses zero.
    quiet_level, quiet_run = _QRS_QUIET * peak, int(round(_QRS_QUIET_S * _WORK_FS))

    if x is not None:
        # The level before the complex (PR segment) and the complex's largest excursion from it.
        base = float(_median(x[max(0, lo):max(lo + 1, significant[0] - int(0.02 * _WORK_FS))]))
        excursion = float(np.max(np.abs(x[max(0, lo):hi] - base)))

    def joined(a, b):
        quiet = np.abs(w2[a:b + 1]) < quiet_level
        if quiet.sum() < quiet_run:
            return True
        # The longest run of quiet samples: run lengths from the cumulative count, reset where loud.
        count = np.cumsum(quiet)
        if (count - np.maximum.accumulate(np.where(quiet, 0, count))).max() < quiet_run:
            return True
        # A rest at the complex's extreme is the flat top of its main wave, not the ST segment.
        return (x is not None and excursion > 0
                and _median(np.abs(x[a:b + 1][quiet] - base)) > _QRS_PLATEAU * excursion)

    centre = int(np.argmin(np.abs(significant - r)))
    first = last = centre
    while first > 0 and joined(significant[first - 1], significant[first]):
        first -= 1
    while last + 1 < len(significant) and joined(significant[last], significant[last + 1]):
        last += 1
    # Out to where the slope is a small share of the complex's steepest, not of the edge maximum:
    # a small q or s wave's own maximum is small, and a share of it ends inside the wave.
    onset = _walk(w2, significant[first], -1, lo - 1, 0, level=max(_QRS_ON_FRACTION * peak, floor),
                  valley=_QRS_VALLEY * peak / abs(w2[significant[first]]), deepest=True)
    offset = _walk(w2, significant[last], 1, hi, 0, level=max(_QRS_OFF_FRACTION * peak, floor),
                   valley=_QRS_VALLEY * peak / abs(w2[significant[last]]), deepest=True)
    return onset, offset


def _wave(w, lo, hi, threshold, first_share=None, last_share=None, extend=True):
    """The largest wave in [lo, hi) at one scale: (first maximum, peak, last maximum) or None.

    With ``first_share``, the earliest wave at least that share of the
    largest's size instead (the T wave is the first after the ST segment, not
    a larger deflection of atrial activity later on; a first pair that shares
    its second maximum with a larger pair close behind gives way to it); with ``last_share``, the
    latest such wave (the P wave is the last before the QRS, not the end of
    the previous T wave). ``extend=False`` keeps to the pair itself.

    A wave is a pair of adjacent modulus maxima of opposite sign; its peak is
    where the transform crosses zero between them. Maxima next to the pair,
    of at least half its size and the sign that continues it, belong to it
    too (a biphasic or notched wave).
    """
    maxima = _maxima(w, lo, hi)
    maxima = maxima[np.abs(w[maxima]) >= threshold]
    if len(maxima) < 2:
        return None
    pairs = [((a, b), min(abs(w[a]), abs(w[b]))) for a, b in zip(maxima[:-1], maxima[1:])
             if np.sign(w[a]) != np.sign(w[b])]
    if not pairs:
        return None
    best, best_size = max(pairs, key=lambda pair: pair[1])
    if first_share is not None:
        k = next(k for k, pair in enumerate(pairs) if pair[1] >= first_share * best_size)
        best, size = pairs[k]
        # The pair that shares its second maximum with a larger pair close behind is the first half of
        # that wave (a small ST slope before an inverted T), not a wave of its own.
        if (k + 1 < len(pairs) and pairs[k + 1][0][0] == best[1] and pairs[k + 1][1] > size
                and pairs[k + 1][0][1] - best[1] <= _T_SLOPES_APART_S * _WORK_FS):
            best, size = pairs[k + 1]
        best_size = size
    elif last_share is not None:
        best, best_size = next(pair for pair in reversed(pairs) if pair[1] >= last_share * best_size)
    a, b = best
    crossing = a + int(np.argmin(np.abs(w[a:b + 1])))
    if not extend:
        return a, crossing, b
    index = np.searchsorted(maxima, a)
    first = a
    for k in range(index - 1, -1, -1):  # an earlier maximum of the opposite sign to a: a biphasic start
        m = maxima[k]
        if np.sign(w[m]) != np.sign(w[first]) and abs(w[m]) >= 0.5 * best_size and first - m <= 0.12 * _WORK_FS:
            first = m
        else:
            break
    index = np.searchsorted(maxima, b)
    last = b
    for k in range(index + 1, len(maxima)):
        m = maxima[k]
        if np.sign(w[m]) != np.sign(w[last]) and abs(w[m]) >= 0.5 * best_size and m - last <= 0.12 * _WORK_FS:
            last = m
        else:
            break
    return first, crossing, last


def _noise_level(x):
    """Robust standard deviation of ``x``'s part above 40 Hz (at the working rate)."""
    b, a = signal.butter(2, 40.0 / (_WORK_FS / 2), btype="high")
    high = signal.filtfilt(b, a, x)
    return 1.4826 * np.median(np.abs(high - np.median(high)))


def _qrs_height(x, peaks):
    """The median over beats of the largest excursion within 40 ms of each R peak (at the working rate)."""
    half = int(round(0.04 * _WORK_FS))
    around = np.clip(peaks[:, None] + np.arange(-half, half + 1)[None], 0, len(x) - 1)
    return float(np.median(np.abs(x[around]).max(axis=1)))


def _resampled(x, fs):
    """``x`` at the working rate (less its median: resampling pads with zeros, and an offset would make
    edges), and the factor that maps working indices back to ``fs``."""
    x = x - np.median(x)
    if fs == _WORK_FS:
        return x, 1.0
    from fractions import Fraction

    ratio = Fraction(_WORK_FS / fs).limit_denominator(1000)
    return signal.resample_poly(x, ratio.numerator, ratio.denominator), fs / _WORK_FS


# Local median beats: neighbours on each side, and how alike a neighbour must be to count.
_TEMPLATE_NEIGHBOURS = 8
_TEMPLATE_SAME_SHAPE = 0.8
# Successive RR changes of atrial fibrillation: median above this share of the RR (sinus rhythm,
# arrhythmia included, stays under 0.08 in LUDB; fibrillation is at 0.15-0.9).
_AF_IRREGULARITY = 0.15
# With several leads, a wave counts where at least this share of them shows it.
_MIN_LEAD_SHARE = 1 / 3
# With several leads, a boundary is kept where the leads that show it agree: where two leads differ by
# more than this (s), or more leads have an interquartile range over it, one of them is on the wrong wave
# and the boundary is left unmeasured. 60 ms for P and T: the QT of leads of one heart differs by up to
# ~50 ms (QT dispersion); 40 ms for the QRS (30 ms measured 4-7 % fewer QRS for hardly fewer errors).
# Against the median (the midpoint of two leads, which puts a T end taken for the next wave halfway
# there), on LUDB with lead II and one of V5, V1, I, V2, aVF (against the cardiologists' median over the
# 12 leads): QT errors over 50 ms 3.4-5.7 -> 1.7-3.5 %, QRS 0.7-1.3 -> 0.3-0.8 %, with 90-96 % of the QT
# and 96-97 % of the QRS measured; with ambulatory noise added to each lead (before the T-wave noise
# rule) QT 4.7-8.1 -> 3.0-4.3 %, QRS 1.8-4.5 -> 0.6-0.9 %. With 12 leads the PR SD went 16.8 -> 8.8 ms,
# QT 16.6 -> 12.9 ms (95 % measured).
# On MIT-BIH DS1's two-lead records the QT jumps between neighbouring steady beats went 2.3 -> 0.4 %.
_LEADS_AGREE_S = {"p_on": 0.06, "p_peak": 0.06, "p_off": 0.06, "qrs_on": 0.04, "qrs_off": 0.04,
                  "t_peak": 0.06, "t_off": 0.06}
# A template serves a block of this many consecutive beats of one shape.
_TEMPLATE_STRIDE = 4
# The beat window of the templates: seconds before and after R.
_WINDOW_S = (0.7, 0.8)


def _irregular_rhythm(rr):
    """Whether each beat sits in an irregularly irregular stretch (atrial fibrillation): per beat, over
    the :data:`_TEMPLATE_NEIGHBOURS` intervals on each side, the median absolute change between
    successive RR intervals is above :data:`_AF_IRREGULARITY` of the median RR."""
    n = len(rr) + 1
    if len(rr) < 3:
        return np.zeros(n, dtype=bool)
    window = dict(window=2 * _TEMPLATE_NEIGHBOURS + 1, center=True, min_periods=1)
    change = pd.Series(np.abs(np.diff(rr), dtype=float)).rolling(**window).median().to_numpy()
    typical = pd.Series(rr).rolling(**window).median().to_numpy()
    # Beat i sits between intervals i - 1 and i, and changes i - 2 .. i.
    change = np.concatenate([[change[0]], change, [change[-1]]])
    typical = np.append(typical, typical[-1])
    return change > _AF_IRREGULARITY * typical


def _beat_windows(x, peaks, before, after):
    """Windows ``x[r - before : r + after]`` (edge-padded), one row per beat, R at column ``before``."""
    padded = np.pad(x, (before, after), mode="edge")
    return padded[peaks[:, None] + np.arange(before + after)]


def _qrs_shapes(windows, before):
    """Each beat's QRS (-80 to +120 ms), centred and of unit norm, to compare shapes by a dot product."""
    qrs = windows[:, before - int(0.08 * _WORK_FS):before + int(0.12 * _WORK_FS)]
    qrs = qrs - qrs.mean(axis=1, keepdims=True)
    return qrs / (np.linalg.norm(qrs, axis=1, keepdims=True) + 1e-12)


def local_templates(windows, shapes, beats):
    """The local median beat of each of ``beats``: the median of it and its neighbours of the same shape.

    A neighbour (up to :data:`_TEMPLATE_NEIGHBOURS` on each side) counts when
    its QRS correlates with the beat's by :data:`_TEMPLATE_SAME_SHAPE` or
    more, so an ectopic beat is delineated on its own shape. What is
    time-locked to R (P, QRS, T) stays; noise, and atrial activity that is not
    locked to the QRS (fibrillation waves, P waves of a complete block),
    averages out.

    Parameters
    ----------
    windows : ndarray of shape (n_beats, length)
        Every beat's window, aligned at R (:func:`_beat_windows`).
    shapes : ndarray of shape (n_beats, m)
        Their normalised QRS (:func:`_qrs_shapes`).
    beats : ndarray of int
        The beats whose templates are wanted.

    Returns
    -------
    templates : ndarray of shape (len(beats), length)
    """
    n, k = len(windows), _TEMPLATE_NEIGHBOURS
    offsets = np.arange(-k, k + 1)
    templates = np.empty((len(beats), windows.shape[1]))
    for start in range(0, len(beats), 128):  # blocks keep the (beats, neighbours, length) stack small
        block = beats[start:start + 128]
        neighbours = block[:, None] + offsets
        inside = (neighbours >= 0) & (neighbours < n)
        neighbours = neighbours.clip(0, n - 1)
        alike = inside & (np.einsum("bkm,bm->bk", shapes[neighbours], shapes[block]) >= _TEMPLATE_SAME_SHAPE)
        # The median of the alike neighbours: sorted with the others last (as +inf), then the middle one(s)
        # of each beat's count (np.nanmedian takes a masked-array path ~10x slower here).
        stack = np.sort(np.where(alike[:, :, None], windows[neighbours], np.inf), axis=1)
        count = alike.sum(axis=1)
        rows = np.arange(len(block))
        templates[start:start + len(block)] = 0.5 * (stack[rows, (count - 1) // 2] + stack[rows, count // 2])
    return templates


# Pacing spikes are taken out before the transform (see _without_pacing_spikes): the samples within
# 4 ms of one take the 12 ms running median the spike detector itself filters with.
_DESPIKE = True
_SPIKE_HALF_S = 0.004


def _without_pacing_spikes(ecg, fs):
    """``ecg`` with its pacing spikes replaced by the median-filtered signal around them.

    A spike's slope is steeper than any QRS, so the transform's QRS chain starts at it and the onset is
    placed before the spike (LUDB's paced patients: 40-50 ms before the cardiologists' onset, which they
    put 14-40 ms after the spike). Without the spike the onset is sought on the paced complex itself.
    """
    spikes, baseline = spikes_and_baseline(ecg, fs)
    if len(spikes) == 0:
        return ecg
    out = ecg.copy()
    half = max(1, int(round(_SPIKE_HALF_S * fs)))
    for spike in spikes:
        out[max(0, spike - half):spike + half + 1] = baseline[max(0, spike - half):spike + half + 1]
    return out


def _t_height(x, t_peak, t_off, t_lo):
    """How far the T wave stands from its end: the largest excursion from the T end's level, from 40 ms
    before the transform's zero crossing at its peak (not before ``t_lo``) to the end."""
    lo = max(t_lo, t_peak - int(round(0.04 * _WORK_FS)))
    return np.abs(x[lo:t_off + 1] - x[t_off]).max()


def _delineate_one(w2, w3, w4, w5, x, r, noise, rr_before, rr_after, find_p=True, noisy=False):
    """Boundaries (indices into the template ``x``, R at ``r``) of one local median beat; ``noisy``:
    whether the record is over :data:`_NOISY_SHARE` (its QRS lobes must then stand above the slope noise)."""
    samples = lambda seconds: int(round(seconds * _WORK_FS))  # noqa: E731
    out = dict.fromkeys(BOUNDARIES, np.nan)
    lo = max(r - samples(_QRS_SPAN_S[0]), r - samples(0.5 * rr_before))
    hi = min(r + samples(_QRS_SPAN_S[1]), r + samples(0.5 * rr_after))
    floor = _QRS_NOISE_FLOOR * 1.4826 * _median(np.abs(w2))
    onset, offset = _qrs(w2, r, lo, hi, floor=floor, x=x, lobe_floor=_QRS_LOBE_FLOOR * floor if noisy else 0.0)
    if onset is None or offset is None:
        return out
    out["qrs_on"], out["qrs_off"] = onset, offset
    t_lo = offset + samples(_T_START_S)
    # Before the next beat's P wave: a QT of up to 0.55 √RR (Bazett's QTc of 0.55 s, long QT included)
    # and 200 ms before the next R at the latest.
    t_hi = min(len(w4) - 1, r + samples(min(_T_END[0] * rr_after, _T_END[1] * np.sqrt(rr_after), rr_after - 0.2)))
    if t_hi - t_lo > samples(0.08):
        # The T wave at the two scales of its width; where they disagree on its end, the end is not clear
        # (a flat T, or a T fused with what follows) and is left unmeasured rather than guessed.
        found = []
        for w in (w4, w5):
            # The pair of slopes alone: a third lobe taken in was, more often than a biphasic T's
            # second half, the next wave (QT SD on LUDB's odd records 42.5 ms with it, 34.2 without).
            wave = _wave(w, t_lo, t_hi, threshold=_T_SIGNIFICANT * np.abs(w[t_lo:t_hi]).max(),
                         first_share=_T_FIRST_SHARE, extend=False)
            t_off = None if wave is None else _walk(w, wave[2], 1, min(len(w) - 1, t_hi + samples(0.1)),
                                                     _T_OFF_FRACTION)
            found.append(None if t_off is None else (wave[1], t_off))
        if found[0] is not None and (found[1] is None or abs(found[0][1] - found[1][1]) <= samples(_T_AGREE_S)):
            t_peak, t_off = found[0]
            # A T wave stands clear of the noise, as a P wave must.
            if _t_height(x, t_peak, t_off, t_lo) >= _T_MIN_SNR * noise:
                out["t_peak"], out["t_off"] = t_peak, t_off
    if not find_p:
        return out
    # P wave: after the previous beat's T wave (this template's T end, an RR earlier), up to 450 ms
    # before the QRS (first-degree block).
    p_lo = max(1, onset - samples(_P_SEARCH_S[0]), r - samples(0.75 * rr_before))
    if np.isfinite(out["t_off"]):
        p_lo = max(p_lo, int(out["t_off"]) - samples(rr_before))
    p_hi = onset - samples(_P_SEARCH_S[1])
    if p_hi - p_lo < samples(0.06):
        return out
    wp = w3 if _P_SCALE == 3 else w4
    wave = _wave(wp, p_lo, p_hi, threshold=0.3 * np.abs(wp[p_lo:p_hi]).max(), last_share=_P_LAST_SHARE)
    if wave is None:
        return out
    first, crossing, last = wave
    # A P wave stands clear of the noise and is not a ripple next to R.
    height = abs(x[crossing] - x[max(0, first - samples(0.02))])
    if height < _P_MIN_SNR * noise or height < _P_MIN_R_FRACTION * abs(x[r] - x[max(0, onset - samples(0.01))]):
        return out
    # The onset's walk stops inside the window: a wave it would walk out of was cut by the window's start.
    p_on = _walk(wp, first, -1, p_lo + samples(_P_INSIDE_WINDOW_S), _P_ON_FRACTION)
    if p_on is None:
        return out
    p_off = _walk(wp, last, 1, onset, _P_OFF_FRACTION)
    # A wave longer than any P wave: its onset walked back along the baseline.
    if p_off is not None and p_off - p_on <= samples(_P_LONGEST_S):
        out["p_on"], out["p_peak"], out["p_off"] = p_on, crossing, p_off
    return out


def _drop_unlocked_p(boundaries, windows, templates, which, peaks, before):
    """NaN the P waves (in place) where the beats' own P segments do not follow their templates' (:data:`_P_LOCKED`).

    ``boundaries``: working-rate indices, one row per beat; ``windows``: each beat's window, R at column
    ``before``; ``templates[which[i]]``: beat ``i``'s template, aligned alike.
    """
    p_on, p_peak, p_off = (BOUNDARIES.index(name) for name in ("p_on", "p_peak", "p_off"))
    pad = int(round(0.02 * _WORK_FS))
    corr = np.full(len(peaks), np.nan)
    has_p = np.flatnonzero(np.isfinite(boundaries[:, p_on]) & np.isfinite(boundaries[:, p_off]))
    # Beats of one template share their P's place relative to R: one slice per place, not per beat.
    spans = np.stack([boundaries[has_p, p_on] - peaks[has_p] + before - pad,
                      boundaries[has_p, p_off] - peaks[has_p] + before + pad + 1], axis=1).astype(int)
    spans, group = np.unique(spans, axis=0, return_inverse=True)
    for k, (lo, hi) in enumerate(spans):
        if lo < 0 or hi > windows.shape[1]:
            continue
        beats = has_p[group.ravel() == k]
        own, typical = windows[beats, lo:hi], templates[which[beats], lo:hi]
        own = own - own.mean(axis=1, keepdims=True)
        typical = typical - typical.mean(axis=1, keepdims=True)
        norms = np.sqrt(np.einsum("bt,bt->b", own, own) * np.einsum("bt,bt->b", typical, typical))
        corr[beats] = np.einsum("bt,bt->b", own, typical) / np.maximum(norms, 1e-12)
    # Judged over a beat and its neighbours, and only where at least three of them show a P: a lone
    # beat window (measure_beat_windows: the beat and the start of the next) has no neighbours to follow.
    span = 2 * _TEMPLATE_NEIGHBOURS + 1
    corr = pd.Series(corr).rolling(span, center=True, min_periods=3).median().to_numpy()
    boundaries[np.ix_(corr < _P_LOCKED, [p_on, p_peak, p_off])] = np.nan


def _drop_p_inside_previous_t(leads):
    """NaN (in place) each lead's P wave that starts before the previous beat's T end as the leads see it.

    ``leads``: boundaries of shape (n_leads, n_beats, len(BOUNDARIES)). A lead whose own T wave is too
    flat or noisy to end has nothing to start its P search after (:func:`_delineate_one` starts it at
    the template's T end where there is one), and in noise it took the previous T wave's downslope for
    its P (LUDB 116's V6 with ambulatory noise: PR 200-240 ms too long on every beat, its aVL showing no
    P). The other leads' T end bounds it. The cardiologists' P onsets on LUDB lie 30 ms or more after
    the previous T end (12 leads' medians, 1,390 pairs of beats), so the bound takes no P they saw.
    LUDB's lead pairs with ambulatory noise added to each lead (`bench_delineation.py --pairs-noise
    moderate`): PR errors over 50 ms 2.0 -> 1.6 % (aVL with V6 9.4 -> 6.6 %), clean ones and
    the 12 leads unchanged; MIT-BIH DS1's two leads at once: PR jumps over 50 ms between steady
    neighbouring beats 0.26 -> 0.20 %, as many PR measured (70.1 %).
    """
    p_on, t_off = BOUNDARIES.index("p_on"), BOUNDARIES.index("t_off")
    previous_t_end = np.full(leads.shape[1], np.nan)
    previous_t_end[1:] = np.nanmedian(leads[:, :-1, t_off], axis=0)
    inside = leads[:, :, p_on] < previous_t_end
    for name in ("p_on", "p_peak", "p_off"):
        leads[:, :, BOUNDARIES.index(name)][inside] = np.nan


def _leads_disagree(leads, showing, fs):
    """Where the leads that show a boundary spread over more than :data:`_LEADS_AGREE_S`.

    ``leads``: boundaries of shape (n_leads, n_beats, len(BOUNDARIES)), samples at ``fs``, NaN where a
    lead does not show the wave; ``showing``: how many leads show each. The spread is the two leads'
    difference where two show it, the interquartile range where more do (so that one or two leads of
    twelve on another wave do not count).
    """
    with warnings.catch_warnings():  # a boundary no lead shows has no spread, and is NaN already
        warnings.simplefilter("ignore", RuntimeWarning)
        low, high = np.nanpercentile(leads, [25, 75], axis=0)
    spread = np.where(showing == 2, 2.0, 1.0) * (high - low)  # linear percentiles: half of two leads' difference
    limits = np.array([_LEADS_AGREE_S[name] for name in BOUNDARIES]) * fs
    return spread > limits


def delineate(ecg, fs, r_peaks):
    """Onsets, peaks and offsets of the P wave, QRS complex and T wave of every beat.

    Each beat is delineated on its local median beat (:func:`local_templates`):
    the median of the beat and its neighbours of the same shape, aligned at R.
    A template serves its block of :data:`_TEMPLATE_STRIDE` beats of one shape
    (it hardly changes from one beat to the next); each beat's own QRS
    boundaries are then sought on the beat itself, within
    :data:`_QRS_REFINE_S` of the template's, so that QRS durations follow the
    beats, and kept where the beat's duration is within
    :data:`_QRS_BEAT_AGREES_S` of the template's (else the template's stay:
    the beat's boundary is on a notch or in the noise). P and T boundaries
    are the template's: on a single beat they are within the noise. With
    several leads, each lead is delineated at the same R peaks and every
    boundary is the median over the leads that show the wave: a boundary as
    read from all leads at once, robust to the leads where a wave is flat.
    Where those leads disagree (two leads differ, or more leads have an
    interquartile range, by more than :data:`_LEADS_AGREE_S`: 40 ms for the
    QRS, 60 ms for P and T), one of them is on the wrong wave, and the
    boundary is NaN rather than a number between two waves. A lead's P wave
    that starts before the previous beat's T end (the median over the leads
    that show it) is that T wave's tail, not a P wave.

    Parameters
    ----------
    ecg : ndarray of shape (n_samples,) or (n_samples, n_leads)
        One lead or several, NaN already filled (missing samples are masked by the caller).
    fs : float
        Its sampling rate (Hz).
    r_peaks : ndarray of int
        Sample index of each beat's R peak (or any point within its QRS).

    Returns
    -------
    boundaries : pandas.DataFrame of shape (len(r_peaks), 7)
        Columns :data:`BOUNDARIES`, sample indices at ``fs`` (floats: a
        boundary found at 250 Hz maps between samples of a faster signal), NaN
        where a wave was not found: no P wave (atrial fibrillation, paced or
        ventricular beats), a T wave too flat to end clearly.
    """
    ecg = np.asarray(ecg, dtype=float)
    if ecg.ndim == 2:
        leads = np.stack([delineate(lead, fs, r_peaks).to_numpy() for lead in ecg.T])
        with warnings.catch_warnings():  # a wave no lead shows is NaN, as it should be
            warnings.simplefilter("ignore", RuntimeWarning)
            _drop_p_inside_previous_t(leads)
            combined = np.nanmedian(leads, axis=0)
        # A wave found in few leads is more likely noise in those than a wave the others miss.
        showing = np.isfinite(leads).sum(axis=0)
        combined[showing < _MIN_LEAD_SHARE * len(leads)] = np.nan
        combined[_leads_disagree(leads, showing, fs)] = np.nan
        return pd.DataFrame(combined, columns=list(BOUNDARIES))
    if _DESPIKE:
        ecg = _without_pacing_spikes(ecg, float(fs))
    x, to_fs = _resampled(ecg, float(fs))
    if len(x) > 3 * int(_WORK_FS / _BASELINE_HZ):  # a window of one beat has no baseline to follow
        x = signal.sosfiltfilt(signal.butter(2, _BASELINE_HZ, btype="high", fs=_WORK_FS, output="sos"), x)
    peaks = np.round(np.asarray(r_peaks) / to_fs).astype(int).clip(0, len(x) - 1)
    noise = _noise_level(x)
    noisy = bool(len(peaks)) and noise > _NOISY_SHARE * _qrs_height(x, peaks)
    if noisy:
        x = signal.sosfiltfilt(signal.butter(4, _NOISY_LOWPASS_HZ, btype="low", fs=_WORK_FS, output="sos"), x)
    n = len(peaks)
    out = {name: np.full(n, np.nan) for name in BOUNDARIES}
    if n == 0:
        return pd.DataFrame(out)
    before, after = int(_WINDOW_S[0] * _WORK_FS), int(_WINDOW_S[1] * _WORK_FS)
    windows = _beat_windows(x, peaks, before, after)
    shapes = _qrs_shapes(windows, before)
    # Each beat takes the template of its block's first beat when they share a shape, else its own.
    leader = np.arange(n) - np.arange(n) % _TEMPLATE_STRIDE
    own = np.einsum("bm,bm->b", shapes, shapes[leader]) < _TEMPLATE_SAME_SHAPE
    leader[own] = np.flatnonzero(own)
    delineated, which = np.unique(leader, return_inverse=True)
    templates = local_templates(windows, shapes, delineated)
    scales = wavelet_scales(templates, 5)
    rr = np.diff(peaks) / _WORK_FS
    median_rr = float(np.median(rr)) if len(rr) else 0.8
    rr_after, rr_before = np.append(rr, median_rr), np.insert(rr, 0, median_rr)
    # Atrial fibrillation: RR intervals irregularly irregular (successive differences large against the
    # RR itself, in the median, so a lone ectopic beat does not count); its beats have no P wave.
    irregular = _irregular_rhythm(rr)
    relative = np.empty((len(delineated), len(BOUNDARIES)))
    for j, beat in enumerate(delineated):
        found = _delineate_one(*(w[j] for w in scales[1:]), templates[j], before, noise, rr_before[beat],
                               rr_after[beat], find_p=not irregular[beat], noisy=noisy)
        relative[j] = [found[name] - before for name in BOUNDARIES]
    boundaries = relative[which] + peaks[:, None]
    _drop_unlocked_p(boundaries, windows, templates, which, peaks, before)
    # Each beat's own QRS: the template's boundaries, moved to where the beat's own slope ends.
    w2 = wavelet_scales(x, 2)[1]
    span = int(round(_QRS_REFINE_S * _WORK_FS))
    on, off = BOUNDARIES.index("qrs_on"), BOUNDARIES.index("qrs_off")
    for i in np.flatnonzero(np.isfinite(boundaries[:, on]) & np.isfinite(boundaries[:, off])):
        lo, hi = int(boundaries[i, on]) - span, int(boundaries[i, off]) + span + 1
        if lo < 1 or hi >= len(x):
            continue
        onset, offset = _qrs(w2, peaks[i], lo, hi, x=x)
        if onset is None or offset is None:
            continue
        if abs((offset - onset) - (boundaries[i, off] - boundaries[i, on])) <= _QRS_BEAT_AGREES_S * _WORK_FS:
            boundaries[i, on], boundaries[i, off] = onset, offset
    # A T end that gives a QT no heart has at this rate, or that runs into the next QRS, is on the wrong
    # wave: left unmeasured.
    t_peak, t_off = BOUNDARIES.index("t_peak"), BOUNDARIES.index("t_off")
    qtc = (boundaries[:, t_off] - boundaries[:, on]) / _WORK_FS / np.sqrt(rr_before)
    implausible = (qtc < _QTC_RANGE[0]) | (qtc > _QTC_RANGE[1])
    implausible[:-1] |= boundaries[:-1, t_off] > peaks[1:] - _T_CLEAR_OF_NEXT_R_S * _WORK_FS
    boundaries[np.ix_(implausible, [t_peak, t_off])] = np.nan
    # So is a QRS no heart has: one of its boundaries is on another wave or inside the complex.
    duration = (boundaries[:, off] - boundaries[:, on]) / _WORK_FS
    boundaries[np.ix_((duration < _QRS_RANGE[0]) | (duration > _QRS_RANGE[1]), [on, off])] = np.nan
    return pd.DataFrame(boundaries * to_fs, columns=list(BOUNDARIES))
