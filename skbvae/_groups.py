"""Training with groups: the beats of one record, the windows of one day.

Disentanglement from unlabelled data is not identifiable (Locatello et al.,
2019): a Gaussian prior gives the same likelihood to every rotation of the
code. Rows that share a group (a patient's record) are weak supervision a user
already has. ``fit(X, groups=...)`` uses it twice:

- in training, by the method :data:`GROUP_METHOD`, chosen by
  ``benchmarks/bench_groups.py`` and ``benchmarks/bench_patients.py`` among three:

  - ``"prior"`` (iVAE, Khemakhem et al., 2020; the one used): each group has
    its own factorised Gaussian prior p(z | g) = N(m_g, diag s_g²), the
    moments of its rows' posteriors (the maximum of the ELBO over ``m_g`` and
    ``s_g`` given the encoder, as the "shared" decoder variance is the maximum
    over σ), kept as running averages (:class:`GroupPrior`) and standardised
    together so that the mixture of all groups' priors has zero mean and unit
    variance per latent. When the groups' spreads differ from latent to
    latent (one patient's heart rate varies a lot, another's T wave), only
    an axis-aligned code fits every group's prior.
    With groups too small to estimate a prior from (the median group under
    :data:`MIN_ROWS_FOR_GROUP_PRIOR` rows), groups act through the rotation
    only, as ``"rotation"`` below (:func:`training_method`).
  - ``"rotation"``: training ignores the groups; they act in the rotation only.
  - ``"pairs"`` (Ada-GVAE, Locatello et al., 2020; measured, not used): each
    training row is paired with another row of its group in the same batch
    (:func:`partners_in_batch`); the latents on which their posteriors differ
    least (symmetric KL below the midpoint of the pair's smallest and largest)
    are averaged between the two (:func:`adaptive_average`), so a pair must
    share them. It disentangled beats in synthetic records a little better
    (MIG 0.298 against 0.277) but lost to a fit without groups on every real
    data set, where beats of one group differ in all features at once and the
    averaging throws information away.

- in the rotation: ``rotation="ica"`` is fitted on the codes' deviations from
  their group's mean (:func:`skbvae._rotation.fit_rotation`).

Only fitting uses groups: the encoder sees the signal alone, so ``transform``
and the other methods encode rows of groups never seen in fit.
"""

import numpy as np
import pandas as pd
import torch
from torch import nn

from ._loss import kl_per_latent
from ._scaling import _mean_and_std
from ._warnings import warn_user

#: How ``fit(X, groups=...)`` uses the groups (see the module docstring).
GROUP_METHODS = ("prior", "pairs", "rotation")
#: The one the estimator uses; chosen by ``benchmarks/bench_groups.py`` and
#: ``benchmarks/bench_patients.py`` (which set it to measure the others).
#: "rotation": groups act only through the ICA rotation, not in training.
GROUP_METHOD = "prior"
#: How far each group's prior mean is shrunk toward the overall mean (0: not at all, 1: no groups):
#: a hierarchical prior, so that what differs between groups is not left free of the KL. Measured
#: at 0.5 (``benchmarks/bench_patients.py``): no better than 0 on any set, worse on synthetic records.
GROUP_SHRINKAGE = 0.0

#: Rows the median group must hold for ``"prior"`` to be used; with fewer, groups act through the
#: rotation only (:func:`training_method`). A group's prior is the moments of its rows' posteriors:
#: from ~10 rows per group (LUDB's 10 s per patient) they follow those rows, held-out ELBO fell by
#: 6 nats per beat on 15 of 15 LUDB fold-seeds and by 4-9 on synthetic records of 10 beats, with no
#: gain in MIG, while with 30 rows or more (synthetic records; MIT-BIH patients) the prior gained
#: the most MIG (``benchmarks/bench_patients.py``).
MIN_ROWS_FOR_GROUP_PRIOR = 20

