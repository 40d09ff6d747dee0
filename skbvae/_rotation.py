"""Post-hoc rotation of a fitted β-VAE's active latents ("ica" or "varimax").

A VAE's Gaussian prior is rotation-invariant, so factors whose effects on the
signal are nearly linear and overlap come out mixed, as in PCA (NOTES §8;
Locatello et al., 2019; Rolinek et al., 2019). A rotation that uses structure
the data really has picks one basis among the equivalent ones, as
:class:`sklearn.decomposition.FactorAnalysis` does with ``rotation=``:

- ``"ica"``: FastICA on the whitened posterior means, which uses the factors'
  non-Gaussianity (independent, non-Gaussian factors are identifiable up to
  order, sign and scale). With the rows' groups (``fit(X, groups=...)``) it
  is fitted on each code's deviation from its group's mean: within a record
  the factors vary independently, each with the record's own spread, so the
  pooled deviations are heavy-tailed scale mixtures that FastICA separates,
  and the between-record differences (whatever their distribution) do not
  pull the axes;
- ``"varimax"``: the orthogonal rotation that makes the *loadings* (how each
  whitened code changes the scaled signal, least squares) as sparse as possible,
  so each axis moves few samples of the signal: a localised wave.

Only active latents (mean KL above :data:`~skbvae.metrics.ACTIVE_KL_THRESHOLD`)
take part: an inactive latent carries no information about the input, so
rotating it in would only mix noise into the codes.
"""

import sys
import warnings

import numpy as np
from sklearn.decomposition import FastICA
from sklearn.exceptions import ConvergenceWarning

from ._groups import within_group_deviations
from ._scaling import _row_chunks
from .metrics._diagnostics import ACTIVE_KL_THRESHOLD

ROTATIONS = ("ica", "varimax")

# Messages already given by this process. The FastICA check below runs under
# warnings.catch_warnings, whose every entry and exit resets Python's registry of
# warnings already shown, so "default" filtering would repeat ours on every fit
# (once per fold of a cross-validation).
_SAID = set()

# FastICA's iteration limit (scikit-learn's default is 200).
_ICA_MAX_ITER = 1000

# Eigenvalues of the code covariance below this fraction of the largest are
# floored before whitening, so nearly collinear codes cannot blow up.
_EIGEN_FLOOR = 1e-8


def _varimax(loadings, max_iter=500, tol=1e-8):
    """Orthogonal rotation ``R`` maximising the varimax criterion of ``loadings @ R``.

    Kaiser's criterion through the SVD iteration of scikit-learn's
    ``FactorAnalysis`` (``_ortho_rotation``), which is private there.

    Parameters
    ----------
    loadings : ndarray of shape (n_features, n_components)

    Returns
    -------
    rotation : ndarray of shape (n_components, n_components), orthogonal
    """
    n_features, n_components = loadings.shape
    rotation = np.eye(n_components)
    previous = 0.0
    for _ in range(max_iter):
        rotated = loadings @ rotation
        target = rotated**3 - rotated * (rotated**2).sum(axis=0) / n_features
        u, s, vt = np.linalg.svd(loadings.T @ target)
        rotation = u @ vt
        if s.sum() < previous * (1 + tol):
            break
        previous = s.sum()
    return rotation


def select_active(kl):
    """Indices of the active latents, largest KL first; at least the most informative one.

    Keeping one latent when none is active gives a code of width 1 rather than
    an empty one, which no downstream estimator could take.
    """
    kl = np.asarray(kl, dtype=np.float64)
    active = np.flatnonzero(kl > ACTIVE_KL_THRESHOLD)
    if active.size == 0:
        active = np.array([int(np.argmax(kl))])
    return active[np.argsort(-kl[active], kind="stable")]


