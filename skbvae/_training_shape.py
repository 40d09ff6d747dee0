"""Warnings about a training set whose shape says something went wrong before ``fit``.

Two mistakes used to fit without a word: signals passed as columns (a
``(187, 600)`` array for 600 beats of 187 samples: ``X`` instead of ``X.T``)
and a handful of rows (5 beats for 3 latents). Both give a model, and the
model is meaningless; scikit-learn's own estimators cannot tell (PCA of 187
"signals" of 600 samples is a valid PCA), but signals are smooth along their
samples and a β-VAE needs many rows per latent, so fit says so.
"""

import numpy as np

from ._warnings import warn_user

#: Rows per latent below which fit warns: a latent's distribution cannot be
#: learned from fewer (the network alone has hundreds of weights per latent).
MIN_ROWS_PER_LATENT = 10


#: How much smoother (relative step between neighbours) the columns must be than
#: the rows for ``X`` to look transposed. Beats at 125 Hz step 0.2-0.4 of their
#: spread from sample to sample, and 0.3-1.4 from beat to beat; random data 1.1
#: both ways.
TRANSPOSED_SMOOTHNESS_RATIO = 0.5


def _roughness(X):
    """Median over rows of the mean step between neighbouring values of a row, over that row's spread."""
    spread = X.std(axis=1)
    keep = spread > 0
    if keep.sum() == 0 or X.shape[1] < 3:
        return np.nan
    return float(np.median(np.abs(np.diff(X[keep], axis=1)).mean(axis=1) / spread[keep]))


def _smoother_down_columns(X):
    """Whether neighbouring rows differ far less than neighbouring columns: signals laid out as columns."""
    along_rows, down_columns = _roughness(X), _roughness(X.T)
    return bool(down_columns < TRANSPOSED_SMOOTHNESS_RATIO * along_rows)


def warn_if_training_shape_is_odd(X, *, latent_dim):
    """Warn when ``X`` looks transposed or holds too few rows for ``latent_dim`` latents.

    ``X`` looks transposed when it has fewer rows than columns and its columns
    are far smoother than its rows: a signal changes little from one sample
    to the next, and different signals differ more.
    """
    n_samples, n_features = X.shape
    if n_samples < MIN_ROWS_PER_LATENT * latent_dim:
        warn_user(
            f"X has {n_samples} rows for latent_dim={latent_dim}: too few to learn a β-VAE from (at least "
            f"{MIN_ROWS_PER_LATENT} rows per latent, here {MIN_ROWS_PER_LATENT * latent_dim}; hundreds are usual). "
            "The codes will follow the noise of these rows; pass more signals or a smaller latent_dim.")
    elif n_samples < n_features and _smoother_down_columns(X):
        warn_user(
            f"X has {n_samples} rows (signals) of {n_features} samples each, and its columns change far more "
            "smoothly than its rows: it looks transposed. Each row must be one signal (a beat, a price window); "
            f"if your signals are the columns, pass X.T (then {n_features} signals of {n_samples} samples).")
