"""How long and on what a β-VAE trains: epochs, capacity ramp, validation and early stopping.

The estimator describes training with scikit-learn's words (``max_epochs``,
``early_stopping``, ``validation_fraction``, ``n_iter_no_change``, ``tol``);
this module turns them into a :class:`~skbvae._net.BetaVAENet` with skorch's own
``ValidSplit`` and ``EarlyStopping``.
"""

import math

import torch
from skorch.callbacks import EarlyStopping
from skorch.dataset import ValidSplit

from . import _named_factors
from ._groups import GroupPrior
from ._loss import BetaVAELoss
from ._modules import BetaVAEModule
from ._net import BetaVAENet
from ._progress import EpochProgress
from ._warnings import warn_user

#: ``max_epochs="auto"`` trains for at least this many optimizer steps. 50
#: epochs are ~100 steps on 500 rows, which left held-out reconstruction error
#: at 0.375 against PCA(10)'s 0.201 (standardized units); see
#: ``benchmarks/bench_defaults.py`` for the measurement behind the figure.
AUTO_MIN_STEPS = 4000
#: ... and for at least this many epochs (large data reach the step budget in
#: a few epochs; every row should still be seen several times).
AUTO_MIN_EPOCHS = 20
#: ... and at most this many epochs (tiny data would otherwise loop for long).
AUTO_MAX_EPOCHS = 2000

def resolve_max_epochs(max_epochs, n_samples, batch_size):
    """Number of epochs for ``max_epochs`` (an int, or "auto": a step budget)."""
    if max_epochs != "auto":
        return int(max_epochs)
    steps_per_epoch = math.ceil(n_samples / batch_size)
    epochs = math.ceil(AUTO_MIN_STEPS / steps_per_epoch)
    return int(min(AUTO_MAX_EPOCHS, max(AUTO_MIN_EPOCHS, epochs)))


def resolve_capacity_steps(capacity_steps, max_epochs, n_samples, batch_size):
    """Steps of the capacity ramp: given, or the whole run, so that C(t) reaches C at its end.

    An earlier release ramped over at least 1,000 steps, so that a few-step
    run could not raise C faster than the KL follows; it made the seed
    article's own setup (50 epochs, 450 steps on 2,000 beats) end at
    C(t) = 11 of 25 nats and warn. A short run is the user's choice; a
    capacity it never reaches is not.
    """
    if capacity_steps is not None:
        return int(capacity_steps)
    return max_epochs * math.ceil(n_samples / batch_size)


