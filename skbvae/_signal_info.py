"""What the rows' samples are in time and units, when the data say: for plots in seconds and mV.

:func:`~skbvae.datasets.load_wfdb_heartbeats` with ``as_frame=True`` puts
``{"fs": Hz, "start": seconds of the first sample from R, "units": "mV"}``
in the frame's ``attrs["signal"]``; a fitted estimator keeps it as
``signal_info_``, and :mod:`skbvae.plotting` draws its axes with it.
"""

import math
from numbers import Real


def signal_info(X):
    """The ``attrs["signal"]`` of a DataFrame ``X``, checked, or None.

    Returns
    -------
    info : dict or None
        ``fs`` (Hz, > 0), ``start`` (s, or None) and ``units`` (str or None).
    """
    info = getattr(X, "attrs", {}).get("signal") if hasattr(X, "attrs") else None
    if not isinstance(info, dict):
        return None
    fs, start, units = info.get("fs"), info.get("start"), info.get("units")
    if not (isinstance(fs, Real) and math.isfinite(fs) and fs > 0):
        return None
    start = float(start) if isinstance(start, Real) and math.isfinite(start) else None
    return {"fs": float(fs), "start": start, "units": units if isinstance(units, str) else None}


def time_axis(n_samples, *, time=None, fs=None, start=None, info=None):
    """x values and label for one channel of ``n_samples``: given, in seconds, or sample indices.

    ``time`` wins; then ``fs`` and ``start`` (given, or from ``info``);
    without a rate, sample indices.
    """
    import numpy as np

    if time is not None:
        return np.asarray(time), "time"
    info = info or {}
    fs = fs if fs is not None else info.get("fs")
    start = start if start is not None else (info.get("start") if fs == info.get("fs") else None)
    if fs is None:
        return np.arange(n_samples), "time (samples)"
    if not (isinstance(fs, Real) and fs > 0):
        raise ValueError(f"fs must be a positive sampling rate in Hz; got {fs!r}.")
    if start is None:
        return np.arange(n_samples) / fs, "time (s)"
    return start + np.arange(n_samples) / fs, "time from R (s)"


def value_label(units=None, info=None, cumulative=False):
    """y label: "signal" or "cumulative signal", with the units when known."""
    units = units if units is not None else (info or {}).get("units")
    name = "cumulative signal" if cumulative else "signal"
    return f"{name} ({units})" if units else name
