"""The β-VAE objective: reconstruction, KL divergence and the capacity schedule.

Every loss value skbvae reports (training objective, history, ``score``) is
computed here, so there is exactly one definition of each term.
"""

import math

import torch
from torch import nn
from torch.nn import functional as F

_LOG_2PI = math.log(2 * math.pi)

#: Decoder variance settings: "fixed" is a unit variance in scaled units;
#: "shared" and "per_feature" are fitted in closed form
#: (:func:`optimal_variance`), "heteroscedastic" is a decoder output
#: (:func:`gaussian_variance`).
DECODER_VARIANCES = ("fixed", "shared", "per_feature", "heteroscedastic")

#: Smallest ``var_smoothing`` (the floor of a learned Gaussian decoder's
#: variance, in scaled units: a standard deviation of 1 % of a standardized
#: feature's). Without a floor the likelihood of a feature the decoder fits
#: exactly (a constant one, say) grows without bound as its variance shrinks,
#: and training ends in inf/NaN.
MIN_DECODER_VARIANCE = 1e-4

#: Decoder distributions (``likelihood=``).
LIKELIHOODS = ("gaussian", "student_t", "bernoulli")

#: Degrees of freedom of the Student-t decoder. A Student-t is a Gaussian whose
#: precision has a Gamma prior, integrated out: a residual r scale units away
#: costs ~2 log r nats instead of r²/2, so beats unlike the training beats (a
#: record that drifts, noise the loader kept) cannot make the held-out ELBO
#: collapse. 3 is the heaviest tail with a finite variance; measured on the
#: messy records split by time, 5 was not heavy enough (mixedsignals: held-out
#: ELBO -31 with 5, 75 with 3, 74 for the fixed Gaussian).
STUDENT_T_DOF = 3.0
_STUDENT_T_LOG_NORM = (math.lgamma(STUDENT_T_DOF / 2) - math.lgamma((STUDENT_T_DOF + 1) / 2)
                       + 0.5 * math.log(STUDENT_T_DOF * math.pi))
#: Standard deviation of a Student-t of unit scale with STUDENT_T_DOF degrees of freedom.
STUDENT_T_STD = math.sqrt(STUDENT_T_DOF / (STUDENT_T_DOF - 2))

# softplus(_SOFTPLUS_ONE) == 1, so a raw output of 0 (a fresh layer) means a
# variance of ~1, the fixed decoder's: learning starts where "fixed" stays.
_SOFTPLUS_ONE = math.log(math.expm1(1.0))


def kl_per_latent(mu, logvar, prior_mean=None, prior_var=None):
    """KL(q(z|x) || p(z)) of each latent, in nats, shape (n, latent_dim).

    The prior is N(0, I), or N(prior_mean, diag prior_var) when they are given
    (a group's prior, :class:`~skbvae._groups.GroupPrior`).
    """
    if prior_mean is None:
        return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar)
    return 0.5 * ((logvar.exp() + (mu - prior_mean).pow(2)) / prior_var - 1.0 - logvar + prior_var.log())


def gaussian_variance(raw, floor=MIN_DECODER_VARIANCE):
    """Variance of a learned Gaussian decoder from its unconstrained output ``raw``.

    ``floor + softplus(raw + c)``, with ``c`` such that ``raw = 0`` gives a
    variance of ~1. Softplus grows linearly rather than exponentially, so a
    large ``raw`` cannot overflow float32 the way ``exp(log_var)`` does, and
    the floor keeps ``1 / variance`` finite (Rybkin et al. 2021 bound log σ
    from below for the same reason). The floor is the estimator's
    ``var_smoothing``.
    """
    return floor + F.softplus(raw + _SOFTPLUS_ONE)