def build_net(estimator, *, n_features, n_samples, hidden, device, seed, group_sizes=None, group_method=None,
              group_shrinkage=0.0, factor_targets=None, rate_warp=None):
    """A new, uninitialised :class:`~skbvae._net.BetaVAENet` configured from ``estimator``'s parameters.

    ``group_sizes`` (rows per group), ``group_method`` and ``group_shrinkage`` when ``fit`` was
    given groups (:mod:`skbvae._groups`); ``factor_targets`` (standardised named factors, NaN where
    unknown) when it was given factors (:mod:`skbvae._named_factors`); ``rate_warp`` (the
    :class:`~skbvae._time_warp.RateWarp` arguments) when the decoder is warped by a rate factor.
    """
    group_prior = None
    if group_sizes is not None and group_method == "prior":
        group_prior = GroupPrior(group_sizes, estimator.latent_dim, shrinkage=group_shrinkage)
    batch_size = min(estimator.batch_size, n_samples)
    max_epochs = resolve_max_epochs(estimator.max_epochs, n_samples, batch_size)
    callbacks, train_split = [], None
    if estimator.early_stopping:
        n_valid = math.ceil(estimator.validation_fraction * n_samples)
        if n_valid < 1 or n_samples - n_valid < 1:
            raise ValueError(
                f"early_stopping needs at least one training and one validation row; "
                f"validation_fraction={estimator.validation_fraction} of n_samples={n_samples} "
                f"leaves {n_samples - n_valid} for training."
            )
        n_train = n_samples - n_valid
        batch_size = min(batch_size, n_train)
        train_split = ValidSplit(estimator.validation_fraction, random_state=seed)
        callbacks.append(("early_stopping", EarlyStopping(
            monitor="valid_loss", patience=estimator.n_iter_no_change, threshold=estimator.tol,
            threshold_mode="abs", lower_is_better=True, load_best=True,
            sink=print if estimator.verbose >= 2 else _silent,
        )))
        n_samples = n_train
    if estimator.verbose == 1:
        # One bar over the epochs on a terminal, a line every few seconds in a
        # log: a bar within each epoch, written to a log file, made 108 KB of
        # one fit's output, and the per-epoch table 508 lines for a 35 s fit.
        callbacks.append(("progress", EpochProgress(type(estimator).__name__)))
    return BetaVAENet(
        BetaVAEModule,
        module__n_features=n_features,
        module__latent_dim=estimator.latent_dim,
        module__architecture=estimator.architecture,
        module__hidden_layer_sizes=hidden,
        module__decoder_variance=estimator._resolved_decoder_variance(),
        module__n_channels=estimator.n_channels,
        module__var_smoothing=float(estimator.var_smoothing),
        module__rate_warp=rate_warp,
        criterion=BetaVAELoss,
        criterion__likelihood=estimator._resolved_likelihood(),
        criterion__beta=estimator._resolved_beta(),
        criterion__capacity=None if estimator.capacity is None else float(estimator.capacity),
        criterion__capacity_steps=resolve_capacity_steps(
            estimator.capacity_steps, max_epochs, n_samples, batch_size),
        criterion__group_prior=group_prior,
        criterion__factor_weight=float(estimator.factor_weight),
        criterion__leakage_ratio=_named_factors.LEAKAGE_RATIO,
        factor_targets=factor_targets,
        group_method=None if group_sizes is None else group_method,
        optimizer=torch.optim.Adam,
        # Fused Adam runs the whole update in one kernel on CUDA.
        optimizer__fused=torch.device(device).type == "cuda" or None,
        lr=estimator.lr,
        max_epochs=max_epochs,
        batch_size=batch_size,
        train_split=train_split,
        callbacks=callbacks,
        device=device,
        verbose=int(estimator.verbose >= 2),  # skorch's per-epoch table (EpochTable)
        shuffle_seed=seed,
        autocast_dtype=torch.bfloat16 if estimator.precision == "bfloat16" else None,
        compile=estimator.compile,
    )


def check_capacity(history, capacity, beta, capacity_steps):
    """Warn once when a capacity run did not do what ``capacity`` asks, and say what to change.

    Two ways it silently does nothing: the ramp C(t) never reached
    ``capacity`` (too few optimizer steps for ``capacity_steps``), or the KL
    stayed above C(t) once it got there, where ``beta * |KL - C(t)|`` has the
    gradient of ``beta * KL``, so the capacity changed nothing (β 0.25 with C
    = None, 10 and 25 gave the same scores to six digits).

    Parameters
    ----------
    history : pandas.DataFrame
        The estimator's ``history_`` (columns ``kl`` and ``capacity``).
    capacity : float or None
    beta : float
        The resolved β (the γ that holds the KL at C(t)).
    capacity_steps : int
        Steps of the ramp.
    """
    if capacity is None or len(history) == 0 or capacity <= 0:
        return
    reached = float(history["capacity"].iloc[-1])
    if reached < 0.99 * capacity:
        warn_user(
            f"capacity={capacity:g}: the ramp reached C(t) = {reached:.3g} nats, not {capacity:g}: its "
            f"capacity_steps={capacity_steps} optimizer steps outlast this fit. Train for more epochs "
            "(max_epochs), or set capacity_steps lower or to None (the whole run).", UserWarning)
    # The KL starts near 0, under C(t); what matters is whether C(t) ever held it.
    late = history.iloc[len(history) // 2:]
    kl_end = float(history["kl"].iloc[-1])
    if (late["kl"] > late["capacity"]).all() and kl_end > 1.1 * capacity:
        warn_user(
            f"capacity={capacity:g}: the KL stayed above the target C(t) over the second half of "
            f"training ({kl_end:.3g} nats at the end), so beta * |KL - C(t)| acted as beta * KL and the "
            f"capacity changed little. Raise beta (here {beta:g}; the γ that holds the KL at C(t), 4-1000 "
            "in Burgess et al. and disentanglement_lib) or the capacity.", UserWarning)


def _silent(*args, **kwargs):
    """A sink that drops EarlyStopping's message when ``verbose=0``."""