#: Share of the (scaled) signal's variance between groups below which ``fit``
#: warns that the groups say little. Measured (``benchmarks/bench_groups.py``):
#: beats in records 0.69 and the shared real records 0.60, where groups raised
#: MIG; MIT-BIH 100 cut into one-minute groups 0.09 (MLII) and 0.14 (V5),
#: where they lowered it (MLII) or changed nothing (V5).
MIN_BETWEEN_GROUP_SHARE = 0.25

# A group's prior variance is at least this share of the latent's total
# variance: a latent that only says which group a row is in has a
# within-group spread of ~0, and the KL of a row against it would blow up.
_MIN_GROUP_VARIANCE = 1e-3


#: Share of the groups held out when ``fit`` chooses between "prior" and "rotation" by held-out ELBO.
SELECTION_HELD_OUT = 0.2
#: Whether fit makes that choice (else the row-count rule alone; ``benchmarks/bench_patients.py`` compares).
SELECT_BY_HELD_OUT = True

_FORCED_METHOD = []  # set by forced_method() while fit trains its candidates


class forced_method:  # noqa: N801 - used as a context manager
    """While active, :func:`training_method` returns ``method`` (``fit``'s candidates train with it)."""

    def __init__(self, method):
        self.method = method

    def __enter__(self):
        _FORCED_METHOD.append(self.method)

    def __exit__(self, *exc):
        _FORCED_METHOD.pop()


def selecting():
    """Whether ``fit`` should choose the method by held-out ELBO (not while training a candidate)."""
    return SELECT_BY_HELD_OUT and not _FORCED_METHOD and GROUP_METHOD == "prior"


def held_out_split(codes, seed):
    """A boolean mask of the rows of :data:`SELECTION_HELD_OUT` of the groups (at least one group)."""
    n_groups = int(codes.max()) + 1
    rng = np.random.default_rng(seed)
    held = rng.permutation(n_groups)[:max(1, int(round(SELECTION_HELD_OUT * n_groups)))]
    return np.isin(codes, held)


def training_method(sizes):
    """How ``fit`` uses groups of these sizes: :data:`GROUP_METHOD`, or ``"rotation"`` when the
    median group holds fewer than :data:`MIN_ROWS_FOR_GROUP_PRIOR` rows to estimate a prior from.

    >>> training_method([30, 40, 25]), training_method([10, 12, 9])
    ('prior', 'rotation')
    """
    if _FORCED_METHOD:
        return _FORCED_METHOD[-1]
    if GROUP_METHOD == "prior" and np.median(sizes) < MIN_ROWS_FOR_GROUP_PRIOR:
        return "rotation"
    return GROUP_METHOD


def check_groups(groups, n_samples):
    """Group ids as consecutive integer codes, with errors that name what is wrong.

    Parameters
    ----------
    groups : array-like of shape (n_samples,)
        Any hashable ids (record names, patient numbers, dates).
    n_samples : int
        Rows of ``X``.

    Returns
    -------
    codes : ndarray of int64, shape (n_samples,)
        ``0 .. n_groups - 1``, in the order of the sorted ids.
    sizes : ndarray of int64, shape (n_groups,)
        Rows per group.
    """
    ids = np.asarray(groups, dtype=object) if not hasattr(groups, "dtype") else np.asarray(groups)
    if ids.ndim != 1:
        raise ValueError(f"groups must be 1-D, one id per row of X; got an array of shape {ids.shape}.")
    if len(ids) != n_samples:
        raise ValueError(f"groups has {len(ids)} entries but X has {n_samples} rows: give one group id per row.")
    missing = pd.isna(ids)
    if missing.any():
        raise ValueError(
            f"groups has {int(missing.sum())} missing id(s) (NaN or None), e.g. at row "
            f"{int(np.flatnonzero(missing)[0])}: every row needs the id of its record or group."
        )
    unique, codes, sizes = np.unique(ids.astype(str) if ids.dtype == object else ids,
                                     return_inverse=True, return_counts=True)
    if len(sizes) < 2:
        raise ValueError(
            f"groups holds one group only ({unique.tolist()[0]!r}): training with groups learns what varies within "
            "groups differently from what varies between them, which needs at least two. Fit without "
            "groups instead."
        )
    if (sizes < 2).any():
        lone = unique[sizes < 2].tolist()  # Python scalars, printed as the user wrote them
        shown = ", ".join(repr(g) for g in lone[:5]) + (" ..." if len(lone) > 5 else "")
        raise ValueError(
            f"{len(lone)} group(s) have a single row ({shown}): a group's prior is estimated from its "
            "rows (and a row is paired with another of its group), so every group needs at least two. "
            "Drop those rows or merge them into other groups."
        )
    return codes.astype(np.int64), sizes.astype(np.int64)


