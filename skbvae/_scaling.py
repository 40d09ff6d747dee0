"""Input scaling that fixes what β and the capacity C mean (NOTES §2).

A β-VAE's KL/reconstruction trade-off depends on the signal's units: on
heartbeats scaled to max |x| = 1, a unit-variance Gaussian decoder collapsed to
0 active latents, on standardized beats it kept 6. Scaling inside the
estimator, and undoing it on every decoded output, gives β and C the same
meaning across datasets while users see signals in their own units.
"""

import numpy as np

SCALINGS = ("standard", "global", "minmax")

# Rows per chunk when computing moments and scaled copies: float64 work arrays
# of one chunk (~24 MiB at 187 features) instead of several of the whole input.
_CHUNK_ROWS = 16384


def _row_chunks(n_rows):
    """Slices of ``_CHUNK_ROWS`` consecutive rows covering ``n_rows``."""
    for start in range(0, n_rows, _CHUNK_ROWS):
        yield slice(start, start + _CHUNK_ROWS)


def _mean_and_std(X, axis):
    """Float64 mean and (population) standard deviation, in two chunked passes."""
    count = X.shape[0] if axis == 0 else X.size
    mean = sum(X[rows].sum(axis=axis, dtype=np.float64) for rows in _row_chunks(len(X))) / count
    squares = sum(np.square(X[rows] - mean).sum(axis=axis) for rows in _row_chunks(len(X)))
    return mean, np.sqrt(squares / count)


def fit_scaling(X, scaling, n_channels=1):
    """Return ``(center, scale)`` so that ``(X - center) / scale`` is the scaled data.

    Moments are accumulated in float64 chunk by chunk, so a float32 ``X`` is
    never copied whole to float64.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    scaling : {"standard", "global", "minmax"} or None
        ``"standard"``: each feature to zero mean and unit variance.
        ``"global"``: one mean and one standard deviation over all entries,
        which keeps the relative size of features (e.g. volatility along a
        price path). ``"minmax"``: each feature to [0, 1], for Bernoulli
        likelihoods. ``None``: identity.
    n_channels : int, default=1
        Rows are ``n_channels`` consecutive blocks of samples; ``"global"``
        then gives each block (channel) its own mean and standard deviation.

    Returns
    -------
    center, scale : ndarray of shape (n_features,), float64
        Constant features get scale 1, as in scikit-learn's scalers.
    """
    n_features = X.shape[1]
    if scaling is None:
        return np.zeros(n_features), np.ones(n_features)
    if scaling == "standard":
        center, scale = _mean_and_std(X, axis=0)
    elif scaling == "global" and n_channels == 1:
        mean, std = _mean_and_std(X, axis=None)
        center, scale = np.full(n_features, mean), np.full(n_features, std)
    elif scaling == "global":
        # A channel's variance over all its entries: the mean of its features'
        # variances plus the spread of their means around the channel's mean.
        means, stds = (v.reshape(n_channels, -1) for v in _mean_and_std(X, axis=0))
        channel_mean = means.mean(axis=1, keepdims=True)
        channel_std = np.sqrt((stds**2 + (means - channel_mean) ** 2).mean(axis=1, keepdims=True))
        center = np.broadcast_to(channel_mean, means.shape).ravel()
        scale = np.broadcast_to(channel_std, means.shape).ravel()
    else:
        low, high = X.min(axis=0).astype(np.float64), X.max(axis=0).astype(np.float64)
        center, scale = low, high - low
    # Constant (or numerically constant) features would be divided by ~0.
    tiny = 10 * np.finfo(np.float64).eps * np.maximum(1.0, np.abs(center))
    scale = np.where(scale <= tiny, 1.0, scale)
    return center, scale


def scale_to_float32(X, center, scale):
    """``(X - center) / scale`` as a new float32 array, computed chunk by chunk in float64."""
    out = np.empty(X.shape, dtype=np.float32)
    for rows in _row_chunks(len(X)):
        out[rows] = (X[rows] - center) / scale
    return out
