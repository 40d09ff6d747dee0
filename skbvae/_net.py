"""The skorch network that trains a β-VAE from a device-resident array.

skorch's default path wraps the data in a per-item ``Dataset`` and a CPU
``DataLoader`` and calls ``loss.item()`` after every batch. For a small MLP
that overhead dominates (NOTES §3: ×1.6 slower on CPU, ×10 on a GPU at large
batches). This subclass keeps skorch's loop, callbacks and history, and swaps
three hooks: the training array goes to the device once (``get_dataset``),
batches are sliced there (``get_iterator``), and losses are summed on the
device and read back once per epoch (``run_single_epoch``).
"""

import math

import torch
from skorch import NeuralNet
from skorch.callbacks import EpochTimer
from skorch.dataset import unpack_data
from torch.utils.data import Subset

from ._device import to_device
from ._groups import partners_in_batch
from ._progress import EpochTable, SharedCoresWarning, SlowEpochWarning
from .exceptions import TrainingDivergedError


class _Rows:
    """Signals with their group codes and named-factor targets (either may be None), on one device, indexed together."""

    def __init__(self, x, groups=None, factors=None):
        self.x, self.groups, self.factors = x, groups, factors

    def __len__(self):
        return len(self.x)

    def __getitem__(self, index):
        return _Rows(self.x[index], *(None if a is None else a[index] for a in (self.groups, self.factors)))

    @property
    def device(self):
        return self.x.device


class _DeviceBatches:
    """Iterate over ``(batch, None)`` slices of a tensor already on its device.

    For :class:`_Rows` the slices are ``(signals, (group codes, factor targets))``.

    When ``generator`` is given the rows are permuted once per epoch, on the
    device, so a batch is a contiguous slice rather than a gather.
    """

    def __init__(self, data, batch_size, generator=None):
        self.data = data
        self.batch_size = batch_size
        self.generator = generator

    def __len__(self):
        return math.ceil(len(self.data) / self.batch_size)

    def __iter__(self):
        data = self.data
        if self.generator is not None:
            order = torch.randperm(len(data), device=data.device, generator=self.generator)
            data = data[order]
        for start in range(0, len(data), self.batch_size):
            batch = data[start:start + self.batch_size]
            yield (batch.x, (batch.groups, batch.factors)) if isinstance(batch, _Rows) else (batch, None)


