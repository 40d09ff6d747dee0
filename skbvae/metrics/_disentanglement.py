"""Disentanglement metrics of codes against known generating factors.

Definitions follow disentanglement_lib (Locatello et al., 2019); where skbvae
differs (continuous factors, cross-validation instead of separate train/test
draws), the docstring says so.
"""

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.ensemble import GradientBoostingClassifier, GradientBoostingRegressor
from sklearn.metrics import mutual_info_score
from sklearn.model_selection import cross_val_score, train_test_split
from sklearn.svm import LinearSVC
from sklearn.utils import check_array, check_consistent_length, check_random_state


def _check_codes_and_factors(Z, factors):
    Z = check_array(Z, input_name="Z")
    if isinstance(factors, pd.Series):
        factors = factors.to_frame()
    F = check_array(factors, input_name="factors", ensure_2d=False)
    F = F.reshape(len(F), -1)
    check_consistent_length(Z, F)
    if len(Z) < 2:
        raise ValueError("Z and factors need at least 2 samples.")
    return Z, F


def _is_discrete(F, discrete_factors):
    """Per-factor flags: given, or inferred (integer values with at most 20 levels)."""
    n_factors = F.shape[1]
    if discrete_factors is None:
        return np.array([np.all(f == np.round(f)) and len(np.unique(f)) <= 20 for f in F.T])
    given = np.asarray(discrete_factors)
    if given.dtype == bool:
        if given.shape != (n_factors,):
            raise ValueError(f"discrete_factors as booleans needs one flag per factor ({n_factors}).")
        return given
    if given.size and (given.min() < 0 or given.max() >= n_factors):
        raise ValueError(f"discrete_factors indices must lie in [0, {n_factors - 1}]; got {given.tolist()}.")
    flags = np.zeros(n_factors, dtype=bool)
    flags[given.astype(int)] = True
    return flags


def _discretize(values, n_bins):
    """Equal-width histogram bins, as disentanglement_lib's ``_histogram_discretize``."""
    edges = np.histogram(values, bins=n_bins)[1]
    return np.digitize(values, edges[:-1])


def mutual_info_matrix(Z, factors, *, n_bins=20, discrete_factors=None):
    """Mutual information (nats) between every latent and every factor.

    Latents are discretised into ``n_bins`` equal-width bins; continuous
    factors too (disentanglement_lib assumes discrete factors), discrete ones
    keep their values.

    Parameters
    ----------
    Z : array-like of shape (n_samples, n_latents)
    factors : array-like of shape (n_samples, n_factors)
    n_bins : int, default=20
    discrete_factors : sequence of int, or of bool per factor, default=None
        Which factors are discrete; None infers it (integer-valued with at most
        20 levels).

    Returns
    -------
    mi : ndarray of shape (n_latents, n_factors)
    entropy : ndarray of shape (n_factors,)
        Entropy of each (discretised) factor in nats.
    """
    Z, F = _check_codes_and_factors(Z, factors)
    discrete = _is_discrete(F, discrete_factors)
    codes = [_discretize(z, n_bins) for z in Z.T]
    levels = [f if is_discrete else _discretize(f, n_bins) for f, is_discrete in zip(F.T, discrete)]
    mi = np.array([[mutual_info_score(f, z) for f in levels] for z in codes])
    entropy = np.array([mutual_info_score(f, f) for f in levels])
    return mi, entropy


def mutual_info_gap(Z, factors, *, n_bins=20, discrete_factors=None, per_factor=False):
    """Mutual information gap (MIG; Chen et al., 2018).

    For each factor, the gap between the largest and second largest mutual
    information with a single latent, divided by the factor's entropy;
    averaged over factors. 1 means every factor is captured by exactly one
    latent; 0 means no latent stands out. Constant factors (entropy 0) are
    skipped.

    Parameters
    ----------
    Z : array-like of shape (n_samples, n_latents)
        Codes, e.g. ``BetaVAETransformer.transform(X)``. Needs ≥ 2 latents.
    factors : array-like of shape (n_samples, n_factors)
        Known generating factors (a DataFrame works).
    n_bins : int, default=20
        Histogram bins per latent (and per continuous factor).
    discrete_factors : sequence, default=None
        See :func:`mutual_info_matrix`.
    per_factor : bool, default=False
        Also return the gap of each factor.

    Returns
    -------
    mig : float
    gaps : ndarray of shape (n_factors,)
        Only when ``per_factor=True``.

    Examples
    --------
    >>> import numpy as np
    >>> from skbvae.metrics import mutual_info_gap
    >>> F = np.random.default_rng(0).uniform(size=(2000, 3))
    >>> round(mutual_info_gap(F, F), 1)  # finite-sample bias keeps it just under 1
    1.0
    """
    Z, F = _check_codes_and_factors(Z, factors)
    if Z.shape[1] < 2:
        raise ValueError("mutual_info_gap needs at least 2 latents in Z.")
    mi, entropy = mutual_info_matrix(Z, F, n_bins=n_bins, discrete_factors=discrete_factors)
    top_two = np.sort(mi, axis=0)[::-1][:2]
    informative = entropy > 0
    gaps = np.full(F.shape[1], np.nan)
    gaps[informative] = (top_two[0] - top_two[1])[informative] / entropy[informative]
    mig = float(np.nanmean(gaps)) if informative.any() else 0.0
    return (mig, gaps) if per_factor else mig


