"""ECG signal processing: R peaks, beat cutting, quality, delineation, measured beat features and RR features.

What a user runs on an ECG in memory (a NumPy array and its sampling rate),
as ``wfdb.processing`` or neurokit2's ``ecg_peaks`` / ``ecg_delineate`` do:

- :func:`detect_r_peaks`: R peaks of one lead; :func:`flutter_stretches` the stretches of
  ventricular flutter or fibrillation it gives no beats in (no QRS complexes there);
- :func:`cut_heartbeats`: one row per beat around each R peak, with quality,
  RR features and, given annotation symbols, the AAMI class of each beat;
- :func:`delineate_beats`: onsets, peaks and offsets of P, QRS and T;
- :func:`measure_beat_features`: heart rate, R amplitude, QRS, PR, QT, ST and T
  per beat, in the units :data:`BEAT_FEATURES` maps each to (intervals in seconds);
  :func:`measure_beat_windows` the same on beat windows (decoded or edited beats);
- :func:`measure_trusted_features`: the same with two or more leads, each interval kept only where
  the leads agree (an unsure boundary gives NaN rather than a wrong number);
- :func:`rr_feature_table` / :class:`RRFeatures` and :class:`PatientRelative`: the parts of the
  inter-patient heartbeat-classification recipe (RR features against the patient's own rhythm,
  beats against the patient's own median beat), usable in a ``Pipeline``.

:mod:`skbvae.datasets` keeps the loaders and generators and calls into this
module. These functions lived there before;
``skbvae.datasets.detect_r_peaks`` and its siblings still work (with a
``FutureWarning`` that says where they moved).
"""

from ._beats import AAMI_CLASSES, MAX_PAUSE_S, cut_heartbeats
from ._features import BEAT_FEATURES, delineate_beats, measure_beat_features
from ._windows import measure_beat_windows
from ._quality import MIN_QUALITY
from ._relative import PatientRelative
from ._rr import RR_FEATURES, RR_INPUTS, RRFeatures, rr_feature_table
from ._trust import AGREEMENT_S, measure_trusted_features
from ._rpeaks import FS_RANGE, detect_r_peaks, flutter_stretches

__all__ = [
    "AAMI_CLASSES",
    "AGREEMENT_S",
    "BEAT_FEATURES",
    "FS_RANGE",
    "MAX_PAUSE_S",
    "MIN_QUALITY",
    "PatientRelative",
    "RR_FEATURES",
    "RR_INPUTS",
    "RRFeatures",
    "cut_heartbeats",
    "delineate_beats",
    "detect_r_peaks",
    "flutter_stretches",
    "measure_beat_features",
    "measure_beat_windows",
    "measure_trusted_features",
    "rr_feature_table",
]