class BetaVAENet(NeuralNet):
    """skorch ``NeuralNet`` for :class:`~skbvae._modules.BetaVAEModule`.

    Built by :class:`skbvae.BetaVAETransformer`; users normally reach it as
    ``estimator.net_`` (for its ``history``, ``module_`` and callbacks).

    Parameters
    ----------
    module, criterion, **kwargs
        As for :class:`skorch.NeuralNet`. The criterion must be a
        :class:`~skbvae._loss.BetaVAELoss`.
    shuffle_seed : int
        Seed of the device-side generator that shuffles rows every epoch.
    autocast_dtype : torch.dtype or None
        If given (``torch.bfloat16``), forward passes during training run under
        ``torch.autocast`` in that dtype; outputs, loss and optimizer state
        stay float32.
    factor_targets : array of shape (n_samples, n_named) or None
        Standardised values of the named factors of the rows ``fit`` is
        given (NaN where unknown), for the criterion's named-factor terms.
    group_method : {"prior", "pairs"} or None
        How the group codes passed to ``fit`` as ``y`` are used
        (:mod:`skbvae._groups`): "prior" leaves them to the criterion's
        :class:`~skbvae._groups.GroupPrior`; "pairs" pairs rows of one group
        in each training batch and averages their shared latents.

    Notes
    -----
    The history holds, per epoch, ``train_loss`` (the objective),
    ``reconstruction`` (nats per sample), ``kl`` (nats per sample) and
    ``capacity`` (the capacity target at the epoch's end, or None); with a
    ``train_split``, also ``valid_loss``: the β = 1 negative ELBO of the
    held-out rows (one reparameterised draw per row), in nats per sample.
    """

    def __init__(self, module, *args, shuffle_seed=0, autocast_dtype=None, group_method=None, factor_targets=None,
                 **kwargs):
        super().__init__(module, *args, **kwargs)
        self.shuffle_seed = shuffle_seed
        self.autocast_dtype = autocast_dtype
        self.group_method = group_method
        # Standardised named factors of the rows fit is given (NaN where unknown), or None;
        # set for one fit and cleared after it (skbvae._named_factors).
        self.factor_targets = factor_targets

    @property
    def _default_callbacks(self):
        return [("epoch_timer", EpochTimer()), ("slow_epoch_warning", SlowEpochWarning()),
                ("shared_cores_warning", SharedCoresWarning()),
                ("print_log", EpochTable())]

    def initialize(self):
        super().initialize()
        self.optimizer_steps_ = 0
        return self

    def _set_training(self, training=True):
        # skorch sets the mode on every batch; walking the module tree each time
        # costs ~3 % of a small model's step, so switch only when it changes.
        if self.module_.training != training:
            super()._set_training(training)

    def get_dataset(self, X, y=None):
        # y, when given, holds the rows' group codes (fit(X, groups=...)).
        X = to_device(X, self.device)
        if y is None and self.factor_targets is None:
            return X
        groups = None if y is None else to_device(y, self.device, dtype=torch.long)
        factors = None if self.factor_targets is None else to_device(self.factor_targets, self.device)
        return _Rows(X, groups, factors)

    def get_split_datasets(self, X, y=None, **fit_params):
        # skorch's ValidSplit returns index Subsets of the device tensor; gather
        # them once so every epoch slices contiguous device memory.
        train, valid = super().get_split_datasets(X, y, **fit_params)
        return tuple(
            d.dataset[torch.as_tensor(d.indices, device=d.dataset.device)] if isinstance(d, Subset) else d
            for d in (train, valid)
        )

    def get_iterator(self, dataset, training=False):
        generator = None
        if training:
            generator = torch.Generator(device=dataset.device)
            generator.manual_seed(self.shuffle_seed)
        return _DeviceBatches(dataset, self.batch_size, generator)

    def infer(self, x, **fit_params):
        if self.autocast_dtype is None:
            return super().infer(x, **fit_params)
        with torch.autocast(torch.device(self.device).type, dtype=self.autocast_dtype):
            (loc, variance), mu, logvar = super().infer(x, **fit_params)
        variance = None if variance is None else variance.float()
        return (loc.float(), variance), mu.float(), logvar.float()

    def get_loss(self, y_pred, y_true, X=None, training=False):
        # y_true is the batch's (group codes, factor targets), or None without either.
        groups, factors = (None, None) if y_true is None else y_true
        objective, recon, kl = self.criterion_(y_pred, X, step=self.optimizer_steps_, groups=groups,
                                               factors=factors)
        self._batch_terms = (recon, kl)
        if not training:
            # Held-out data is scored by the β = 1 negative ELBO, which does not
            # depend on beta or the capacity target, so early stopping compares
            # like with like across epochs of a moving capacity schedule.
            return recon + kl
        return objective

    def validation_step(self, batch, **fit_params):
        # A reparameterised draw, as in training: decoding the posterior mean
        # would score a deterministic autoencoder instead of the ELBO.
        return super().validation_step(batch, sample=True, **fit_params)

    def train_step_single(self, batch, **fit_params):
        # skorch's, with the pairs of the "pairs" group method drawn per batch.
        self._set_training(True)
        Xi, extras = unpack_data(batch)
        groups = None if extras is None else extras[0]
        if groups is not None and self.group_method == "pairs":
            fit_params = {**fit_params, "partners": partners_in_batch(groups)}
        y_pred = self.infer(Xi, **fit_params)
        loss = self.get_loss(y_pred, extras, X=Xi, training=True)
        loss.backward()
        return {"loss": loss, "y_pred": y_pred}

    def train_step(self, batch, **fit_params):
        step = super().train_step(batch, **fit_params)
        self.optimizer_steps_ += 1
        return step

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        if iterator is None:
            return
        if not training:
            # The same reparameterisation noise every epoch (common random
            # numbers): epochs then differ by the weights alone, not by the draw,
            # so early stopping is not ended by noise on small validation sets.
            device = torch.device(iterator.data.device)
            with torch.random.fork_rng(devices=[device.index or 0] if device.type == "cuda" else []):
                torch.manual_seed(self.shuffle_seed)
                return self._run_epoch(iterator, training, prefix, step_fn, **fit_params)
        return self._run_epoch(iterator, training, prefix, step_fn, **fit_params)

    def _run_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        totals = torch.zeros(3, device=iterator.data.device)
        n_seen = 0
        for batch in iterator:
            self.notify("on_batch_begin", batch=batch, training=training)
            step = step_fn(batch, **fit_params)
            size = len(batch[0])
            totals += torch.stack([step["loss"].detach(), *self._batch_terms]) * size
            n_seen += size
            self.notify("on_batch_end", batch=batch, training=training, **step)
        # The epoch's only host synchronisation.
        loss, recon, kl = (totals / max(n_seen, 1)).tolist()
        if not all(math.isfinite(v) for v in (loss, recon, kl)):
            epoch = len(self.history)
            raise TrainingDivergedError(
                f"Training diverged in epoch {epoch}: the {prefix} loss became "
                f"{loss} (reconstruction {recon}, KL {kl}). Lower the learning "
                "rate (lr), scale the inputs (scaling='standard'), or lower beta."
            )
        self.history.record(prefix + "_loss", loss)
        self.history.record(prefix + "_batch_count", len(iterator))
        if training:
            self.history.record("reconstruction", recon)
            self.history.record("kl", kl)
            self.history.record("capacity", self.criterion_.target(self.optimizer_steps_))
