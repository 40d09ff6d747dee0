"""Heartbeat classification scored as the inter-patient literature scores it (AAMI EC57 classes)."""

import numpy as np
from sklearn.metrics import cohen_kappa_score, confusion_matrix

#: The classes scored, in order: normal, supraventricular ectopic, ventricular ectopic, fusion.
#: Q (paced, unclassifiable) is left out, as in de Chazal et al. (2004) and those who followed.
AAMI_SCORED = ("N", "S", "V", "F")


def aami_scores(y_true, y_pred):
    """Accuracy, per-class sensitivity and positive predictivity, κ and the jκ index of beat labels.

    The measures of the MIT-BIH inter-patient benchmark (de Chazal et al.,
    2004; Mar et al., 2011), on the AAMI classes N, S, V and F (beats labelled
    Q on either side are left out). As AAMI EC57 recommends, a fusion beat
    (F) called V counts neither for nor against V's positive predictivity.
    jκ = κ / 2 + (Se_S + Se_V + +P_S + +P_V) / 8, Mar et al.'s single figure
    (1 for a perfect classifier); published on DS2: de Chazal 2004 0.612,
    Mar 2011 0.649, Zhang 2014 0.663, Mondéjar-Guerra 2019 0.773.

    Parameters
    ----------
    y_true, y_pred : array-like of str
        AAMI classes ("N", "S", "V", "F"; "Q" is ignored), e.g. the ``aami``
        column of ``load_wfdb_heartbeats(..., annotations=True)`` and a
        classifier's predictions.

    Returns
    -------
    scores : dict
        ``accuracy``; ``Se_N``, ``+P_N``, ... for each class (NaN where the
        class never occurs / is never predicted); ``mean_Se`` (mean
        sensitivity over the classes present), ``kappa`` (Cohen's κ over the
        four classes), ``j`` and ``jk``; ``confusion`` (4 × 4 counts, rows
        true, columns predicted, in :data:`AAMI_SCORED` order).

    Examples
    --------
    >>> from skbvae.metrics import aami_scores
    >>> scores = aami_scores(["N", "N", "V", "S", "F"], ["N", "N", "V", "N", "V"])
    >>> scores["Se_V"], scores["+P_V"], scores["Se_S"]
    (1.0, 1.0, 0.0)
    """
    y_true, y_pred = np.asarray(y_true, dtype=object), np.asarray(y_pred, dtype=object)
    if y_true.shape != y_pred.shape or y_true.ndim != 1:
        raise ValueError(f"y_true and y_pred must be 1-D and of one length; got {y_true.shape} and {y_pred.shape}.")
    scored = np.isin(y_true, AAMI_SCORED) & np.isin(y_pred, AAMI_SCORED)
    unknown = set(np.unique(np.concatenate([y_true, y_pred]))) - set(AAMI_SCORED) - {"Q"}
    if unknown:
        raise ValueError(f"labels must be AAMI classes {list(AAMI_SCORED)} (or Q, ignored); got {sorted(map(str, unknown))}.")
    y_true, y_pred = y_true[scored], y_pred[scored]
    matrix = confusion_matrix(y_true, y_pred, labels=list(AAMI_SCORED)).astype(float)
    scores = {"accuracy": float(np.trace(matrix) / matrix.sum()) if matrix.sum() else float("nan")}
    with np.errstate(invalid="ignore", divide="ignore"):
        for k, name in enumerate(AAMI_SCORED):
            true_positive = matrix[k, k]
            false_positive = matrix[:, k].sum() - true_positive
            if name == "V":  # AAMI: F called V neither rewards nor penalises V's +P
                false_positive -= matrix[AAMI_SCORED.index("F"), k]
            scores[f"Se_{name}"] = float(true_positive / matrix[k].sum()) if matrix[k].sum() else float("nan")
            predicted = true_positive + false_positive
            scores[f"+P_{name}"] = float(true_positive / predicted) if predicted else float("nan")
    present = [scores[f"Se_{name}"] for name in AAMI_SCORED if matrix[AAMI_SCORED.index(name)].sum()]
    scores["mean_Se"] = float(np.mean(present)) if present else float("nan")
    scores["kappa"] = float(cohen_kappa_score(y_true, y_pred, labels=list(AAMI_SCORED))) if len(y_true) else float("nan")
    parts = [scores["Se_S"], scores["Se_V"], scores["+P_S"], scores["+P_V"]]
    scores["j"] = float(np.nansum(parts))  # a class never predicted adds 0, as it scores no hit
    scores["jk"] = 0.5 * scores["kappa"] + 0.125 * scores["j"]
    scores["confusion"] = matrix.astype(int)
    return scores
