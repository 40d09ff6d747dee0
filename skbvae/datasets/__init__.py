"""Datasets: ECG heartbeats from WFDB records and Kaggle CSVs, price windows, synthetic signals.

Every loader reads local files only (it never downloads) and returns ``X``, an
array that goes straight into :class:`~skbvae.BetaVAETransformer`, with a
pandas DataFrame of per-row metadata or generating factors.
"""

from ._artefacts import ARTEFACTS
from ._beats import AAMI_CLASSES, cut_heartbeats
from ._features import BEAT_FEATURES, delineate_beats, measure_beat_features
from ._csv import load_price_windows, load_ptbdb_csv
from ._quality import MIN_QUALITY
from ._rpeaks import FS_RANGE, detect_r_peaks
from ._synthetic import HEARTBEAT_FACTORS, PRICE_FACTORS, PRICE_REPRESENTATIONS, RHYTHMS, make_ecg, make_heartbeats, make_price_windows
from ._wfdb import BEAT_SYMBOLS, LEAD_II_NAMES, load_wfdb_heartbeats

__all__ = [
    "AAMI_CLASSES",
    "ARTEFACTS",
    "BEAT_FEATURES",
    "BEAT_SYMBOLS",
    "FS_RANGE",
    "HEARTBEAT_FACTORS",
    "LEAD_II_NAMES",
    "MIN_QUALITY",
    "PRICE_FACTORS",
    "PRICE_REPRESENTATIONS",
    "RHYTHMS",
    "cut_heartbeats",
    "delineate_beats",
    "detect_r_peaks",
    "load_price_windows",
    "load_ptbdb_csv",
    "load_wfdb_heartbeats",
    "make_ecg",
    "make_heartbeats",
    "make_price_windows",
    "measure_beat_features",
]
