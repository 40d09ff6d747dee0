"""β-VAE as a scikit-learn transformer."""

import copy
import math
from numbers import Integral, Real

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from ._device import out_of_memory_advice, resolve_device, to_device
from ._loss import BetaVAELoss, decoder_mean, kl_per_latent, reconstruction_nll
from ._modules import DEFAULT_HIDDEN, BetaVAEModule
from ._net import BetaVAENet
from ._scaling import SCALINGS, fit_scaling, scale_to_float32

# Rows per inference batch: large enough to amortise per-call overhead, small
# enough that intermediates stay a bounded working set (a few MB per layer).
_INFERENCE_BATCH = 8192
# Posterior draws of the ELBO estimate in ``score_samples``. The draws are the
# same for every row, so each row's score depends on that row alone.
_SCORE_DRAWS = 16
_FLOAT_DTYPES = (np.float64, np.float32)
_INPUT_ATTRIBUTES = ("n_features_in_", "feature_names_in_")


class BetaVAETransformer(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Disentangled features of 1-D signals from a β-VAE.

    Fits a variational autoencoder with a weighted KL term to signals of a
    fixed length (heartbeats, price windows, spectra...) and transforms them
    into ``latent_dim`` features: the posterior means of the latent code.
    With ``beta > 1`` or a capacity target the latents tend to align with
    independent generating factors of the data (Higgins et al., 2017; Burgess
    et al., 2018), so each one can be looked at (:meth:`traverse`), edited
    and decoded (:meth:`inverse_transform`), or sampled (:meth:`sample`).

    The network is trained by a skorch ``NeuralNet`` (kept in ``net_``) on
    CPU or GPU. Inputs are scaled inside the estimator and every decoded
    output is returned in the input's own units.

    Parameters
    ----------
    latent_dim : int, default=10
        Number of latent dimensions, i.e. of output features.

    beta : float, default=4.0
        Weight of the KL term. Without ``capacity`` the loss is
        ``recon + beta * KL`` (Higgins et al.); with it,
        ``recon + beta * |KL - C(t)|`` (Burgess et al.), where ``beta`` is the
        γ that holds the KL near the target ``C(t)``. ``beta=1`` without
        capacity is a plain VAE.

    capacity : float or None, default=25.0
        Final KL capacity ``C_max`` in nats (total over latents, per sample).
        ``None`` selects the Higgins objective.

    capacity_steps : int or None, default=None
        Optimizer steps over which ``C(t)`` grows linearly from 0 to
        ``capacity``; ``None`` spreads it over the whole run
        (``max_epochs * ceil(n_samples / batch_size)`` steps).

    architecture : {"mlp", "conv1d", "broadcast"}, default="mlp"
        Fully connected encoder/decoder; strided 1-D convolutions for
        signals whose features are ordered in time (any length); or an MLP
        encoder with a spatial broadcast decoder (Watters et al., 2019), which
        decodes every timepoint from the code and the timepoint's position.
        "broadcast" lets a single latent move a wave in time: on
        :func:`~skbvae.datasets.make_heartbeats` with ``beta=0.25`` and no
        capacity, heart rate (which moves the next beat) gets its own latent
        (MIG gap 0.24 against 0.02 for "mlp", mean of 3 seeds); with the
        default C = 25 nats it is spread over several latents again. Its
        decoder costs ~14× the MLP's on a CPU.

    hidden_layer_sizes : tuple of int or None, default=None
        Widths of the hidden layers ("mlp", and the encoder of "broadcast")
        or channel counts of the convolutions ("conv1d"), from the input
        side; the "mlp" and "conv1d" decoders mirror them. ``None`` means
        (256, 128) for "mlp" and "broadcast" and (32, 64, 64) for "conv1d".

    likelihood : {"gaussian", "bernoulli"}, default="gaussian"
        Decoder distribution. "gaussian" has unit variance in scaled units
        (a summed squared error); "bernoulli" suits signals in [0, 1].

    scaling : {"auto", "standard", "global", "minmax"} or None, default="auto"
        How inputs are scaled before the network (undone on outputs).
        "standard": per-feature zero mean, unit variance. "global": one mean
        and standard deviation for all features (keeps their relative size,
        e.g. volatility along a price path). "minmax": per-feature to [0, 1].
        None: as given. "auto" is "standard" for the Gaussian likelihood and
        "minmax" for the Bernoulli one.

    max_epochs : int, default=50
        Passes over the training data.

    batch_size : int, default=256
        Rows per optimizer step (capped at the number of samples).

    lr : float, default=5e-4
        Learning rate of Adam.

    device : str, default="auto"
        "auto" (CUDA when available, else CPU), "cpu", "cuda", "cuda:N" or "mps".

    compile : bool, default=False
        Compile the network with ``torch.compile`` for training (through
        skorch's ``compile`` option). Compilation costs tens of seconds up
        front, so it pays for long runs, chiefly on GPUs where a small model is
        bound by kernel launches. Inference uses the uncompiled module.

    precision : {"float32", "bfloat16"}, default="float32"
        Training precision. "bfloat16" runs the forward passes under
        ``torch.autocast`` (mixed precision: the loss and Adam's state stay
        float32); it pays on GPUs with bf16 tensor cores. Inference always runs
        in the input's dtype.

    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling and reparameterisation noise.
        Pass an int for reproducible fits. PyTorch's global random state is
        left untouched.

    verbose : int, default=0
        0 is silent; 1 prints a per-epoch table (loss, reconstruction, KL,
        capacity, duration) through skorch's ``PrintLog``.

    Attributes
    ----------
    net_ : skbvae._net.BetaVAENet
        The fitted skorch network (``net_.module_`` is the torch module,
        ``net_.history`` skorch's history).
    history_ : pandas.DataFrame
        One row per epoch: ``loss`` (objective), ``reconstruction`` and ``kl``
        (nats per sample, batch means), ``capacity`` (target C at the
        epoch's end; NaN without capacity) and ``dur`` (seconds).
    kl_per_latent_ : ndarray of shape (latent_dim,)
        Mean KL divergence of each latent on the training data, in nats.
        Latents above ~0.01 nats are active; the rest are unused.
    center_ : ndarray of shape (``n_features_in_``,)
        Value subtracted from each feature before the network.
    scale_ : ndarray of shape (``n_features_in_``,)
        Value each centred feature is divided by.
    n_iter_ : int
        Number of epochs run.
    n_features_in_ : int
        Number of features seen during :meth:`fit`.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Names of features seen during :meth:`fit`, when ``X`` has string
        column names.

    See Also
    --------
    sklearn.decomposition.PCA : Linear, non-probabilistic counterpart.
    sklearn.decomposition.FactorAnalysis : Linear Gaussian latent model.

    References
    ----------
    .. [1] Higgins et al. "β-VAE: Learning basic visual concepts with a
       constrained variational framework." ICLR 2017.
    .. [2] Burgess et al. "Understanding disentangling in β-VAE."
       arXiv:1804.03599, 2018.

    Examples
    --------
    >>> import numpy as np
    >>> from skbvae import BetaVAETransformer
    >>> from skbvae.datasets import make_heartbeats
    >>> X, factors = make_heartbeats(200, random_state=0)
    >>> vae = BetaVAETransformer(latent_dim=4, max_epochs=3, random_state=0)
    >>> Z = vae.fit_transform(X)
    >>> Z.shape
    (200, 4)
    >>> vae.inverse_transform(Z).shape
    (200, 187)
    >>> vae.traverse(X[:2], latents=[0, 1], values=np.linspace(-3, 3, 5)).shape
    (2, 2, 5, 187)
    """

    _parameter_constraints = {
        "latent_dim": [Interval(Integral, 1, None, closed="left")],
        "beta": [Interval(Real, 0, None, closed="left")],
        "capacity": [Interval(Real, 0, None, closed="left"), None],
        "capacity_steps": [Interval(Integral, 1, None, closed="left"), None],
        "architecture": [StrOptions({"mlp", "conv1d", "broadcast"})],
        "hidden_layer_sizes": ["array-like", None],
        "likelihood": [StrOptions({"gaussian", "bernoulli"})],
        "scaling": [StrOptions({"auto", *SCALINGS}), None],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "device": [str, torch.device],
        "compile": ["boolean"],
        "precision": [StrOptions({"float32", "bfloat16"})],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        latent_dim=10,
        *,
        beta=4.0,
        capacity=25.0,
        capacity_steps=None,
        architecture="mlp",
        hidden_layer_sizes=None,
        likelihood="gaussian",
        scaling="auto",
        max_epochs=50,
        batch_size=256,
        lr=5e-4,
        device="auto",
        compile=False,
        precision="float32",
        random_state=None,
        verbose=0,
    ):
        self.latent_dim = latent_dim
        self.beta = beta
        self.capacity = capacity
        self.capacity_steps = capacity_steps
        self.architecture = architecture
        self.hidden_layer_sizes = hidden_layer_sizes
        self.likelihood = likelihood
        self.scaling = scaling
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.device = device
        self.compile = compile
        self.precision = precision
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the β-VAE to signals ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training signals, one per row. NaN and infinite values are rejected.
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        self : BetaVAETransformer
            The fitted estimator.

        Raises
        ------
        skbvae.exceptions.TrainingDivergedError
            If the loss becomes NaN or infinite; the estimator stays unfitted.
        """
        # validate_data records n_features_in_/feature_names_in_; a failed fit
        # must leave a previously fitted model exactly as it was.
        previous = {k: v for k, v in vars(self).items() if k in _INPUT_ATTRIBUTES}
        X = validate_data(self, X, dtype=_FLOAT_DTYPES)
        try:
            self._fit(X)
        except BaseException:
            for name in _INPUT_ATTRIBUTES:
                vars(self).pop(name, None)
            vars(self).update(previous)
            raise
        return self

    def _fit(self, X):
        """Scale ``X``, train a new network on it and store the fitted state."""
        hidden = self._check_hidden_layer_sizes()
        scaling = self._resolved_scaling()
        device = resolve_device(self.device)
        center, scale = fit_scaling(X, scaling)
        X_scaled = scale_to_float32(X, center, scale)
        if self.likelihood == "bernoulli" and (X_scaled.min() < 0 or X_scaled.max() > 1):
            raise ValueError(
                "likelihood='bernoulli' needs inputs in [0, 1] after scaling; "
                f"with scaling={self.scaling!r} X spans [{X_scaled.min():.3g}, "
                f"{X_scaled.max():.3g}]. Use scaling='minmax' or 'auto'."
            )
        n_samples, n_features = X.shape
        batch_size = min(self.batch_size, n_samples)
        capacity_steps = self.capacity_steps or self.max_epochs * math.ceil(n_samples / batch_size)
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)

        net = BetaVAENet(
            BetaVAEModule,
            module__n_features=n_features,
            module__latent_dim=self.latent_dim,
            module__architecture=self.architecture,
            module__hidden_layer_sizes=hidden,
            criterion=BetaVAELoss,
            criterion__likelihood=self.likelihood,
            criterion__beta=float(self.beta),
            criterion__capacity=None if self.capacity is None else float(self.capacity),
            criterion__capacity_steps=capacity_steps,
            optimizer=torch.optim.Adam,
            # Fused Adam runs the whole update in one kernel on CUDA.
            optimizer__fused=torch.device(device).type == "cuda" or None,
            lr=self.lr,
            max_epochs=self.max_epochs,
            batch_size=batch_size,
            train_split=None,
            device=device,
            verbose=self.verbose,
            shuffle_seed=seed,
            autocast_dtype=torch.bfloat16 if self.precision == "bfloat16" else None,
            compile=self.compile,
        )
        # Seed a private copy of torch's RNG: fits are reproducible under an
        # int random_state and leave the user's global torch state alone.
        cuda_devices = [torch.device(device).index or 0] if device.startswith("cuda") else []
        remedy = "lower batch_size or hidden_layer_sizes, or fit on fewer rows"
        with torch.random.fork_rng(devices=cuda_devices), out_of_memory_advice("training", remedy):
            torch.manual_seed(seed)
            net.fit(X_scaled)

        self.net_ = net
        self.center_, self.scale_ = center, scale
        self._n_features_out = self.latent_dim
        self.n_iter_ = len(net.history)
        self.history_ = self._history_frame(net.history)
        _, kl = self._encode(X_scaled, scale_input=False)
        self.kl_per_latent_ = kl.astype(np.float64)

    def _check_hidden_layer_sizes(self):
        if self.hidden_layer_sizes is None:
            return DEFAULT_HIDDEN[self.architecture]
        sizes = np.atleast_1d(np.asarray(self.hidden_layer_sizes))
        if sizes.ndim != 1 or sizes.size == 0 or not np.issubdtype(sizes.dtype, np.integer) or (sizes < 1).any():
            raise ValueError(
                "hidden_layer_sizes must be a non-empty sequence of positive ints; "
                f"got {self.hidden_layer_sizes!r}."
            )
        return tuple(int(s) for s in sizes)

    def _resolved_scaling(self):
        if self.scaling == "auto":
            return "minmax" if self.likelihood == "bernoulli" else "standard"
        return self.scaling

    @staticmethod
    def _history_frame(history):
        columns = {"train_loss": "loss", "reconstruction": "reconstruction", "kl": "kl",
                   "capacity": "capacity", "dur": "dur"}
        frame = pd.DataFrame({new: history[:, old] for old, new in columns.items()})
        frame.insert(0, "epoch", history[:, "epoch"])
        return frame.astype({"capacity": float})

    # ------------------------------------------------------- batched inference
    def _map_batches(self, array, fn, rows_per_batch=_INFERENCE_BATCH, *, scale_input=False, unscale_output=False):
        """Apply ``fn(module, batch)`` to row batches of ``array`` on the net's device.

        Computation runs in ``array``'s dtype (float32 or float64): float64
        inputs give results that do not depend on how rows are batched. Inputs
        are scaled and decoded signals unscaled batch by batch
        (``scale_input``, ``unscale_output``), so besides the input and the
        output only one batch of intermediates exists at a time.
        """
        dtype = torch.float64 if array.dtype == np.float64 else torch.float32
        device = self.net_.device
        # A compiled net wraps the module; inference calls encode/decode directly.
        module = getattr(self.net_.module_, "_orig_mod", self.net_.module_)
        if dtype == torch.float64:
            module = copy.deepcopy(module).to(dtype)
        module.eval()
        center, scale = (to_device(v, device, dtype) for v in (self.center_, self.scale_))
        # (x - center) / scale as one fused multiply-add per element.
        inv_scale, shift = 1.0 / scale, -center / scale
        out = None
        remedy = "pass fewer rows or latents per call"
        with torch.inference_mode(), out_of_memory_advice("inference", remedy):
            for start in range(0, len(array), rows_per_batch):
                batch = to_device(array[start:start + rows_per_batch], device, dtype)
                if scale_input:
                    batch = torch.addcmul(shift, batch, inv_scale)
                result = fn(module, batch)
                if unscale_output:
                    result = torch.addcmul(center, result, scale)
                result = result.cpu().numpy()
                if out is None:
                    out = np.empty((len(array), *result.shape[1:]), dtype=result.dtype)
                out[start:start + len(result)] = result
        return out

    def _validate_X(self, X):
        check_is_fitted(self)
        return validate_data(self, X, reset=False, dtype=_FLOAT_DTYPES)

    def _validate_Z(self, Z):
        check_is_fitted(self)
        Z = check_array(Z, dtype=_FLOAT_DTYPES, input_name="Z")
        if Z.shape[1] != self._n_features_out:
            raise ValueError(
                f"Z has {Z.shape[1]} columns, but {type(self).__name__} was fitted "
                f"with latent_dim={self._n_features_out}."
            )
        return Z

    def _decode(self, module, z):
        return decoder_mean(module.decode(z), self.net_.criterion_.likelihood)

    def _encode(self, X, *, scale_input=True):
        """Posterior means and mean KL per latent (nats) of the rows of ``X``."""

        def stats_batch(module, x):
            mu, logvar = module.encode(x)
            return torch.cat([mu, kl_per_latent(mu, logvar)], dim=1)

        stats = self._map_batches(X, stats_batch, scale_input=scale_input)
        mu, kl = np.split(stats, 2, axis=1)
        return mu, kl.mean(axis=0)

    # ------------------------------------------------------------ public API
    def transform(self, X):
        """Encode signals as the posterior means of their latent codes.

        Parameters
        ----------
        X : array-like of shape (n_samples, ``n_features_in_``)
            Signals in the units they were fitted in.

        Returns
        -------
        Z : ndarray of shape (n_samples, latent_dim)
            Posterior means, in the dtype of ``X`` (float32 or float64).
        """
        X = self._validate_X(X)
        return self._map_batches(X, lambda module, x: module.encode(x)[0], scale_input=True)

    def inverse_transform(self, Z):
        """Decode latent codes back to signals in the training data's units.

        Parameters
        ----------
        Z : array-like of shape (n_samples, latent_dim)
            Latent codes, e.g. the output of :meth:`transform`, edited or not.

        Returns
        -------
        X : ndarray of shape (n_samples, ``n_features_in_``)
            Decoder means (for a Bernoulli likelihood, probabilities mapped back
            through the scaling).
        """
        Z = self._validate_Z(Z)
        return self._map_batches(Z, self._decode, unscale_output=True)

    def traverse(self, X, latents=None, values=None, *, relative=False):
        """Decode signals while one latent at a time moves over ``values``.

        The latent traversal of the β-VAE literature: each input is encoded,
        then for every latent in ``latents`` the code is decoded with that
        latent set to (or, with ``relative=True``, shifted by) each of
        ``values`` while the other latents keep the input's values.

        Parameters
        ----------
        X : array-like of shape (n_samples, ``n_features_in_``)
            Signals whose codes are the starting points.
        latents : sequence of int or None, default=None
            Indices of the latents to move; ``None`` means all of them.
        values : array-like of shape (n_values,) or None, default=None
            Latent values in prior standard deviations; ``None`` means
            ``np.linspace(-3, 3, 7)``.
        relative : bool, default=False
            If True, ``values`` are offsets from each input's own code.

        Returns
        -------
        traversals : ndarray of shape (n_samples, n_latents, n_values, ``n_features_in_``)
            Decoded signals in the training data's units.

        Examples
        --------
        >>> import numpy as np
        >>> from skbvae import BetaVAETransformer
        >>> from skbvae.datasets import make_heartbeats
        >>> X, _ = make_heartbeats(100, random_state=0)
        >>> vae = BetaVAETransformer(latent_dim=3, max_epochs=2, random_state=0).fit(X)
        >>> vae.traverse(X[:1], latents=[2], values=[-2.0, 0.0, 2.0]).shape
        (1, 1, 3, 187)
        """
        X = self._validate_X(X)
        n_latents = self._n_features_out
        if latents is None:
            latents = np.arange(n_latents)
        latents = np.atleast_1d(np.asarray(latents))
        if latents.size == 0 or not np.issubdtype(latents.dtype, np.integer) or latents.ndim != 1:
            raise ValueError(f"latents must be a non-empty sequence of ints; got {latents!r}.")
        if ((latents < 0) | (latents >= n_latents)).any():
            raise ValueError(
                f"latents must lie in [0, {n_latents - 1}] (latent_dim={n_latents}); got {latents.tolist()}."
            )
        values = np.linspace(-3, 3, 7) if values is None else values
        values = check_array(np.atleast_1d(values).reshape(1, -1), input_name="values").ravel()
        n_traversed, n_values = len(latents), len(values)

        def traverse_batch(module, x):
            # mask[j, k] = 1 where traversal j moves latent k; shapes broadcast to
            # (rows, n_traversed, n_values, latent_dim).
            mask = torch.nn.functional.one_hot(torch.as_tensor(latents), n_latents).to(x)[None, :, None, :]
            moved = torch.as_tensor(values).to(x)[None, None, :, None] * mask
            codes = module.encode(x)[0][:, None, None, :]
            codes = codes + moved if relative else codes * (1 - mask) + moved
            decoded = self._decode(module, codes.reshape(-1, n_latents))
            return decoded.reshape(len(x), n_traversed, n_values, -1)

        rows_per_batch = max(1, _INFERENCE_BATCH // (n_traversed * n_values))
        return self._map_batches(X, traverse_batch, rows_per_batch, scale_input=True, unscale_output=True)

    def sample(self, n_samples=1, random_state=None):
        """Generate new signals by decoding codes drawn from the prior N(0, I).

        Parameters
        ----------
        n_samples : int, default=1
            Number of signals to generate.
        random_state : int, RandomState instance or None, default=None
            Seeds the prior draws.

        Returns
        -------
        X : ndarray of shape (n_samples, ``n_features_in_``), float64
            Generated signals in the training data's units.
        """
        check_is_fitted(self)
        if not isinstance(n_samples, Integral) or n_samples < 1:
            raise ValueError(f"n_samples must be a positive int; got {n_samples!r}.")
        Z = check_random_state(random_state).standard_normal((n_samples, self._n_features_out))
        return self.inverse_transform(Z)

    def score_samples(self, X):
        """Evidence lower bound (ELBO) of each signal under the fitted model, β = 1.

        ``log p(x) >= E_q[log p(x|z)] - KL(q(z|x) || p(z))``, estimated with
        the same 16 standard-normal draws of the reparameterisation noise for
        every row (so a row's score does not depend on the other rows). It does
        not depend on ``beta`` or ``capacity``, so models trained with
        different ones are comparable. For the Gaussian likelihood the value is
        a log-density of ``x`` in its own units (the scaling's Jacobian is
        included).

        Parameters
        ----------
        X : array-like of shape (n_samples, ``n_features_in_``)

        Returns
        -------
        elbo : ndarray of shape (n_samples,)
            In nats; higher is better.
        """
        X = self._validate_X(X)
        likelihood = self.net_.criterion_.likelihood
        noise = torch.randn(_SCORE_DRAWS, self._n_features_out, generator=torch.Generator().manual_seed(0))

        def elbo_batch(module, x):
            mu, logvar = module.encode(x)
            eps = noise.to(device=x.device, dtype=x.dtype)
            z = mu[:, None, :] + torch.exp(0.5 * logvar)[:, None, :] * eps  # (n, draws, latent)
            decoded = module.decode(z.reshape(-1, z.shape[-1]))
            nll = reconstruction_nll(x.repeat_interleave(_SCORE_DRAWS, dim=0), decoded, likelihood)
            return -nll.reshape(len(x), _SCORE_DRAWS).mean(dim=1) - kl_per_latent(mu, logvar).sum(dim=1)

        elbo = self._map_batches(X, elbo_batch, _INFERENCE_BATCH // _SCORE_DRAWS, scale_input=True)
        if likelihood == "gaussian":
            elbo = elbo - np.log(self.scale_).sum()
        return elbo

    def score(self, X, y=None):
        """Mean ELBO per signal (see :meth:`score_samples`); higher is better.

        Parameters
        ----------
        X : array-like of shape (n_samples, ``n_features_in_``)
        y : None
            Ignored.

        Returns
        -------
        score : float
            Mean ELBO in nats per signal.
        """
        return float(np.mean(self.score_samples(X)))

    def __sklearn_is_fitted__(self):
        return hasattr(self, "net_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
