"""Pacing spikes: the pacemaker's stimulus, a deflection of a few milliseconds before a paced QRS.

A ventricular-paced beat has no PR interval (the ventricles are not driven
from the atria), and a delineator that does not know of the spike reports one,
or takes the spike for the QRS (a paced record once measured QRS 60 ms against
the cardiologist's 216). A spike is found as what a median filter a little
wider than it removes: narrow (at most :data:`SPIKE_MAX_S` above threshold)
and tall (at least :data:`SPIKE_MIN_MV`, and many times the record's
high-frequency noise), which no QRS, P or T wave is, and rising from a flat
baseline (:data:`FLAT_SHARE`), which the tip of a narrow R wave or a notch
in a complex, also cut by the filter, does not.

Measured on LUDB lead II (500 Hz, ``benchmarks/README.md``): unipolar pacing
spikes are found before most paced beats; the smaller spikes of bipolar and
biventricular pacing are mostly lost in the recording's own filtering, so a
beat without a spike found may still be paced.
"""

import numpy as np
from scipy.ndimage import median_filter

#: Longest stretch (s) a spike stays above threshold.
SPIKE_MAX_S = 0.006
#: Smallest spike (mV above the median-filtered signal).
SPIKE_MIN_MV = 0.15
#: Width of the median filter (s): wider than a spike, narrower than any wave.
_FILTER_S = 0.012
#: A spike must also exceed this many robust SDs of the filter's residual (noise).
_NOISE_FACTOR = 8.0
#: A spike rises from a flat baseline: over :data:`_FLAT_BEFORE_S` before it (from 24 to 4 ms
#: before), the signal's peak-to-peak is under this share of the spike's height. On LUDB lead II
#: the pacing spikes of the paced patients measure 0.00-0.40 (median 0.04), the narrow R tips within
#: 20 ms of an R 0.50-4.6, and all 212 cuts in the records of patients without a pacemaker median 2.2
#: (5 % under 0.24: a few flat notches, which flag 0.1 % of those patients' beats).
FLAT_SHARE = 0.45
_FLAT_BEFORE_S = (0.024, 0.004)
#: Below this rate (Hz) a spike is smeared over samples and cannot be told from a QRS.
MIN_FS = 250.0
#: A spike paces the beat when it lies this long (s) before the delineated QRS onset, to this long
#: after it: LUDB's cardiologists put a paced QRS's onset 14-40 ms after its spike; the delineator,
#: which takes the spike out before its transform, at the spike or after it (before it took the
#: spike out, ~20 ms before it: the spike's slope smeared over the wavelet's support).
PACED_WINDOW_S = (0.06, 0.05)
#: ... or from this long (s) before its R peak to this long after: the R of a paced complex is its
#: extreme, up to ~120 ms after the spike (LUDB 104 at the detector's R peaks: 104-116 ms, where the
#: delineator had put some onsets 74-86 ms after the spike), or on the spike itself (LUDB 95's and 104's
#: cardiologists). An atrial pacing spike precedes the R by a PR interval and more.
_NEAR_R_S = (0.12, 0.02)


def detect_pacing_spikes(ecg, fs):
    """Sample indices of pacing spikes in one lead (in mV); empty below :data:`MIN_FS` Hz.

    Parameters
    ----------
    ecg : ndarray of shape (n_samples,)
        One lead in mV, NaN-free.
    fs : float
        Its sampling rate (Hz).

    Returns
    -------
    spikes : ndarray of int
    """
    return spikes_and_baseline(ecg, fs)[0]


def spikes_and_baseline(ecg, fs):
    """The pacing spikes (:func:`detect_pacing_spikes`) and the median-filtered signal they stand out from.

    The baseline is None where no spike can be found (below :data:`MIN_FS` Hz); the delineator replaces
    the samples of each spike by it, so the filter runs once.
    """
    if fs < MIN_FS or len(ecg) < 3:
        return np.array([], dtype=int), None
    size = int(round(_FILTER_S * fs)) | 1
    baseline = median_filter(ecg, size=size, mode="nearest")
    residual = ecg - baseline
    noise = 1.4826 * np.median(np.abs(residual - np.median(residual)))
    above = np.flatnonzero(np.abs(residual) > max(SPIKE_MIN_MV, _NOISE_FACTOR * noise))
    if len(above) == 0:
        return np.array([], dtype=int), baseline
    runs = np.split(above, np.flatnonzero(np.diff(above) > 1) + 1)
    longest = max(1, int(SPIKE_MAX_S * fs))
    first, last = (int(round(s * fs)) for s in _FLAT_BEFORE_S)
    spikes = []
    for run in runs:
        if len(run) > longest:
            continue
        spike = run[np.argmax(np.abs(residual[run]))]
        before = ecg[max(0, spike - first):max(0, spike - last)]
        if len(before) > 1 and np.ptp(before) < FLAT_SHARE * abs(residual[spike]):
            spikes.append(spike)
    return np.array(spikes, dtype=int), baseline


def paced_beats(spikes, qrs_on, fs, r_peaks=None):
    """Which beats a spike paces, and that spike's sample.

    A spike paces a beat when it lies within :data:`PACED_WINDOW_S` of the
    beat's QRS onset, or (given ``r_peaks``) within :data:`_NEAR_R_S` of its R
    peak; a beat whose QRS onset was not found is judged by the onset window
    around its R peak (a paced complex the delineator left unmeasured is still
    paced).

    Returns
    -------
    paced : ndarray of bool
    spike : ndarray of float
        The pacing spike's sample index for paced beats (the last in the window), NaN elsewhere.
    """
    qrs_on = np.asarray(qrs_on, dtype=float)
    paced, spike = np.zeros(len(qrs_on), dtype=bool), np.full(len(qrs_on), np.nan)
    spikes = np.asarray(spikes)
    if len(spikes) == 0:
        return paced, spike
    windows = [(qrs_on, *PACED_WINDOW_S)]
    if r_peaks is not None:
        r_peaks = np.asarray(r_peaks, dtype=float)
        windows = [(np.where(np.isfinite(qrs_on), qrs_on, r_peaks), *PACED_WINDOW_S),
                   (r_peaks, *_NEAR_R_S)]
    for centre, before, after in windows:
        known = np.flatnonzero(np.isfinite(centre))
        lo = np.searchsorted(spikes, centre[known] - before * fs)
        hi = np.searchsorted(spikes, centre[known] + after * fs, side="right")
        found = known[hi > lo]
        paced[found] = True
        spike[found] = spikes[hi[hi > lo] - 1]
    return paced, spike
