"""The β-VAE objective: reconstruction, KL divergence and the capacity schedule.

Every loss value skbvae reports (training objective, history, ``score``) is
computed here, so there is exactly one definition of each term.
"""

import math

import torch
from torch import nn
from torch.nn import functional as F

_LOG_2PI = math.log(2 * math.pi)


def kl_per_latent(mu, logvar):
    """KL(q(z|x) || N(0, I)) of each latent, in nats, shape (n, latent_dim)."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar)


def reconstruction_nll(x, decoded, likelihood):
    """Negative log-likelihood of ``x`` under the decoder, in nats per sample.

    Parameters
    ----------
    x : tensor of shape (n, n_features)
        Scaled input signals.
    decoded : tensor of shape (n, n_features)
        Decoder output: the mean of a unit-variance Gaussian, or Bernoulli logits.
    likelihood : {"gaussian", "bernoulli"}

    Returns
    -------
    nll : tensor of shape (n,)
        Summed over features. The Gaussian includes its normalising constant, so
        the value is a proper negative log-density of the scaled signal.
    """
    if likelihood == "gaussian":
        return 0.5 * ((x - decoded).pow(2) + _LOG_2PI).sum(dim=1)
    return F.binary_cross_entropy_with_logits(decoded, x, reduction="none").sum(dim=1)


def decoder_mean(decoded, likelihood):
    """Expected signal under the decoder (the mean of p(x|z))."""
    return torch.sigmoid(decoded) if likelihood == "bernoulli" else decoded


def capacity_target(step, capacity, capacity_steps):
    """Capacity C(t) of Burgess et al. (2018), annealed linearly from 0.

    Parameters
    ----------
    step : int
        Number of optimizer steps taken so far.
    capacity : float
        Final capacity C_max in nats.
    capacity_steps : int
        Steps over which C grows from 0 to C_max; it stays at C_max after.
    """
    return capacity * min(1.0, step / max(capacity_steps, 1))


class BetaVAELoss(nn.Module):
    """Training objective of a β-VAE, averaged over the batch.

    ``capacity=None`` gives the β-VAE of Higgins et al. (2017),
    ``recon + β·KL``; a float gives the capacity-controlled objective of
    Burgess et al. (2018), ``recon + β·|KL − C(t)|``, where KL is the batch-mean
    total KL and C(t) comes from :func:`capacity_target` (annealed per
    optimizer step on the batch-mean KL, as disentanglement_lib does).

    ``forward`` returns the scalar objective and the detached batch means of
    the reconstruction NLL and KL, so the training loop can log them without
    recomputation.
    """

    def __init__(self, likelihood="gaussian", beta=1.0, capacity=None, capacity_steps=1):
        super().__init__()
        self.likelihood = likelihood
        self.beta = beta
        self.capacity = capacity
        self.capacity_steps = capacity_steps

    def target(self, step):
        """Capacity in nats at optimizer step ``step`` (None without capacity)."""
        if self.capacity is None:
            return None
        return capacity_target(step, self.capacity, self.capacity_steps)

    def forward(self, output, x, step=0):
        decoded, mu, logvar = output
        recon = reconstruction_nll(x, decoded, self.likelihood).mean()
        kl = kl_per_latent(mu, logvar).sum(dim=1).mean()
        if self.capacity is None:
            objective = recon + self.beta * kl
        else:
            objective = recon + self.beta * (kl - self.target(step)).abs()
        return objective, recon.detach(), kl.detach()
