"""Measured features of beat windows: one row per beat, R at a known sample.

What the loader and :func:`~skbvae.ecg.cut_heartbeats` return, what
:func:`~skbvae.datasets.make_heartbeats` draws and what a β-VAE decodes
(``inverse_transform``, ``sample``, ``edit``) are windows around one R peak,
not a continuous ECG. :func:`measure_beat_windows` measures each window as
:func:`~skbvae.ecg.measure_beat_features` measures a beat of a record, so that
an edit or a sample can be checked by the measurement that made the factors:
an edit is true only if the decoded beat measures as asked.
"""

import numpy as np
import pandas as pd

from .._signal_info import signal_info
from ._features import BEAT_FEATURES, measure_beat_features

#: The next beat's R is looked for this long after the window's R (s): past the T wave's peak.
_NEXT_R_AFTER_S = 0.3
#: ... and is taken when it reaches this share of the window's R height above the window's median.
_NEXT_R_SHARE = 0.5


def measure_beat_windows(X, fs=None, start=None):
    """Measured beat features of each window of ``X`` (one beat per row, R at ``-start`` seconds).

    Heart rate comes from the next beat's R inside the window (NaN when the
    window ends before it); every other feature as
    :func:`~skbvae.ecg.measure_beat_features` measures it.

    Parameters
    ----------
    X : array-like or DataFrame of shape (n_beats, n_samples)
        Single-lead beat windows, in mV. A DataFrame from the loader
        (``as_frame=True``) carries ``fs`` and ``start`` in ``attrs["signal"]``.
    fs : float or None, default=None
        Sampling rate of the windows (Hz); None reads it from ``X``'s attrs.
    start : float or None, default=None
        Time of each window's first sample from R, in s (``-0.25`` for the
        loader's default window); None reads it from ``X``'s attrs.

    Returns
    -------
    features : pandas.DataFrame of shape (n_beats, 9)
        Columns :data:`~skbvae.ecg.BEAT_FEATURES`, units in ``attrs["units"]``.

    Examples
    --------
    >>> from skbvae.datasets import make_heartbeats
    >>> from skbvae.ecg import measure_beat_windows
    >>> X, factors = make_heartbeats(5, random_state=0)
    >>> measured = measure_beat_windows(X, fs=125, start=-0.25)
    >>> bool((abs(measured["heart_rate"] - factors["heart_rate"]) < 5).all())
    True
    """
    info = signal_info(X) or {}
    fs = info.get("fs") if fs is None else fs
    start = info.get("start") if start is None else start
    if fs is None or start is None:
        raise ValueError("measure_beat_windows needs fs and start (the time of each window's first sample from R, "
                         "in s, e.g. -0.25): pass them, or a DataFrame from load_wfdb_heartbeats(as_frame=True).")
    X = np.asarray(X, dtype=float)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D, one beat window per row; got shape {X.shape}.")
    fs, r = float(fs), int(round(-float(start) * float(fs)))
    if not 0 <= r < X.shape[1]:
        raise ValueError(f"start={start} s puts R at sample {r}, outside the windows' {X.shape[1]} samples.")
    rows = [_measure_one(window, fs, r) for window in X]
    features = pd.DataFrame(rows, columns=list(BEAT_FEATURES))
    features.attrs["units"] = dict(BEAT_FEATURES)
    return features


def _measure_one(window, fs, r):
    if not np.isfinite(window).all():
        return {name: np.nan for name in BEAT_FEATURES}
    peaks = [r]
    after = r + int(round(_NEXT_R_AFTER_S * fs))
    if after < len(window) - 1:
        # The next R has the window's R's polarity: a lead whose QRS points down (MIT-BIH 108's MLII,
        # aVR) has its next R at the lowest sample, and the highest one there is a P or T wave.
        level = np.median(window)
        upright = window - level if window[r] >= level else level - window
        candidate = after + int(np.argmax(upright[after:]))
        at_edge = candidate >= len(window) - 1
        if not at_edge and upright[candidate] >= _NEXT_R_SHARE * upright[r]:
            peaks.append(candidate)
    measured = measure_beat_features(window, fs, np.array(peaks))
    return measured.iloc[0].to_dict()