def optimal_variance(x, loc, decoder_variance, floor=MIN_DECODER_VARIANCE):
    """Maximum-likelihood variance of a Gaussian decoder with means ``loc`` on the batch ``x``.

    The optimal σ-VAE of Rybkin et al. (2021): for a variance shared by all
    features ("shared") or one per feature ("per_feature") the likelihood is
    maximised in closed form by the mean squared error, so it is computed
    rather than learned by gradient steps. A learned variance parameter moves
    by about one learning rate per Adam step and needed far more than the
    default 4,000 steps to fall from 1 to the ~0.005 of fine noise on
    standardized data. By the envelope theorem the gradient with respect to
    the means is the same whether or not it flows through the optimum, so the
    optimum is detached. ``floor`` (the estimator's ``var_smoothing``) is added.

    Returns
    -------
    variance : tensor of shape (1,) or (n_features,)
    """
    squared_error = (x - loc).detach().float().pow(2)
    variance = squared_error.mean().reshape(1) if decoder_variance == "shared" else squared_error.mean(dim=0)
    return floor + variance


def reconstruction_nll(x, decoded, likelihood):
    """Negative log-likelihood of ``x`` under the decoder, in nats per sample.

    Parameters
    ----------
    x : tensor of shape (n, n_features)
        Scaled input signals.
    decoded : (tensor of shape (n, n_features), tensor or None)
        Decoder output, as returned by ``BetaVAEModule.decode``: the Gaussian
        mean (or Bernoulli logits) and the variance of a learned Gaussian
        decoder (any shape that broadcasts against the mean), or None for
        unit variance.
    likelihood : {"gaussian", "student_t", "bernoulli"}
        For "student_t" the variance is the squared scale of a Student-t with
        :data:`STUDENT_T_DOF` degrees of freedom.

    Returns
    -------
    nll : tensor of shape (n,)
        Summed over features. The Gaussian and the Student-t include their
        normalising constants, so the value is a proper negative log-density of
        the scaled signal.
    """
    loc, variance = decoded
    if likelihood == "bernoulli":
        return F.binary_cross_entropy_with_logits(loc, x, reduction="none").sum(dim=1)
    squared_error = (x - loc).pow(2)
    if likelihood == "student_t":
        scale2 = torch.ones_like(loc) if variance is None else variance
        nu = STUDENT_T_DOF
        return (_STUDENT_T_LOG_NORM + 0.5 * scale2.log()
                + 0.5 * (nu + 1) * torch.log1p(squared_error / (nu * scale2))).sum(dim=1)
    if variance is None:
        return 0.5 * (squared_error + _LOG_2PI).sum(dim=1)
    return 0.5 * (squared_error / variance + variance.log() + _LOG_2PI).sum(dim=1)


def decoder_mean(decoded, likelihood):
    """Expected signal under the decoder (the mean of p(x|z)), in scaled units."""
    loc, _ = decoded
    return torch.sigmoid(loc) if likelihood == "bernoulli" else loc


def decoder_std(decoded, likelihood):
    """Standard deviation of p(x|z) for every feature, in scaled units.

    1 for the fixed Gaussian decoder, the learned σ otherwise, and
    ``sqrt(p (1 - p))`` for a Bernoulli decoder; a Student-t's is its scale
    times :data:`STUDENT_T_STD`.
    """
    loc, variance = decoded
    if likelihood == "bernoulli":
        p = torch.sigmoid(loc)
        return (p * (1 - p)).sqrt()
    std = torch.ones_like(loc) if variance is None else variance.sqrt().expand_as(loc)
    return std * STUDENT_T_STD if likelihood == "student_t" else std


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


