"""Input scaling that fixes what β and the capacity C mean (NOTES §2).

A β-VAE's KL/reconstruction trade-off depends on the signal's units: on
heartbeats scaled to max |x| = 1, a unit-variance Gaussian decoder collapsed to
0 active latents, on standardized beats it kept 6. Scaling inside the
estimator, and undoing it on every decoded output, gives β and C the same
meaning across datasets while users see signals in their own units.
"""

import numpy as np

SCALINGS = ("standard", "global", "minmax")


def fit_scaling(X, scaling):
    """Return ``(center, scale)`` so that ``(X - center) / scale`` is the scaled data.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    scaling : {"standard", "global", "minmax"} or None
        ``"standard"``: each feature to zero mean and unit variance.
        ``"global"``: one mean and one standard deviation over all entries,
        which keeps the relative size of features (e.g. volatility along a
        price path). ``"minmax"``: each feature to [0, 1], for Bernoulli
        likelihoods. ``None``: identity.

    Returns
    -------
    center, scale : ndarray of shape (n_features,), float64
        Constant features get scale 1, as in scikit-learn's scalers.
    """
    n_features = X.shape[1]
    X = X.astype(np.float64, copy=False)
    if scaling is None:
        return np.zeros(n_features), np.ones(n_features)
    if scaling == "standard":
        center, scale = X.mean(axis=0), X.std(axis=0)
    elif scaling == "global":
        center, scale = np.full(n_features, X.mean()), np.full(n_features, X.std())
    else:
        center, scale = X.min(axis=0), X.max(axis=0) - X.min(axis=0)
    # Constant (or numerically constant) features would be divided by ~0.
    tiny = 10 * np.finfo(np.float64).eps * np.maximum(1.0, np.abs(center))
    scale = np.where(scale <= tiny, 1.0, scale)
    return center, scale
