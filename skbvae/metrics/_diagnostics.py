"""Label-free diagnostics of a code: KL per latent, active latents, total correlation."""

import numpy as np
from sklearn.utils import check_array

#: A latent whose mean KL exceeds this many nats carries information (NOTES §2).
ACTIVE_KL_THRESHOLD = 0.01


def kl_per_latent(estimator, X=None):
    """Mean KL(q(z|x) || N(0, 1)) of each latent, in nats.

    Parameters
    ----------
    estimator : fitted BetaVAETransformer
    X : array-like of shape (n_samples, n_features), default=None
        Signals to average over; None returns the value on the training data
        (``estimator.kl_per_latent_``).

    Returns
    -------
    kl : ndarray of shape (latent_dim,)
    """
    if X is None:
        return np.asarray(estimator.kl_per_latent_)
    return estimator._encode(estimator._validate_X(X))[1].astype(float)


def active_latents(estimator, X=None, *, threshold=ACTIVE_KL_THRESHOLD):
    """Boolean mask of the latents whose mean KL exceeds ``threshold`` nats.

    Examples
    --------
    >>> from skbvae import BetaVAETransformer
    >>> from skbvae.datasets import make_heartbeats
    >>> from skbvae.metrics import active_latents
    >>> X, _ = make_heartbeats(200, random_state=0)
    >>> vae = BetaVAETransformer(latent_dim=4, max_epochs=2, random_state=0).fit(X)
    >>> active_latents(vae).shape
    (4,)
    """
    return kl_per_latent(estimator, X) > threshold


def gaussian_total_correlation(Z):
    """Total correlation of the codes under a Gaussian fit, in nats.

    ``TC = 0.5 * (Σ log Var(z_i) − log det Cov(z))``: 0 for uncorrelated latents,
    growing as they share information (linearly). Constant latents are ignored.

    Parameters
    ----------
    Z : array-like of shape (n_samples, n_latents)

    Returns
    -------
    tc : float
    """
    Z = check_array(Z, input_name="Z", ensure_min_samples=2)
    Z = Z[:, Z.std(axis=0) > 0]
    if Z.shape[1] < 2:
        return 0.0
    cov = np.cov(Z, rowvar=False)
    sign, logdet = np.linalg.slogdet(cov)
    if sign <= 0:
        return float("inf")  # perfectly dependent latents
    return float(0.5 * (np.log(np.diag(cov)).sum() - logdet))
