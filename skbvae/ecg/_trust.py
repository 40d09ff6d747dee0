"""Intervals you can trust: measured on two or more leads, kept where the leads agree.

One lead's boundary can land on the wrong wave (a T end on the next P, a QRS end
on a slurred S), and nothing in that lead says so. Another lead of the same
beat sees the same electrical events from another angle and rarely goes wrong
at the same place: where two leads disagree, one of them is wrong, and the
interval is unsure. Measured on LUDB (200 patients, the cardiologists'
boundaries; ``benchmarks/bench_trust.py``), keeping lead II's intervals where
V5 agrees brought the SDs within the CSE tolerances and halved the gross
errors (|error| > 50 ms), at the cost of a fifth of the measurements.
"""

import numpy as np
import pandas as pd

from ._features import measure_beat_features

#: Largest disagreement between leads (s) at which an interval is trusted: the
#: CSE tolerance of its end boundary, doubled (two leads each within it).
AGREEMENT_S = {"qrs_duration": 0.020, "pr_interval": 0.040, "qt_interval": 0.040}
#: Columns derived from an interval, made NaN with it.
_DERIVED = {"qt_interval": ("qtc_bazett", "qtc_fridericia")}


def measure_trusted_features(ecg, fs, r_peaks, *, agreement=None):
    """:func:`~skbvae.ecg.measure_beat_features` of the first lead, its intervals NaN where the leads disagree.

    Each lead is measured on its own; an interval (QRS, PR, QT and the QTc
    derived from it) is kept on a beat when every other lead measured it
    within ``agreement`` of the first lead, and made NaN otherwise (also when
    another lead could not measure it). Amplitudes, heart rate and the
    ``paced`` flag are the first lead's.

    Parameters
    ----------
    ecg : array-like of shape (n_samples, n_leads)
        Two or more leads at one rate, in mV; the first is the one reported.
    fs : float
        Sampling rate (Hz).
    r_peaks : array-like of int
        Sample index of each R peak.
    agreement : dict or None, default=None
        Largest disagreement (s) per interval; None is :data:`AGREEMENT_S`
        (QRS 20 ms, PR and QT 40 ms).

    Returns
    -------
    features : pandas.DataFrame
        The first lead's features (units in ``attrs["units"]``), then
        ``qrs_spread``, ``pr_spread``, ``qt_spread``: the largest difference (s)
        between the first lead's interval and another lead's, NaN where a lead
        could not measure it.

    Examples
    --------
    >>> import numpy as np
    >>> from skbvae.datasets import make_ecg
    >>> from skbvae.ecg import measure_trusted_features
    >>> ecg, r_peaks = make_ecg(20.0, fs=250, random_state=0)
    >>> two_leads = np.column_stack([ecg, 0.8 * ecg])
    >>> trusted = measure_trusted_features(two_leads, 250, r_peaks)
    >>> bool(trusted["qrs_duration"].notna().mean() > 0.9)
    True
    """
    leads = np.asarray(ecg, dtype=float)
    if leads.ndim != 2 or leads.shape[1] < 2:
        raise ValueError(f"measure_trusted_features needs two or more leads, shape (n_samples, n_leads); got shape "
                         f"{leads.shape}. With one lead use measure_beat_features.")
    limits = dict(AGREEMENT_S if agreement is None else agreement)
    unknown = set(limits) - set(AGREEMENT_S)
    if unknown:
        raise ValueError(f"agreement names intervals {sorted(unknown)}; it takes {sorted(AGREEMENT_S)}.")
    measured = [measure_beat_features(leads[:, k], fs, r_peaks) for k in range(leads.shape[1])]
    features = measured[0].copy()
    for name, limit in limits.items():
        gaps = np.column_stack([(other[name] - features[name]).abs().to_numpy() for other in measured[1:]])
        spread = gaps.max(axis=1)  # NaN where a lead could not measure it
        features[name.split("_")[0] + "_spread"] = spread
        unsure = ~(spread <= limit)
        for column in (name, *_DERIVED.get(name, ())):
            features.loc[unsure, column] = np.nan
    return features