def group_means(X, codes, sizes):
    """Mean row of each group, in float64.

    One weighted ``bincount`` per feature: it sums in float64 without copying
    a large float32 ``X`` whole, and is ~12× faster than ``np.add.at``
    (0.19 s against 2.4 s on 200,000 × 187).
    """
    sums = np.column_stack([np.bincount(codes, weights=X[:, j], minlength=len(sizes)) for j in range(X.shape[1])])
    return sums / np.asarray(sizes)[:, None]


def within_group_deviations(X, codes, sizes):
    """Rows of ``X`` minus the mean of their group."""
    return X - group_means(X, codes, sizes)[codes]


def between_group_share(X, codes, sizes):
    """Share of the total variance of ``X`` (summed over features) that lies between the groups' means."""
    mean, std = _mean_and_std(X, axis=0)
    total = len(X) * np.square(std).sum()
    between = (np.asarray(sizes)[:, None] * (group_means(X, codes, sizes) - mean) ** 2).sum()
    return float(between / total) if total > 0 else 0.0


def warn_if_groups_say_little(X, codes, sizes):
    """Warn when rows of one group differ about as much as rows of different groups.

    Groups help when they modulate the factors (each record its own typical
    beat and its own spread); when nearly all of the signal's variance lies
    within groups, the groups' priors hardly differ and say nothing about
    which basis of the code is the right one.
    """
    share = between_group_share(X, codes, sizes)
    if share < MIN_BETWEEN_GROUP_SHARE:
        warn_user(
            f"groups: only {share:.0%} of the signal's variance lies between the means of these "
            f"{len(sizes)} groups; the rest varies within them, so the rows of a group differ almost as "
            "much as rows of different groups, and the groups say little about which basis of the code "
            "is right. Training with them may lose disentanglement (it did with one record cut into "
            "one-minute groups, benchmarks/bench_groups.py). Compare with a fit without groups by a "
            "held-out score before relying on them.", UserWarning)
    return share


class GroupPrior(nn.Module):
    """Per-group factorised Gaussian priors, the moments of each group's posteriors.

    Buffers ``mean`` (E[μ]) and ``second_moment`` (E[μ² + σ²]) per group and
    latent are running averages over training batches; each batch moves a
    group's moments by the share of the group's rows it holds, so they follow
    the last epoch's encoder. Gradients do not flow into them.

    Parameters
    ----------
    group_sizes : sequence of int
        Rows per group in the training data.
    latent_dim : int
    """

    def __init__(self, group_sizes, latent_dim, shrinkage=0.0):
        super().__init__()
        self.shrinkage = float(shrinkage)
        sizes = torch.as_tensor(np.asarray(group_sizes), dtype=torch.float32)
        self.register_buffer("sizes", sizes)
        self.register_buffer("mean", torch.zeros(len(sizes), latent_dim))
        self.register_buffer("second_moment", torch.ones(len(sizes), latent_dim))

    @torch.no_grad()
    def update(self, mu, logvar, groups):
        """Move the moments of the groups in this batch toward the batch's posteriors."""
        mu, var = mu.detach().float(), logvar.detach().float().exp()
        counts = torch.bincount(groups, minlength=len(self.sizes)).to(self.sizes.dtype)
        present = counts > 0
        sums = torch.zeros_like(self.mean).index_add_(0, groups, mu)
        squares = torch.zeros_like(self.mean).index_add_(0, groups, mu.pow(2) + var)
        weight = (counts / self.sizes).clamp(max=1.0)[present, None]
        denominator = counts[present, None]
        self.mean[present] += weight * (sums[present] / denominator - self.mean[present])
        self.second_moment[present] += weight * (squares[present] / denominator - self.second_moment[present])

    def moments(self):
        """Prior means and variances of every group, standardised over all rows: (n_groups, latent_dim) each."""
        weights = (self.sizes / self.sizes.sum())[:, None]
        centre = (weights * self.mean).sum(dim=0)
        total = ((weights * self.second_moment).sum(dim=0) - centre.pow(2)).clamp(min=1e-8)
        variance = (self.second_moment - self.mean.pow(2)).clamp(min=_MIN_GROUP_VARIANCE * total)
        means, variances = (self.mean - centre) / total.sqrt(), variance / total
        if self.shrinkage:
            # Each group's prior moves toward N(0, 1): its mean shrinks, its variance takes up the rest.
            keep = 1.0 - self.shrinkage
            means, variances = keep * means, keep * variances + self.shrinkage
        return means, variances

    def kl(self, mu, logvar, groups):
        """KL(q(z|x) || p(z|g)) of each latent, in nats, shape (n, latent_dim)."""
        means, variances = self.moments()
        return kl_per_latent(mu, logvar, means[groups], variances[groups])