def fit_rotation(mu, X_scaled, method, random_state=None, groups=None, verbose=0):
    """Affine map from posterior means to unit-variance rotated codes.

    Parameters
    ----------
    mu : ndarray of shape (n_samples, n_active)
        Posterior means of the active latents on the training data.
    X_scaled : ndarray of shape (n_samples, n_features)
        The scaled training signals: the loadings (how each code moves the
        signal) are regressed on them, for varimax and for ordering and signs.
    method : {"ica", "varimax"}
    random_state : int or None
        Seeds FastICA.
    groups : ndarray of int of shape (n_samples,) or None
        Group codes of the rows; "ica" then separates the within-group
        deviations of the codes (see the module docstring).
    verbose : int
        With 1 or more, a FastICA that stops at its iteration limit is
        reported (a note on standard error, once per session). Silent
        otherwise: with the Student-t default it happens on most fits (the
        near-Gaussian directions of a code have no orientation to converge
        to; 20,000 iterations did not help on 2,000 beats), is harmless to
        the non-Gaussian ones, and a warning on every default fit says
        nothing a user can act on.

    Returns
    -------
    mean : ndarray of shape (n_active,)
        Training mean of ``mu``.
    rotation : ndarray of shape (n_active, n_active)
        ``codes = (mu - mean) @ rotation``. The codes have zero mean and unit
        variance on the training data, are ordered by the share of the scaled
        signal's variance their loadings explain (largest first), and their
        signs make each axis's largest loading positive.
    """
    mu = np.asarray(mu, dtype=np.float64)
    if len(mu) < 2:
        raise ValueError(
            f"rotation={method!r} estimates the codes' covariance, which needs at least 2 "
            f"training rows; got n_samples={len(mu)}. Use rotation=None."
        )
    mean = mu.mean(axis=0)
    centred = mu - mean
    separated = centred
    if groups is not None and method == "ica":
        separated = within_group_deviations(mu, groups, np.bincount(groups))
    # Symmetric (ZCA) whitening: the identity rotation stays "no rotation".
    eigenvalues, eigenvectors = np.linalg.eigh(np.atleast_2d(np.cov(separated, rowvar=False)))
    eigenvalues = np.maximum(eigenvalues, _EIGEN_FLOOR * max(eigenvalues.max(), np.finfo(float).tiny))
    whitening = eigenvectors / np.sqrt(eigenvalues) @ eigenvectors.T
    white = separated @ whitening

    if method == "ica":
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            # The parallel update rarely meets its tolerance on VAE codes: they
            # hold a couple of near-Gaussian directions that ICA cannot orient,
            # and it keeps turning within them. Deflation converges (62
            # iterations on 8,000 synthetic beats) but separated the factors
            # worse (MIG 0.109 against 0.141, DCI 0.37 against 0.46, 3 seeds).
            ica = FastICA(whiten=False, max_iter=_ICA_MAX_ITER, tol=1e-4, random_state=random_state).fit(white)
        message = (f"rotation='ica': FastICA did not converge in {_ICA_MAX_ITER} iterations. This is usual when "
                   "some directions of the code are Gaussian (no rotation orients them); the "
                   "non-Gaussian ones are still separated. Compare with rotation='varimax' or None "
                   "if the rotated codes look mixed. (Said once per session.)")
        stopped = any(issubclass(w.category, ConvergenceWarning) for w in caught)
        if verbose and stopped and message not in _SAID:
            # A note for a user who asked for progress, not a warning: it is the usual case, and as a
            # warning it showed in the README's main example, which runs with verbose=1.
            _SAID.add(message)
            print(f"note: {message}", file=sys.stderr, flush=True)
        orthogonal = ica.components_.T
    elif method == "varimax":
        orthogonal = _varimax(_loadings(white, X_scaled))
    else:  # validated by the estimator
        raise ValueError(f"rotation must be None, 'ica' or 'varimax'; got {method!r}.")

    rotation = whitening @ orthogonal
    codes = centred @ rotation
    rotation = rotation / np.where(codes.std(axis=0) > 0, codes.std(axis=0), 1.0)
    loadings = _loadings(centred @ rotation, X_scaled)
    order = np.argsort(-(loadings**2).sum(axis=0), kind="stable")
    rotation, loadings = rotation[:, order], loadings[:, order]
    signs = np.sign(loadings[np.abs(loadings).argmax(axis=0), np.arange(loadings.shape[1])])
    return mean, rotation * np.where(signs == 0, 1.0, signs)


def _loadings(codes, X_scaled):
    """Least-squares loadings (n_features, n_codes) of the scaled signals on centred ``codes``.

    The normal equations, with ``codes.T @ X`` accumulated over row chunks in
    float64, so a large float32 training set is never copied whole (NOTES:
    fit's scaling holds 760 MiB at 1 M rows). The codes are centred, so
    centring ``X`` would not change ``codes.T @ X``.
    """
    cross = sum(codes[rows].T @ X_scaled[rows].astype(np.float64) for rows in _row_chunks(len(X_scaled)))
    coefficients, *_ = np.linalg.lstsq(codes.T @ codes, cross, rcond=None)
    return coefficients.T