def sap_score(Z, factors, *, discrete_factors=None, per_factor=False):
    """Separated attribute predictability (SAP; Kumar et al., 2018).

    A score for every (latent, factor) pair: the R² of predicting a continuous
    factor linearly from that latent alone (the squared correlation), or for a
    discrete factor the accuracy of ``LinearSVC(C=0.01)`` on that latent;
    then, per factor, the gap between the two best latents, averaged.
    disentanglement_lib scores discrete factors on a separate test draw; here
    the accuracy is 2-fold cross-validated on the given samples.

    Parameters
    ----------
    Z : array-like of shape (n_samples, n_latents)
    factors : array-like of shape (n_samples, n_factors)
    discrete_factors : sequence, default=None
    per_factor : bool, default=False

    Returns
    -------
    sap : float
    gaps : ndarray of shape (n_factors,)
        Only when ``per_factor=True``.
    """
    Z, F = _check_codes_and_factors(Z, factors)
    if Z.shape[1] < 2:
        raise ValueError("sap_score needs at least 2 latents in Z.")
    discrete = _is_discrete(F, discrete_factors)
    scores = np.zeros((Z.shape[1], F.shape[1]))
    for j, (f, is_discrete) in enumerate(zip(F.T, discrete)):
        for i, z in enumerate(Z.T):
            if is_discrete:
                scores[i, j] = cross_val_score(LinearSVC(C=0.01), z[:, None], f, cv=2).mean()
            elif np.std(z) > 0 and np.std(f) > 0:
                scores[i, j] = np.corrcoef(z, f)[0, 1] ** 2
    top_two = np.sort(scores, axis=0)[::-1][:2]
    gaps = top_two[0] - top_two[1]
    return (float(gaps.mean()), gaps) if per_factor else float(gaps.mean())


def _entropy(p, base):
    p = p[p > 0]
    return float(-(p * np.log(p)).sum() / np.log(base)) if base > 1 else 0.0


def dci_scores(Z, factors, *, discrete_factors=None, estimator=None, test_size=0.3, random_state=0):
    """Disentanglement, completeness and informativeness (DCI; Eastwood & Williams, 2018).

    One gradient-boosted model per factor predicts it from all latents (a
    classifier for discrete factors, a regressor for continuous ones, as
    disentanglement_lib uses ``GradientBoostingClassifier`` throughout). Their
    feature importances form the matrix R (latents × factors):

    - disentanglement: ``1 − entropy`` of each latent's importance spread over
      factors (log base n_factors), weighted by the latent's share of total
      importance;
    - completeness: ``1 − entropy`` of each factor's importance spread over
      latents (log base n_latents), averaged over factors;
    - informativeness: mean held-out accuracy (discrete) or R² (continuous) of
      the models on a ``test_size`` split (disentanglement_lib reports its
      test accuracy).

    Parameters
    ----------
    Z : array-like of shape (n_samples, n_latents)
    factors : array-like of shape (n_samples, n_factors)
    discrete_factors : sequence, default=None
    estimator : scikit-learn estimator with ``feature_importances_``, default=None
        Replaces the gradient-boosted models (cloned per factor).
    test_size : float, default=0.3
    random_state : int or None, default=0
        Seeds the split and the models.

    Returns
    -------
    scores : dict
        ``{"disentanglement": float, "completeness": float,
        "informativeness": float, "importance": ndarray (n_latents, n_factors)}``.
    """
    Z, F = _check_codes_and_factors(Z, factors)
    discrete = _is_discrete(F, discrete_factors)
    rng = check_random_state(random_state)
    seed = rng.randint(np.iinfo(np.int32).max)
    train, test = train_test_split(np.arange(len(Z)), test_size=test_size, random_state=seed)
    importance = np.zeros((Z.shape[1], F.shape[1]))
    informativeness = []
    for j, (f, is_discrete) in enumerate(zip(F.T, discrete)):
        if estimator is not None:
            model = clone(estimator)
        elif is_discrete:
            model = GradientBoostingClassifier(random_state=seed)
        else:
            model = GradientBoostingRegressor(random_state=seed)
        model.fit(Z[train], f[train])
        importance[:, j] = np.abs(model.feature_importances_)
        informativeness.append(model.score(Z[test], f[test]))
    n_latents, n_factors = importance.shape
    total = importance.sum()
    per_latent = importance.sum(axis=1)
    disentanglement = 0.0
    if total > 0:
        for i in np.flatnonzero(per_latent > 0):
            d_i = 1 - _entropy(importance[i] / per_latent[i], n_factors)
            disentanglement += per_latent[i] / total * d_i
    per_factor = importance.sum(axis=0)
    completeness = np.mean([
        1 - _entropy(importance[:, j] / per_factor[j], n_latents) if per_factor[j] > 0 else 0.0
        for j in range(n_factors)
    ])
    return {
        "disentanglement": float(disentanglement),
        "completeness": float(completeness),
        "informativeness": float(np.mean(informativeness)),
        "importance": importance,
    }
