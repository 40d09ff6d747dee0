"""Datasets: ECG heartbeats from WFDB records and Kaggle CSVs, price windows, synthetic signals.

Every loader reads local files only (it never downloads) and returns ``X``, an
array that goes straight into :class:`~skbvae.BetaVAETransformer`, with a
pandas DataFrame of per-row metadata or generating factors. Signal processing
(R peaks, beat cutting, delineation, beat features) lives in :mod:`skbvae.ecg`.
"""

import warnings

from ._artefacts import ARTEFACTS
from ._csv import load_price_windows, load_ptbdb_csv
from ._synthetic import HEARTBEAT_FACTORS, PRICE_FACTORS, PRICE_REPRESENTATIONS, RHYTHMS, make_ecg, make_heartbeats, make_price_windows
from ._wfdb import BEAT_SYMBOLS, LEAD_II_NAMES, load_wfdb_heartbeats

__all__ = [
    "ARTEFACTS",
    "BEAT_SYMBOLS",
    "HEARTBEAT_FACTORS",
    "LEAD_II_NAMES",
    "PRICE_FACTORS",
    "PRICE_REPRESENTATIONS",
    "RHYTHMS",
    "load_price_windows",
    "load_ptbdb_csv",
    "load_wfdb_heartbeats",
    "make_ecg",
    "make_heartbeats",
    "make_price_windows",
]

#: Names that moved to :mod:`skbvae.ecg` (see docs/changes.rst); reached here they still
#: work, with a FutureWarning that says where they are now.
MOVED_TO_ECG = ("AAMI_CLASSES", "BEAT_FEATURES", "FS_RANGE", "MIN_QUALITY", "cut_heartbeats", "delineate_beats",
                "detect_r_peaks", "measure_beat_features")


def __getattr__(name):
    if name in MOVED_TO_ECG:
        from .. import ecg

        warnings.warn(f"skbvae.datasets.{name} moved to skbvae.ecg.{name}; import it from there "
                      "(skbvae.datasets keeps loaders and generators).", FutureWarning, stacklevel=2)
        return getattr(ecg, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
