"""Pacing spikes: the pacemaker's stimulus, a deflection of a few milliseconds before a paced QRS.

A ventricular-paced beat has no PR interval (the ventricles are not driven
from the atria), and a delineator that does not know of the spike reports one,
or takes the spike for the QRS (a paced record once measured QRS 60 ms against
the cardiologist's 216). A spike is found as what a median filter a little
wider than it removes: narrow (at most :data:`SPIKE_MAX_S` above threshold)
and tall (at least :data:`SPIKE_MIN_MV`, and many times the record's
high-frequency noise), which no QRS, P or T wave is.

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
#: Below this rate (Hz) a spike is smeared over samples and cannot be told from a QRS.
MIN_FS = 250.0
#: A spike paces the beat when it lies this long (s) before the delineated QRS onset, to this long
#: after it: LUDB's cardiologists put a paced QRS's onset 14-40 ms after its spike; the delineator,
#: which takes the spike out before its transform, at the spike or after it (before it took the
#: spike out, ~20 ms before it: the spike's slope smeared over the wavelet's support).
PACED_WINDOW_S = (0.06, 0.05)


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
    spikes = np.array([run[np.argmax(np.abs(residual[run]))] for run in runs if len(run) <= longest], dtype=int)
    return spikes, baseline


#: A "spike" this close (s) to an R peak is the tip of a narrow R wave, which the median filter also cuts ...
_R_TIP_S = 0.02
#: ... unless the signal is flat for :data:`_FLAT_BEFORE_S` before it: its peak-to-peak there under this
#: share of the spike's height. A pacing spike rises from the baseline in one or two samples, and the
#: cardiologists (and a detector) may put the R peak on it (LUDB 95, 104: 0.00-0.10); a narrow R or r
#: wave rises out of its own upstroke or q wave (LUDB, every lead-II tip near an R: 0.50 or more).
_FLAT_SHARE = 0.25
_FLAT_BEFORE_S = (0.024, 0.004)


def away_from_r_peaks(spikes, r_peaks, fs, ecg=None, baseline=None):
    """The ``spikes`` that are not tips of R waves.

    A spike more than :data:`_R_TIP_S` from every R peak is kept; a closer one only when ``ecg`` (and
    the median-filtered ``baseline`` of :func:`spikes_and_baseline`) are given and the signal is flat
    before it (:data:`_FLAT_SHARE`): an R peak placed on a pacing spike.
    """
    spikes, r_peaks = np.asarray(spikes), np.sort(np.asarray(r_peaks))
    if len(spikes) == 0 or len(r_peaks) == 0:
        return spikes
    following = np.searchsorted(r_peaks, spikes).clip(0, len(r_peaks) - 1)
    previous = (following - 1).clip(0, len(r_peaks) - 1)
    distance = np.minimum(np.abs(r_peaks[previous] - spikes), np.abs(r_peaks[following] - spikes))
    keep = distance > _R_TIP_S * fs
    if ecg is not None and baseline is not None:
        first, last = (int(round(s * fs)) for s in _FLAT_BEFORE_S)
        for k in np.flatnonzero(~keep):
            spike = spikes[k]
            before = ecg[max(0, spike - first):max(1, spike - last)]
            height = abs(ecg[spike] - baseline[spike])
            keep[k] = len(before) > 1 and np.ptp(before) < _FLAT_SHARE * height
    return spikes[keep]


def paced_beats(spikes, qrs_on, fs, r_peaks=None, ecg=None, baseline=None):
    """Which beats a spike paces (one near the QRS onset), and that spike's sample.

    ``r_peaks`` (with ``ecg`` and ``baseline``): spikes at R peaks are judged by
    :func:`away_from_r_peaks`; a spike kept under a beat's R paces it, and a beat
    whose QRS onset was not found is judged by the window around its R peak (a
    paced complex the delineator left unmeasured is still paced).

    Returns
    -------
    paced : ndarray of bool
    spike : ndarray of float
        The pacing spike's sample index for paced beats (the last in the window), NaN elsewhere.
    """
    qrs_on = np.asarray(qrs_on, dtype=float)
    paced, spike = np.zeros(len(qrs_on), dtype=bool), np.full(len(qrs_on), np.nan)
    if r_peaks is not None:
        spikes = away_from_r_peaks(spikes, r_peaks, fs, ecg, baseline)
        qrs_on = np.where(np.isfinite(qrs_on), qrs_on, np.asarray(r_peaks, dtype=float))
    if len(spikes) == 0:
        return paced, spike
    before, after = PACED_WINDOW_S
    known = np.flatnonzero(np.isfinite(qrs_on))
    lo = np.searchsorted(spikes, qrs_on[known] - before * fs)
    hi = np.searchsorted(spikes, qrs_on[known] + after * fs, side="right")
    paced[known] = hi > lo
    spike[known[hi > lo]] = spikes[hi[hi > lo] - 1]
    if r_peaks is not None:  # a spike kept under an R peak paces that beat, wherever its onset was put
        r_peaks = np.asarray(r_peaks, dtype=float)
        lo = np.searchsorted(spikes, r_peaks - _R_TIP_S * fs)
        hi = np.searchsorted(spikes, r_peaks + _R_TIP_S * fs, side="right")
        under = hi > lo
        paced |= under
        spike[under] = spikes[hi[under] - 1]
    return paced, spike