def named_factor_loss(mu, targets):
    """The two named-factor terms of a batch: supervision and leakage (:mod:`skbvae._named_factors`).

    Parameters
    ----------
    mu : tensor of shape (n, latent_dim)
        Posterior means; the first ``n_named`` latents are the named ones.
    targets : tensor of shape (n, n_named)
        Standardised factor values, NaN where not measured.

    Returns
    -------
    supervision : tensor
        Squared error of each named latent's mean against its factor, averaged
        over the rows where the factor is known and summed over factors.
    leakage : tensor
        Squared correlation, within the batch, of every free latent's mean with
        every factor (on the factor's known rows), summed: 0 when the free
        latents carry none of the factors linearly.
    """
    n_named = targets.shape[1]
    known = torch.isfinite(targets)
    weight = known.to(mu.dtype)
    counts = weight.sum(dim=0)
    values = torch.where(known, targets, torch.zeros_like(targets))
    error = (mu[:, :n_named] - values).pow(2) * weight
    supervision = (error.sum(dim=0) / counts.clamp(min=1)).sum()
    free = mu[:, n_named:]
    if free.shape[1] == 0:
        return supervision, torch.zeros_like(supervision)
    # Per factor k, over its known rows: centred free latents (n, k, j) and centred factor (n, k).
    free_mean = (weight.T @ free) / counts.clamp(min=1)[:, None]
    free_c = (free[:, None, :] - free_mean[None]) * weight[:, :, None]
    target_mean = values.sum(dim=0) / counts.clamp(min=1)
    target_c = (values - target_mean) * weight
    cov = torch.einsum("nkj,nk->kj", free_c, target_c)
    var_free = free_c.pow(2).sum(dim=0)
    var_target = target_c.pow(2).sum(dim=0)
    correlation2 = cov.pow(2) / (var_free * var_target[:, None] + 1e-8)
    leakage = (correlation2 * (counts >= 3)[:, None]).sum()
    return supervision, leakage


class BetaVAELoss(nn.Module):
    """Training objective of a β-VAE, averaged over the batch.

    ``capacity=None`` gives the β-VAE of Higgins et al. (2017),
    ``recon + β·KL``; a float gives the capacity-controlled objective of
    Burgess et al. (2018), ``recon + β·|KL − C(t)|``, where KL is the batch-mean
    total KL and C(t) comes from :func:`capacity_target` (annealed per
    optimizer step on the batch-mean KL, as disentanglement_lib does).

    With a ``group_prior`` and the batch's group codes, the KL is taken
    against each row's group prior (iVAE) instead of N(0, I). With the
    batch's named-factor targets, ``factor_weight`` times the terms of
    :func:`named_factor_loss` is added (not to the ELBO the history reports).

    ``forward`` returns the scalar objective and the detached batch means of
    the reconstruction NLL and KL, so the training loop can log them without
    recomputation.
    """

    def __init__(self, likelihood="gaussian", beta=1.0, capacity=None, capacity_steps=1, group_prior=None,
                 factor_weight=0.0, leakage_ratio=1.0):
        super().__init__()
        self.factor_weight = factor_weight
        self.leakage_ratio = leakage_ratio
        self.likelihood = likelihood
        self.beta = beta
        self.capacity = capacity
        self.capacity_steps = capacity_steps
        # A GroupPrior when fit was given groups for the "prior" method, else None.
        self.group_prior = group_prior

    def target(self, step):
        """Capacity in nats at optimizer step ``step`` (None without capacity)."""
        if self.capacity is None:
            return None
        return capacity_target(step, self.capacity, self.capacity_steps)

    def forward(self, output, x, step=0, groups=None, factors=None):
        decoded, mu, logvar = output
        recon = reconstruction_nll(x, decoded, self.likelihood).mean()
        if self.group_prior is not None and groups is not None:
            if self.training:
                self.group_prior.update(mu, logvar, groups)
            kl = self.group_prior.kl(mu, logvar, groups).sum(dim=1).mean()
        else:
            kl = kl_per_latent(mu, logvar).sum(dim=1).mean()
        if self.capacity is None:
            objective = recon + self.beta * kl
        else:
            objective = recon + self.beta * (kl - self.target(step)).abs()
        if factors is not None and self.training:
            supervision, leakage = named_factor_loss(mu, factors)
            objective = objective + self.factor_weight * (supervision + self.leakage_ratio * leakage)
        return objective, recon.detach(), kl.detach()