def partners_in_batch(groups, generator=None):
    """Disjoint pairs of rows of one group within a batch: each row's partner, or -1.

    Rows are ordered by group with random order within a group, and
    consecutive rows of a group are paired (1st with 2nd, 3rd with 4th...);
    a group with an odd count in the batch leaves one row unpaired, as does a
    group with a single row there. ``partners[partners[i]] == i`` for every
    paired row.
    """
    n = len(groups)
    positions = torch.arange(n, device=groups.device)
    noise = torch.rand(n, device=groups.device, generator=generator)
    order = torch.argsort(groups.double() + 0.5 * noise)  # by group, random within a group
    sorted_groups = groups[order]
    starts = torch.ones(n, dtype=torch.bool, device=groups.device)
    starts[1:] = sorted_groups[1:] != sorted_groups[:-1]
    rank = positions - torch.cummax(torch.where(starts, positions, 0), dim=0).values  # rank within the group
    follower = (positions + 1).clamp(max=n - 1)
    has_follower = (positions + 1 < n) & (sorted_groups[follower] == sorted_groups)
    partner = torch.full_like(positions, -1)
    first = (rank % 2 == 0) & has_follower
    partner[first] = positions[first] + 1
    second = rank % 2 == 1
    partner[second] = positions[second] - 1
    partners = torch.full_like(positions, -1)
    partners[order] = torch.where(partner >= 0, order[partner.clamp(min=0)], -1)
    return partners


def adaptive_average(mu, logvar, partners):
    """Ada-GVAE: average a row's posterior with its partner's on the latents where they differ least.

    For a pair, the KL of each latent's posterior from the partner's is
    compared with the midpoint of the pair's smallest and largest; latents
    below it are taken as shared and both rows get the average posterior
    (mean of the means, mean of the variances), as in Locatello et al. (2020)
    and disentanglement_lib. Rows without a partner (-1) are left as they are.
    """
    paired = partners >= 0
    if not paired.any():
        return mu, logvar
    other = partners.clamp(min=0)
    mu2, logvar2 = mu[other], logvar[other]
    var, var2 = logvar.exp(), logvar2.exp()
    # The symmetric KL, so both rows of a pair choose the same latents.
    delta = 0.5 * ((var + (mu - mu2).pow(2)) / var2 + (var2 + (mu - mu2).pow(2)) / var - 2.0)
    threshold = 0.5 * (delta.max(dim=1, keepdim=True).values + delta.min(dim=1, keepdim=True).values)
    shared = (delta < threshold) & paired[:, None]
    mu = torch.where(shared, 0.5 * (mu + mu2), mu)
    logvar = torch.where(shared, torch.log(0.5 * (var + var2)), logvar)
    return mu, logvar
