"""β-VAE as a scikit-learn transformer."""

import copy
import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin, _fit_context
from sklearn.mixture import GaussianMixture
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from . import _groups
from ._device import out_of_memory_advice, resolve_device
from ._history import history_frame
from ._inference import INFERENCE_BATCH, map_batches
from ._loss import DECODER_VARIANCES, LIKELIHOODS, MIN_DECODER_VARIANCE, STUDENT_T_DOF, STUDENT_T_STD, decoder_mean, decoder_std, kl_per_latent, reconstruction_nll
from ._modules import DEFAULT_HIDDEN
from ._named_factors import DEFAULT_FACTOR_WEIGHT, NamedFactorsMixin, check_factors
from ._rotation import ROTATIONS, fit_rotation, select_active
from ._scaling import SCALINGS, fit_scaling, scale_to_float32
from ._signal_info import signal_info
from ._time_warp import rate_warp_of, rate_warp_spec, resolve_rate_factor
from ._threads import compute_threads, resolve_n_threads
from ._training import build_net, check_capacity
from ._training_shape import warn_if_training_shape_is_odd

# Posterior draws of the ELBO estimate in ``score_samples``. The draws are the
# same for every row, so each row's score depends on that row alone.
_SCORE_DRAWS = 16
#: What ``decoder_variance="auto"`` means for a Gaussian decoder, and the
#: ``var_smoothing`` default; chosen by ``benchmarks/bench_defaults.py``.
AUTO_DECODER_VARIANCE = "heteroscedastic"
DEFAULT_VAR_SMOOTHING = 0.05
#: What ``likelihood="auto"`` means with a learned (heteroscedastic) decoder
#: variance, and with any other; chosen by ``benchmarks/bench_defaults.py``.
AUTO_LIKELIHOOD = {"heteroscedastic": "student_t"}
_FLOAT_DTYPES = (np.float64, np.float32)
_INPUT_ATTRIBUTES = ("n_features_in_", "feature_names_in_")


class BetaVAETransformer(NamedFactorsMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Disentangled features of 1-D signals from a β-VAE.

    Fits a variational autoencoder with a weighted KL term to signals of a
    fixed length (heartbeats, price windows, spectra...) and transforms them
    into a few features: the posterior means of the latent code, by default
    rotated by FastICA so that each feature follows one independent factor
    where the data allow it. Each feature can be looked at (:meth:`traverse`),
    edited and decoded (:meth:`inverse_transform`), or sampled
    (:meth:`sample`).

    The network is trained by a skorch ``NeuralNet`` (kept in ``net_``) on
    CPU or GPU. Inputs are scaled inside the estimator and every decoded
    output is returned in the input's own units.

    The defaults (a Student-t decoder with a heteroscedastic scale and
    ``var_smoothing=0.05``, β = 1 without capacity, ``max_epochs="auto"``,
    ``rotation="ica"``) were chosen by ``benchmarks/bench_defaults.py`` on
    synthetic heartbeats (i.i.d. and in records), prices and real records
    split by time, against beat features measured on them: MIG 1.4-1.7×
    FastICA's on synthetic beats and about 2× the linear baselines' on
    MIT-BIH 100, and a held-out ELBO above the previous defaults' on every
    real record. The previous defaults are ``decoder_variance="fixed"``
    (with it ``likelihood="auto"`` is Gaussian and ``beta="auto"`` 0.25); the seed
    article's setup is ``BetaVAETransformer(beta=4.0, capacity=25.0,
    max_epochs=50, rotation=None, decoder_variance="fixed")`` (latent 10 and
    lr 5e-4 are defaults).

    Parameters
    ----------
    latent_dim : int, default=10
        Number of latent dimensions: the output width when ``rotation=None``,
        an upper bound on it otherwise.

    beta : float or "auto", default="auto"
        Weight of the KL term. Without ``capacity`` the loss is
        ``recon + beta * KL`` (Higgins et al.); with it,
        ``recon + beta * |KL - C(t)|`` (Burgess et al.), where ``beta`` is the
        γ that holds the KL near the target ``C(t)``. ``beta=1`` without
        capacity is a plain VAE. "auto" is 1 with a learned decoder variance
        (the reconstruction term is then a calibrated likelihood) and 0.25
        with ``decoder_variance="fixed"``: the fixed decoder's unit variance
        in scaled units overstates what a fitted model leaves unexplained
        (0.03-0.3 there), so β = 1 already compresses hard; 0.25 (a decoder
        σ of 0.5) gave that decoder its best reconstruction and
        disentanglement (``benchmarks/bench_defaults.py``).

    capacity : float or None, default=None
        Final KL capacity ``C_max`` in nats (total over latents, per sample).
        ``None`` selects the Higgins objective.

    capacity_steps : int or None, default=None
        Optimizer steps over which ``C(t)`` grows linearly from 0 to
        ``capacity``; ``None`` spreads it over the whole run
        (``max_epochs * ceil(n_samples / batch_size)`` steps), so C(t) reaches
        ``capacity`` at the last step whatever the data size: the seed
        article's 50 epochs on 2,000 beats are 450 steps. A value longer
        than the run leaves C(t) short of ``capacity``, and ``fit`` warns.

    rotation : {"ica", "varimax"} or None, default="ica"
        Basis of the output, as in :class:`~sklearn.decomposition.FactorAnalysis`.
        A Gaussian prior does not care how its latents are rotated, so
        factors with overlapping effects come out mixed (Locatello et al.,
        2019). After training, the *active* latents (mean KL above
        :data:`~skbvae.metrics.ACTIVE_KL_THRESHOLD`, at least one) are
        whitened and rotated: "ica" by FastICA, which separates independent
        non-Gaussian factors; "varimax" so that each axis changes as few
        signal samples as possible (localised waves). ``None`` returns all
        ``latent_dim`` posterior means as they are.

        With a rotation the output has ``n_components_`` columns (one per
        active latent), each with zero mean and unit variance on the training
        data, so a traversal from -3 to 3 spans three standard deviations of
        the training codes; columns are ordered by the share of the (scaled)
        signal's variance they move, largest first, and signed so that each
        one's largest effect on the signal is positive.
        :meth:`inverse_transform`, :meth:`traverse` and :meth:`sample` take
        codes in the same basis; inactive latents are decoded at their
        training mean. FastICA often stops at its 1,000-iteration limit,
        turning within the code's near-Gaussian directions, which have no
        orientation to find; the non-Gaussian ones are separated all the
        same. ``verbose=1`` reports it. The rotation changes no prediction:
        ``inverse_transform(transform(X))`` and :meth:`score_samples` are the
        same as with ``None``.

    architecture : {"mlp", "conv1d", "broadcast"}, default="mlp"
        Fully connected encoder/decoder; strided 1-D convolutions for
        signals whose features are ordered in time (any length); or an MLP
        encoder with a spatial broadcast decoder (Watters et al., 2019), which
        decodes every timepoint from the code and the timepoint's position.
        "broadcast" lets a single latent move a wave in time: on
        :func:`~skbvae.datasets.make_heartbeats` with a fixed decoder variance,
        ``beta=0.25`` and no capacity, heart rate (which moves the next beat)
        gets its own latent (MIG gap 0.24 against 0.02 for "mlp", mean of 3
        seeds); with C = 25 nats it is spread over several latents again. Its
        decoder costs ~12-14× the MLP's on a CPU. With named factors and
        ``decoder_variance="fixed"``, "conv1d" draws the next beat's R where
        the heart-rate latent puts it: heart-rate edits measured 0.91 of the
        change asked on new LUDB patients, 0.00 with "mlp" (not on MIT-BIH;
        the user guide's *Named factors*), at ~16× the MLP's fit time.

    n_channels : int, default=1
        Number of signals per row, e.g. ECG leads, laid out channel-major:
        ``[channel 1 samples | channel 2 samples | ...]`` (what
        :func:`~skbvae.datasets.load_wfdb_heartbeats` returns for a list of
        leads). The feature count must be a multiple of it. "conv1d" and
        "broadcast" treat the blocks as input and output channels of one
        signal; "mlp" treats them as features. ``scaling="global"`` then
        scales each channel by its own mean and standard deviation (leads
        have different amplitudes); the other scalings are per feature
        already.

    hidden_layer_sizes : tuple of int or None, default=None
        Widths of the hidden layers ("mlp", and the encoder of "broadcast")
        or channel counts of the convolutions ("conv1d"), from the input
        side; the "mlp" and "conv1d" decoders mirror them. ``None`` means
        (256, 128) for "mlp" and "broadcast" and (32, 64, 64) for "conv1d".

    likelihood : {"auto", "gaussian", "student_t", "bernoulli"}, default="auto"
        Decoder distribution. "gaussian" has the variance of
        ``decoder_variance``. "student_t": a Student-t with 3 degrees of
        freedom whose squared scale is that variance (a Gaussian whose
        precision has a Gamma prior): a residual far outside what the
        training beats showed costs ~2 log r nats rather than r²/2, so the
        held-out :meth:`score` of records that drift, or of noise a loader
        kept, does not collapse (the messy ICU records v102s and mixedsignals
        split by time: 161 and 75 nats per beat, against 90 and 74 for the
        fixed Gaussian and -325 and -2,667 for the heteroscedastic
        Gaussian); its means are the Gaussian's locations and its standard
        deviation is √3 times the scale. "bernoulli" suits signals in
        [0, 1]. "auto" is "student_t" with the heteroscedastic decoder
        variance (the default) and "gaussian" with any other, so that
        ``decoder_variance="fixed"`` is the previous model.

    decoder_variance : {"auto", "fixed", "shared", "per_feature", "heteroscedastic"}, default="auto"
        Variance of the Gaussian decoder p(x|z). "heteroscedastic": the
        decoder outputs a σ for every feature of every code, so a latent can
        say how much a signal wiggles, not only where its mean lies
        (volatility of price returns), and the hardest samples (a narrow R
        peak that moves with heart rate) get a larger σ instead of several
        latents; this is what disentangles heartbeats
        (``benchmarks/README.md``). "fixed": 1 in scaled units (a summed
        squared error; the model of earlier releases, with ``beta="auto"``
        giving its β of 0.25). "shared": one σ for all features, fitted in
        closed form as the batch's mean squared error (the optimal σ-VAE of
        Rybkin et al., 2021), with its running average used outside
        training. "per_feature": the same, one σ per feature. "auto" is
        "heteroscedastic" for a Gaussian or Student-t decoder and none
        for "bernoulli". Learned variances are at least ``var_smoothing``.

    var_smoothing : float, default=0.05
        Added to every learned decoder variance, in scaled units (with the
        default standard scaling: a share of each feature's variance), as
        :class:`~sklearn.naive_bayes.GaussianNB`'s ``var_smoothing`` is. It
        is the floor that keeps a learned variance from fitting the training
        residual too closely: below ~0.02 the variance of a few hundred
        beats, or of a record's early beats, is overconfident on held-out or
        later beats, and the held-out :meth:`score` collapses (MIT-BIH 100
        split by time: -60,088 nats per beat at 1e-4, 16 at 0.02, 295 at
        0.05, against 266 for the fixed decoder). Lower it (down to 1e-4)
        for signals whose noise is far below their spread and that you
        hold out at random, e.g. volatility of quiet price windows. On
        records that drift strongly (noisy ICU records) even 0.1 left the
        held-out score below the fixed decoder's: compare the two there.

    scaling : {"auto", "standard", "global", "minmax"} or None, default="auto"
        How inputs are scaled before the network (undone on outputs).
        "standard": per-feature zero mean, unit variance. "global": one mean
        and standard deviation for all features (keeps their relative size,
        e.g. volatility along a price path). "minmax": per-feature to [0, 1].
        None: as given. "auto" is "standard" for the Gaussian likelihood and
        "minmax" for the Bernoulli one.

    max_epochs : int or "auto", default="auto"
        Passes over the training data. "auto" trains for at least 4,000
        optimizer steps and 20 epochs (at most 2,000 epochs): 50 epochs are
        ~100 steps on 500 rows, which under-trains small data sets.

    batch_size : int, default=256
        Rows per optimizer step (capped at the number of samples).

    lr : float, default=5e-4
        Learning rate of Adam.

    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the rows, stop when their β = 1
        ELBO has not improved by ``tol`` nats for ``n_iter_no_change``
        epochs, and restore the weights of the best epoch (skorch's
        ``ValidSplit`` and ``EarlyStopping``). The held-out ELBO uses the same
        reparameterisation draws every epoch, so epochs differ by their weights
        only.

    validation_fraction : float, default=0.1
        Share of the rows held out for early stopping.

    n_iter_no_change : int, default=10
        Epochs without improvement before early stopping ends the run.

    tol : float, default=1e-4
        Improvement of the held-out ELBO (nats per row) that counts.

    warm_start : bool, default=False
        If True and the estimator is fitted, :meth:`fit` continues training the
        fitted network for ``max_epochs`` more epochs: weights, Adam's state,
        history, the optimizer step count and the capacity schedule go on
        where they stood, and the scaling of the first fit is kept. The
        network's shape (``latent_dim``, ``architecture``,
        ``hidden_layer_sizes``) cannot change; ``beta``, ``capacity``, ``lr``
        and the training controls can. The rotation is refitted.

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

    n_jobs : int or None, default=None
        CPU threads torch and BLAS (through threadpoolctl) compute with in
        :meth:`fit` and in the methods that run the network (the counts are
        restored afterwards), with
        scikit-learn's meaning: ``None`` is 1 unless in a
        :func:`joblib.parallel_config` context, -1 is every thread torch may
        use in this process (``torch.get_num_threads()``: the cores, or the
        limit of ``OMP_NUM_THREADS`` or of a joblib or dask worker), -2 one
        fewer. One thread is the default because torch's threads wait for
        each other and stall when another process shares their cores: on 2
        cores next to one or two busy processes, 2 threads made fits 3-31×
        slower than on a quiet machine, one thread at most 1.8×
        (``benchmarks/bench_threads.py``); the README's main example took
        131 s with 2 threads next to one busy process and 51 s with one (40 s
        and 54 s quiet). On a machine of your own, ``n_jobs=-1`` trains large batches
        and wide networks faster (2 threads: 1.4-1.8× on 2 cores). A fit
        with more than one thread warns when it starts on shared cores. The
        thread count changes the order of sums in parallel kernels, so fits
        with the same ``random_state`` and a different ``n_jobs`` differ
        slightly (~1e-7 after a few epochs, growing with training).

    factor_weight : float, default=100.0
        Weight of the named-factor terms when ``fit`` is given ``factors``: a
        named latent one standard deviation off its factor costs this many nats,
        and so does a free latent fully correlated with a factor
        (:mod:`skbvae._named_factors`). 0 fits as without factors, but keeps
        the names and the calibration. Unused without ``factors``.

    rate_factor : "auto", str or None, default="auto"
        A named factor that is a rate in events per minute (``"heart_rate"``
        in bpm), whose latent then moves the *next* event in the window as a
        whole: the decoder draws each window in a canonical time in which the
        next event comes one median period after the event, and this
        latent's value stretches the quiet interval between the two
        (:mod:`skbvae._time_warp`) so that the next event falls ``60 / rate``
        seconds after the event. Without it an MLP decoder draws the next R
        of beats at many rates as a blur, and a heart-rate :meth:`edit`
        moves nothing (measured 0.00 of the change asked on new LUDB and
        MIT-BIH patients; with it 1.00, ``benchmarks/README.md``). The
        encoder reads this latent from where the next event is in the window
        (a learned filter's soft arg-max, the same at every position, the
        earlier of two equal peaks preferred), and its units are the warp's
        own map. Needs ``fit(X, factors=F)`` with that column and the rows'
        timing: ``X`` a DataFrame whose ``attrs["signal"]`` holds ``fs`` and
        ``start`` (``load_wfdb_heartbeats(..., as_frame=True)`` sets it), in
        windows that reach past the event by more than 0.2 s. The cost: the
        fit takes about 1.7 times as long as without factors. ``"auto"``:
        ``"heart_rate"`` when the factors name it, ``X`` has that timing and
        its windows reach 1 s past R (the loader's default reaches 1.25 s),
        else no warp (a warning says so when only the timing is missing).
        None: no warp.

    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling and reparameterisation noise.
        Pass an int for reproducible fits. PyTorch's global random state is
        left untouched.

    verbose : int, default=0
        0 is silent. 1 shows progress over the epochs on standard error: one
        bar (epochs done of the total, time left, the loss and KL) on a
        terminal, and a line every 10 s elsewhere (a log file, CI, a
        notebook), with a last line giving the epochs run and the time;
        FastICA stopping at its iteration limit is reported too (see
        ``rotation``). 2 prints instead a table of every epoch with the
        column names of ``history_`` (loss, reconstruction, KL, capacity,
        duration) and early stopping's messages. Whatever the verbosity, a fit whose epochs become
        :data:`~skbvae._progress.SLOWDOWN_FACTOR` (5) times slower than its
        first ones warns once that another process is probably using the
        cores (and so does one with several threads, see ``n_jobs``, that
        starts on shared cores).

    Attributes
    ----------
    net_ : skbvae._net.BetaVAENet
        The fitted skorch network (``net_.module_`` is the torch module,
        ``net_.history`` skorch's history).
    history_ : pandas.DataFrame
        One row per epoch: ``loss`` (objective), ``reconstruction`` and ``kl``
        (nats per sample, batch means), ``capacity`` (target C at the
        epoch's end; NaN without capacity), ``dur`` (seconds) and, with
        ``early_stopping``, ``valid_loss`` (held-out β = 1 negative ELBO).
        It also reads as skorch's history does: ``history_[-1, "loss"]``
        is the last epoch's loss, ``history_[:, "kl"]`` a list.
    kl_per_latent_ : ndarray of shape (latent_dim,)
        Mean KL divergence of each (unrotated) latent on the training data, in
        nats. Latents above ~0.01 nats are active; the rest are unused.
    center_ : ndarray of shape (``n_features_in_``,)
        Value subtracted from each feature before the network.
    scale_ : ndarray of shape (``n_features_in_``,)
        Value each centred feature is divided by.
    n_iter_ : int
        Number of epochs run (all fits together under ``warm_start``).
    n_components_ : int
        Output width: ``latent_dim`` without rotation, else the number of
        active latents.
    active_latents_ : ndarray of int
        Latents the output is made from: all without rotation, else the
        active ones, most informative first.
    latent_mean_ : ndarray of shape (latent_dim,)
        Mean posterior mean of each latent on the training data.
    rotation_ : ndarray of shape (``n_components_``, ``n_components_``) or None
        ``codes = (mu[:, active_latents_] - latent_mean_[active_latents_]) @ rotation_``;
        None without rotation.
    mixing_ : ndarray of shape (``n_components_``, ``n_components_``) or None
        The inverse of ``rotation_``: latents from codes.
    validation_scores_ : ndarray of shape (``n_iter_``,) or None
        Held-out β = 1 ELBO (nats per row) after each epoch, with
        ``early_stopping``; None otherwise.
    best_validation_score_ : float or None
        The best of ``validation_scores_``, whose weights were restored.
    group_method_ : {"prior", "rotation"} or None
        How the last fit used its ``groups``: ``"prior"`` (a prior per group
        in training and the rotation fitted within groups) or ``"rotation"``
        (the rotation only). When the median group has fewer than 20 rows,
        too few to estimate a group's prior from, "rotation"; otherwise
        whichever gave the higher β = 1 ELBO on 20 % of the groups held out,
        each candidate fitted on the others (``group_selection_``; this costs
        two more fits on 80 % of the rows). None for a fit without groups.
    group_selection_ : dict or None
        The comparison behind ``group_method_``: ``held_out_groups`` and
        ``held_out_elbo`` (nats per row, by method); None when there was none.
    factor_names_ : list of str
        Names of the named factors (``fit(X, factors=F)``'s columns), whose
        latents are the first codes; empty without factors.
    factor_units_ : dict
        Units of the named factors, from ``F.attrs["units"]`` (empty if none).
    factor_center_, factor_scale_ : ndarray of shape (n_named,) or None
        Median and robust SD (1.4826 × MAD) of each factor on its known
        training rows: the standardisation the named latents were trained to
        (clipped at 4 robust SDs).
    factor_intercept_, factor_slope_ : ndarray of shape (n_named,) or None
        Each named code's line to its factor's units, fitted on the known
        training rows: ``factor ≈ intercept + slope · code``
        (:meth:`predict_factors`, :meth:`edit`).
    signal_info_ : dict or None
        The rows' sampling rate ``fs`` (Hz), the time of their first sample
        from R ``start`` (s) and their ``units``, when ``X`` was a DataFrame
        that says so (``load_wfdb_heartbeats(..., as_frame=True)``); the
        plots of :mod:`skbvae.plotting` draw seconds and units with it. None
        otherwise.
    rate_factor_ : str or None
        The named factor the decoder's time warp follows (``rate_factor``),
        or None when it draws without one.
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
    .. [3] Locatello et al. "Challenging common assumptions in the unsupervised
       learning of disentangled representations." ICML 2019.
    .. [4] Ghosh et al. "From variational to deterministic autoencoders."
       ICLR 2020.

    Examples
    --------
    >>> import numpy as np
    >>> from skbvae import BetaVAETransformer
    >>> from skbvae.datasets import make_heartbeats
    >>> X, factors = make_heartbeats(200, random_state=0)
    >>> vae = BetaVAETransformer(latent_dim=4, max_epochs=3, random_state=0)
    >>> Z = vae.fit_transform(X)  # FastICA-rotated codes of the active latents
    >>> Z.shape == (200, vae.n_components_)
    True
    >>> vae.inverse_transform(Z).shape
    (200, 187)
    >>> vae.traverse(X[:2], latents=[0], values=np.linspace(-3, 3, 5)).shape
    (2, 1, 5, 187)
    >>> BetaVAETransformer(latent_dim=4, max_epochs=3, rotation=None).fit_transform(X).shape
    (200, 4)
    """

    _parameter_constraints = {
        "latent_dim": [Interval(Integral, 1, None, closed="left")],
        "beta": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"})],
        "capacity": [Interval(Real, 0, None, closed="left"), None],
        "capacity_steps": [Interval(Integral, 1, None, closed="left"), None],
        "rotation": [StrOptions(set(ROTATIONS)), None],
        "architecture": [StrOptions({"mlp", "conv1d", "broadcast"})],
        "n_channels": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": ["array-like", None],
        "likelihood": [StrOptions({"auto", *LIKELIHOODS})],
        "decoder_variance": [StrOptions({"auto", *DECODER_VARIANCES})],
        "var_smoothing": [Interval(Real, MIN_DECODER_VARIANCE, None, closed="left")],
        "scaling": [StrOptions({"auto", *SCALINGS}), None],
        "max_epochs": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "warm_start": ["boolean"],
        "device": [str, torch.device],
        "compile": ["boolean"],
        "precision": [StrOptions({"float32", "bfloat16"})],
        "n_jobs": [Interval(Integral, None, -1, closed="right"), Interval(Integral, 1, None, closed="left"), None],
        "factor_weight": [Interval(Real, 0, None, closed="left")],
        "rate_factor": [str, None],  # "auto" or a factor's name
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        latent_dim=10,
        *,
        beta="auto",
        capacity=None,
        capacity_steps=None,
        rotation="ica",
        architecture="mlp",
        n_channels=1,
        hidden_layer_sizes=None,
        likelihood="auto",
        decoder_variance="auto",
        var_smoothing=DEFAULT_VAR_SMOOTHING,
        scaling="auto",
        max_epochs="auto",
        batch_size=256,
        lr=5e-4,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        warm_start=False,
        device="auto",
        compile=False,
        precision="float32",
        n_jobs=None,
        factor_weight=DEFAULT_FACTOR_WEIGHT,
        rate_factor="auto",
        random_state=None,
        verbose=0,
    ):
        self.latent_dim = latent_dim
        self.beta = beta
        self.capacity = capacity
        self.capacity_steps = capacity_steps
        self.rotation = rotation
        self.architecture = architecture
        self.n_channels = n_channels
        self.hidden_layer_sizes = hidden_layer_sizes
        self.likelihood = likelihood
        self.decoder_variance = decoder_variance
        self.var_smoothing = var_smoothing
        self.scaling = scaling
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.warm_start = warm_start
        self.device = device
        self.compile = compile
        self.precision = precision
        self.n_jobs = n_jobs
        self.factor_weight = factor_weight
        self.rate_factor = rate_factor
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, groups=None, factors=None):
        """Fit the β-VAE to signals ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training signals, one per row. NaN and infinite values are rejected.
        y : None
            Ignored; present for API consistency.
        groups : array-like of shape (n_samples,), default=None
            The group of each row: the record (patient) a beat was cut from,
            the day of a price window. Weak supervision that makes the
            latents identifiable (user guide, "Training with groups"): in
            training each group has its own factorised Gaussian prior,
            estimated from its rows (iVAE, Khemakhem et al. 2020), and
            ``rotation="ica"`` separates the codes' deviations from their
            group's mean. When the median group has fewer than 20 rows (10 s
            of ECG per patient), too few to estimate a prior from, training
            ignores the groups and only the rotation uses them
            (``group_method_`` says which). Only fitting uses it:
            :meth:`transform` and the other methods take signals alone, so
            rows of groups never seen in ``fit`` are encoded as well. Every group needs at least two
            rows, and there must be at least two groups. In a
            :class:`~sklearn.pipeline.Pipeline` or
            :class:`~sklearn.model_selection.GridSearchCV` with
            ``cv=GroupKFold()``, request it with
            ``set_fit_request(groups=True)`` under scikit-learn's metadata
            routing (or pass ``vae__groups=`` to ``Pipeline.fit``). With
            ``warm_start``, each fit uses its own groups (ids need not
            match), and a warm fit without groups trains as without.
        factors : pandas.DataFrame or array-like of shape (n_samples, n_named), default=None
            Measured quantities to name the first ``n_named`` latents after
            (user guide, "Named factors"): the loader's ``features=True``
            columns, :func:`skbvae.ecg.measure_beat_features`, a lab value, a
            window's realised volatility. NaN where not measured. Each named
            latent is tied to its standardised factor, and the free latents are
            kept uncorrelated with all of them (``factor_weight``); the codes
            then start with the named latents (``get_feature_names_out`` names
            them), :meth:`predict_factors` reads them in units and
            :meth:`edit` changes them in units. Only fitting uses it; under
            metadata routing request it with ``set_fit_request(factors=True)``.
            ``n_named`` must be below ``latent_dim``.

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
        continuing = self.warm_start and self.__sklearn_is_fitted__()
        info = signal_info(X)
        X = self._check_X(X, reset=not continuing)
        named = None if factors is None else check_factors(factors, len(X))
        warn_if_training_shape_is_odd(X, latent_dim=self.latent_dim)
        try:
            group_codes = None if groups is None else _groups.check_groups(groups, len(X))
            with compute_threads(resolve_n_threads(self.n_jobs)):
                self._fit(X, continuing, group_codes, named, info)
            if info is not None or not continuing:
                self.signal_info_ = info
        except BaseException:
            for name in _INPUT_ATTRIBUTES:
                vars(self).pop(name, None)
            vars(self).update(previous)
            raise
        return self

    def _fit(self, X, continuing=False, group_codes=None, named=None, info=None):
        """Scale ``X``, train the network on it, fit the rotation and store the fitted state.

        ``group_codes``: ``(codes, sizes)`` from :func:`~skbvae._groups.check_groups`, or None;
        ``named``: ``(values, names, units)`` from :func:`~skbvae._named_factors.check_factors`, or None;
        ``info``: the rows' timing (:func:`~skbvae._signal_info.signal_info`), or None.
        """
        targets = self._factor_targets(named, continuing)
        hidden = self._check_hidden_layer_sizes()
        if X.shape[1] % self.n_channels:
            raise ValueError(
                f"X has {X.shape[1]} feature(s) (n_features = {X.shape[1]}), which is not a multiple of "
                f"n_channels={self.n_channels}: each row must hold n_channels equal blocks of samples."
            )
        likelihood = self._resolved_likelihood()
        if likelihood == "student_t" and self.decoder_variance in ("shared", "per_feature"):
            raise ValueError(
                f"decoder_variance={self.decoder_variance!r} is fitted in closed form, which is the "
                "Gaussian's; with likelihood='student_t' use 'heteroscedastic', 'fixed' or 'auto'."
            )
        if self.likelihood == "bernoulli" and self.decoder_variance not in ("auto", "fixed"):
            raise ValueError(
                f"decoder_variance={self.decoder_variance!r} learns the variance of a Gaussian "
                "decoder; a Bernoulli decoder has none. Use likelihood='gaussian' or "
                "decoder_variance='fixed'."
            )
        device = resolve_device(self.device)
        if continuing:
            # The network was trained in the first fit's units: keep them.
            center, scale = self.center_, self.scale_
        else:
            center, scale = fit_scaling(X, self._resolved_scaling(), n_channels=self.n_channels)
        X_scaled = scale_to_float32(X, center, scale)
        if group_codes is not None:
            _groups.warn_if_groups_say_little(X_scaled, *group_codes)
        if likelihood == "bernoulli" and (X_scaled.min() < 0 or X_scaled.max() > 1):
            raise ValueError(
                "likelihood='bernoulli' needs inputs in [0, 1] after scaling; "
                f"with scaling={self.scaling!r} X spans [{X_scaled.min():.3g}, "
                f"{X_scaled.max():.3g}]. Use scaling='minmax' or 'auto'."
            )
        n_samples, n_features = X.shape
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        codes, sizes = (None, None) if group_codes is None else group_codes
        group_method = None if sizes is None else _groups.training_method(sizes)
        self.group_selection_ = None
        if continuing:  # the network keeps the warp it was built with
            rate_name, warp = self.rate_factor_, rate_warp_of(self.net_.module_)
        else:
            rate_name = resolve_rate_factor(self.rate_factor, self.factor_names_, info, n_features // self.n_channels)
            warp = rate_warp_spec(rate_name, self.factor_names_, self.factor_center_, self.factor_scale_, info,
                                  affine=likelihood != "bernoulli")
        if warp is not None:
            warp = {**warp, "center": center, "scale": scale}
        if group_method == "prior" and _groups.selecting() and not continuing and len(sizes) >= 4:
            group_method, self.group_selection_ = self._choose_group_method(X, codes, named, seed, info)
        net = build_net(self, n_features=n_features, n_samples=n_samples, hidden=hidden, device=device, seed=seed,
                        group_sizes=sizes, group_method=group_method, group_shrinkage=_groups.GROUP_SHRINKAGE,
                        factor_targets=targets, rate_warp=warp)
        # Seed a private copy of torch's RNG: fits are reproducible under an
        # int random_state and leave the user's global torch state alone.
        cuda_devices = [torch.device(device).index or 0] if device.startswith("cuda") else []
        remedy = "lower batch_size or hidden_layer_sizes, or fit on fewer rows"
        with torch.random.fork_rng(devices=cuda_devices), out_of_memory_advice("training", remedy):
            torch.manual_seed(seed)
            if continuing:
                self._continue_from(net, self.net_)
                net.partial_fit(X_scaled, codes)
            else:
                net.fit(X_scaled, codes)

        net.factor_targets = None  # the rows' targets are not part of the model
        self.net_ = net
        self.group_method_ = group_method
        self.rate_factor_ = rate_name
        self.center_, self.scale_ = center, scale
        self.n_iter_ = len(net.history)
        self.history_ = history_frame(net.history)
        check_capacity(self.history_, self.capacity, self._resolved_beta(), net.criterion_.capacity_steps)
        if self.early_stopping:
            self.validation_scores_ = -self.history_["valid_loss"].to_numpy()
            self.best_validation_score_ = float(np.nanmax(self.validation_scores_))
        else:
            self.validation_scores_ = self.best_validation_score_ = None
        mu, kl = self._encode(X_scaled, scale_input=False)
        self.kl_per_latent_ = kl.astype(np.float64)
        self.latent_mean_ = mu.mean(axis=0).astype(np.float64)
        self._fit_rotation(mu, X_scaled, seed, codes)
        if named is not None:  # a warm fit without factors keeps the calibration it had
            self._set_factor_calibration(self._codes(torch.as_tensor(mu)).numpy(), named[0],
                                         rate_warp_of(self.net_.module_))

    def _choose_group_method(self, X, codes, named, seed, info=None):
        """"prior" or "rotation", whichever gives the higher β = 1 ELBO on held-out groups.

        A prior per group helped on synthetic records of many beats and cost
        5-6 nats of held-out ELBO on LUDB's and on records whose beats vary little;
        a row count could not tell them apart, the held-out groups can. Each
        candidate is this estimator fitted on the other groups' rows.
        """
        from sklearn.base import clone

        held = _groups.held_out_split(codes, seed)
        factors = None if named is None else pd.DataFrame(named[0][~held], columns=named[1])
        rows = X[~held]
        if info is not None:  # the candidates see the rows' timing, as a rate warp needs
            rows = pd.DataFrame(rows)
            rows.attrs["signal"] = info
        scores = {}
        for method in ("prior", "rotation"):
            candidate = clone(self).set_params(verbose=0, warm_start=False)
            with _groups.forced_method(method), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the fit itself says what there is to say
                candidate.fit(rows, groups=codes[~held], factors=factors)
            scores[method] = float(candidate.score(X[held]))
        chosen = "prior" if scores["prior"] > scores["rotation"] else "rotation"
        return chosen, {"held_out_groups": int(len(np.unique(codes[held]))), "held_out_elbo": scores}

    def _continue_from(self, net, previous):
        """Initialise ``net`` with ``previous``'s weights, optimizer state, history and schedule."""
        net.initialize()
        module = getattr(net.module_, "_orig_mod", net.module_)
        try:
            module.load_state_dict(getattr(previous.module_, "_orig_mod", previous.module_).state_dict())
        except RuntimeError as error:
            raise ValueError(
                "warm_start=True continues the fitted network, so latent_dim, architecture and "
                "hidden_layer_sizes must stay as they were; set warm_start=False to refit."
            ) from error
        net.optimizer_.load_state_dict(previous.optimizer_.state_dict())
        for group in net.optimizer_.param_groups:  # the state dict carries the old lr
            group["lr"] = self.lr
        net.history = copy.deepcopy(previous.history)
        net.optimizer_steps_ = previous.optimizer_steps_
        if self.capacity_steps is None:  # the capacity ramp goes on where it stood
            net.criterion_.capacity_steps = previous.criterion_.capacity_steps

    def _fit_rotation(self, mu, X_scaled, seed, groups=None):
        """Choose the output basis: all latents as they are, or the rotated active ones.

        With ``groups`` (codes), "ica" separates the codes' within-group deviations.
        """
        n_named = len(self.factor_names_)
        if self.rotation is None:
            self.active_latents_ = np.arange(self.latent_dim)
            self.rotation_ = self.mixing_ = None
        else:
            # Named latents stay as they are, whatever their KL; the rotation mixes the free active ones.
            free = n_named + select_active(self.kl_per_latent_[n_named:])
            self.active_latents_ = np.concatenate([np.arange(n_named), free]).astype(int)
            rotation = np.zeros((0, 0))
            if len(free):
                _, rotation = fit_rotation(mu[:, free], X_scaled, self.rotation, seed, groups, verbose=self.verbose)
            rotation = np.block([[np.eye(n_named), np.zeros((n_named, len(free)))],
                                 [np.zeros((len(free), n_named)), rotation]])
            # C order, as a model file stores it: the memory layout picks the BLAS
            # kernel, so an F-ordered rotation gave codes 4e-15 away from those of
            # the same model reloaded (skbvae.io promises the same codes).
            self.rotation_ = np.ascontiguousarray(rotation)
            self.mixing_ = np.ascontiguousarray(np.linalg.inv(self.rotation_))
        self.n_components_ = self._n_features_out = len(self.active_latents_)

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

    def _resolved_decoder_variance(self):
        if self.decoder_variance == "auto":
            return "fixed" if self.likelihood == "bernoulli" else AUTO_DECODER_VARIANCE
        return self.decoder_variance

    def _resolved_likelihood(self):
        if self.likelihood == "auto":
            return AUTO_LIKELIHOOD.get(self._resolved_decoder_variance(), "gaussian")
        return self.likelihood

    def _resolved_beta(self):
        if self.beta == "auto":
            return 0.25 if self._resolved_decoder_variance() == "fixed" else 1.0
        return float(self.beta)

    def _resolved_scaling(self):
        if self.scaling == "auto":
            return "minmax" if self.likelihood == "bernoulli" else "standard"
        return self.scaling

    # ------------------------------------------------------- batched inference
    def _map_batches(self, array, fn, rows_per_batch=INFERENCE_BATCH, **options):
        """:func:`~skbvae._inference.map_batches` with this estimator's network, scaling and threads."""
        with compute_threads(resolve_n_threads(self.n_jobs)):
            return map_batches(self.net_, self.center_, self.scale_, array, fn, rows_per_batch, **options)

    def _codes(self, mu):
        """Output codes (what ``transform`` returns) from posterior means ``mu`` (a tensor)."""
        if self.rotation_ is None:
            return mu
        active = torch.as_tensor(self.active_latents_, device=mu.device)
        mean, rotation = (torch.as_tensor(a, dtype=mu.dtype, device=mu.device)
                          for a in (self.latent_mean_[self.active_latents_], self.rotation_))
        return (mu[:, active] - mean) @ rotation

    def _latents(self, codes):
        """Latent vectors for the decoder from output codes (the inverse of :meth:`_codes`).

        Inactive latents, which the rotation leaves out, sit at their training mean.
        """
        if self.rotation_ is None:
            return codes
        active = torch.as_tensor(self.active_latents_, device=codes.device)
        mean, mixing = (torch.as_tensor(a, dtype=codes.dtype, device=codes.device)
                        for a in (self.latent_mean_, self.mixing_))
        z = mean.expand(len(codes), -1).clone()
        z[:, active] = codes @ mixing + mean[active]
        return z

    def _validate_X(self, X):
        check_is_fitted(self)
        return self._check_X(X, reset=False)

    def _check_X(self, X, *, reset):
        """The one place signals are validated: scikit-learn's checks, with errors that name the fault.

        numpy's and pandas' own messages for two common mistakes say what
        failed, not where: a ragged list of rows ("inhomogeneous shape") and a
        DataFrame with a text column ("could not convert string to float").
        """
        if isinstance(X, pd.DataFrame):
            text = [str(name) for name, dtype in X.dtypes.items()
                    if not (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype))]
            if text:
                shown = ", ".join(repr(name) for name in text[:5]) + (" ..." if len(text) > 5 else "")
                raise ValueError(
                    f"X has {len(text)} column(s) that are not numbers: {shown}. Pass the signal's "
                    "samples only, e.g. X.drop(columns=[...]) for labels or record names."
                )
        elif isinstance(X, (list, tuple)) and X and all(hasattr(row, "__len__") for row in X):
            lengths = sorted({len(row) for row in X})
            if len(lengths) > 1:
                shown = ", ".join(map(str, lengths[:5])) + (" ..." if len(lengths) > 5 else "")
                raise ValueError(
                    f"X is a list of rows of different lengths ({shown} samples): every signal must "
                    "have the same number of samples. Resample or cut them to one length first "
                    "(load_wfdb_heartbeats cuts beats of one length)."
                )
        return validate_data(self, X, reset=reset, dtype=_FLOAT_DTYPES)

    def _validate_Z(self, Z):
        check_is_fitted(self)
        Z = check_array(Z, dtype=_FLOAT_DTYPES, input_name="Z")
        if Z.shape[1] != self._n_features_out:
            rotated = "" if self.rotation is None else f" ({self.rotation} rotation of the active latents)"
            raise ValueError(
                f"Z has {Z.shape[1]} columns, but {type(self).__name__} outputs "
                f"{self._n_features_out} components{rotated}; latent_dim={self.latent_dim}."
            )
        return Z

    def _decode(self, module, codes, *, with_std=False):
        """Decoder means (and, ``with_std``, standard deviations), in scaled units, of output codes.

        With ``with_std`` the result has shape (n, 2, n_features): means, then
        standard deviations (``map_batches(..., unscale_output="mean_and_std")``
        maps both to the user's units).
        """
        decoded = module.decode(self._latents(codes))
        likelihood = self.net_.criterion_.likelihood
        mean = decoder_mean(decoded, likelihood)
        if not with_std:
            return mean
        return torch.stack([mean, decoder_std(decoded, likelihood)], dim=-2)

    def _decode_mean_and_std(self, Z):
        """Decoder means and standard deviations of codes ``Z``, in the user's units."""
        out = self._map_batches(Z, lambda module, z: self._decode(module, z, with_std=True),
                                unscale_output="mean_and_std")
        return out[:, 0], out[:, 1]

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
        Z : ndarray of shape (n_samples, ``n_components_``)
            Posterior means (rotated, see ``rotation``), in the dtype of ``X``
            (float32 or float64).
        """
        X = self._validate_X(X)
        return self._map_batches(X, lambda module, x: self._codes(module.encode(x)[0]), scale_input=True)

    def inverse_transform(self, Z):
        """Decode latent codes back to signals in the training data's units.

        Parameters
        ----------
        Z : array-like of shape (n_samples, ``n_components_``)
            Codes in the output basis, e.g. the output of :meth:`transform`,
            edited or not.

        Returns
        -------
        X : ndarray of shape (n_samples, ``n_features_in_``)
            Decoder means (for a Bernoulli likelihood, probabilities mapped back
            through the scaling).
        """
        Z = self._validate_Z(Z)
        return self._map_batches(Z, self._decode, unscale_output=True)

    def traverse(self, X, latents=None, values=None, *, relative=False, return_std=False):
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
            Indices of the output features (columns of :meth:`transform`) to
            move; ``None`` means all of them.
        values : array-like of shape (n_values,) or None, default=None
            Values in prior standard deviations (``rotation=None``) or in
            standard deviations of the training codes (rotated); ``None``
            means ``np.linspace(-3, 3, 7)``.
        relative : bool, default=False
            If True, ``values`` are offsets from each input's own code.
        return_std : bool, default=False
            If True, also return the standard deviation of p(x|z) at every
            traversal point, in the training data's units: what a latent does
            to the spread of the signal rather than to its mean (see
            ``decoder_variance``; with ``"fixed"`` it is the constant unit
            variance of scaled units).

        Returns
        -------
        traversals : ndarray of shape (n_samples, n_latents, n_values, ``n_features_in_``)
            Decoded signals (decoder means) in the training data's units.
        std : ndarray of the same shape
            Only with ``return_std=True``: the decoder's standard deviations.

        Examples
        --------
        >>> import numpy as np
        >>> from skbvae import BetaVAETransformer
        >>> from skbvae.datasets import make_heartbeats
        >>> X, _ = make_heartbeats(100, random_state=0)
        >>> vae = BetaVAETransformer(latent_dim=3, max_epochs=2, rotation=None, random_state=0).fit(X)
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
            raise ValueError(self._latents_range_message(latents))
        values = np.linspace(-3, 3, 7) if values is None else values
        values = check_array(np.atleast_1d(values).reshape(1, -1), input_name="values").ravel()
        n_traversed, n_values = len(latents), len(values)

        def traverse_batch(module, x):
            # mask[j, k] = 1 where traversal j moves latent k; shapes broadcast to
            # (rows, n_traversed, n_values, latent_dim).
            mask = torch.nn.functional.one_hot(torch.as_tensor(latents), n_latents).to(x)[None, :, None, :]
            moved = torch.as_tensor(values).to(x)[None, None, :, None] * mask
            codes = self._codes(module.encode(x)[0])[:, None, None, :]
            codes = codes + moved if relative else codes * (1 - mask) + moved
            decoded = self._decode(module, codes.reshape(-1, n_latents), with_std=return_std)
            return decoded.reshape(len(x), n_traversed, n_values, *decoded.shape[1:])

        rows_per_batch = max(1, INFERENCE_BATCH // (n_traversed * n_values * (2 if return_std else 1)))
        out = self._map_batches(X, traverse_batch, rows_per_batch, scale_input=True,
                                unscale_output="mean_and_std" if return_std else True)
        return (out[..., 0, :], out[..., 1, :]) if return_std else out

    def _latents_range_message(self, latents):
        n_latents = self._n_features_out
        message = f"latents must lie in [0, {n_latents - 1}]; got {latents.tolist()}."
        if n_latents < self.latent_dim:
            message += (
                f" The model has {n_latents} components: the {n_latents} active latents of latent_dim="
                f"{self.latent_dim} (KL > 0.01 nats), rotated by rotation={self.rotation!r}; the other "
                f"{self.latent_dim - n_latents} carry no information. To traverse every latent as it is, fit "
                "with rotation=None (then all latent_dim latents are components).")
        return message

    def sample(self, n_samples=1, random_state=None, *, X=None, noise=False):
        """Generate new signals by decoding codes drawn from N(0, I), or from the codes of ``X``.

        Without rotation the draws come from the prior over all latents. With
        a rotation they are standard normal in the rotated basis, i.e. from a
        Gaussian with the mean and covariance of the training codes, with
        inactive latents at their mean.

        Independent draws can fall off the curved set that the codes of real
        signals occupy when one factor is spread over several latents (an MLP
        decoder encodes heart rate, which places the next beat, that way), and
        the decoder then averages such a factor out: sampled beats lose the
        next R peak. Passing ``X`` draws instead from a Gaussian mixture fitted
        to ``transform(X)`` (ex-post density estimation, Ghosh et al., 2020),
        which follows that set: on 8,000 synthetic beats the next R peak stood
        1.01 mV above the median in such samples, 0.60 mV in N(0, I) samples and
        1.06 mV in real beats.

        Parameters
        ----------
        n_samples : int, default=1
            Number of signals to generate.
        random_state : int, RandomState instance or None, default=None
            Seeds the draws (and the mixture's fit).
        X : array-like of shape (n, ``n_features_in_``) or None, default=None
            Signals whose codes define the distribution to draw from, typically
            the training data; a mixture of ``min(50, n // 20)`` (at least 1)
            full-covariance Gaussians is fitted to their codes. None draws from
            N(0, I).
        noise : bool, default=False
            If False, return the decoder means. If True, draw each signal from
            p(x|z) as well: the means plus Gaussian noise of the decoder's
            standard deviation (see ``decoder_variance``), or 0/1 draws of a
            Bernoulli decoder mapped back through the scaling.

        Returns
        -------
        X : ndarray of shape (n_samples, ``n_features_in_``), float64
            Generated signals in the training data's units.
        """
        check_is_fitted(self)
        if not isinstance(n_samples, Integral) or n_samples < 1:
            raise ValueError(f"n_samples must be a positive int; got {n_samples!r}.")
        rng = check_random_state(random_state)
        if X is None:
            Z = rng.standard_normal((n_samples, self._n_features_out))
        else:
            codes = self.transform(X).astype(np.float64)
            mixture = GaussianMixture(max(1, min(50, len(codes) // 20)), covariance_type="full",
                                      reg_covar=1e-6, random_state=rng.randint(np.iinfo(np.int32).max))
            # GaussianMixture.sample returns its draws grouped by component.
            Z = rng.permutation(mixture.fit(codes).sample(n_samples)[0])
        if not noise:
            return self.inverse_transform(Z)
        mean, std = self._decode_mean_and_std(self._validate_Z(Z))
        likelihood = self.net_.criterion_.likelihood
        if likelihood == "bernoulli":
            p = (mean - self.center_) / self.scale_
            return self.center_ + self.scale_ * (rng.uniform(size=p.shape) < p)
        if likelihood == "student_t":
            return mean + std / STUDENT_T_STD * rng.standard_t(STUDENT_T_DOF, size=mean.shape)
        return mean + std * rng.standard_normal(mean.shape)

    def score_samples(self, X):
        """Evidence lower bound (ELBO) of each signal under the fitted model, β = 1.

        ``log p(x) >= E_q[log p(x|z)] - KL(q(z|x) || p(z))``, estimated with
        the same 16 standard-normal draws of the reparameterisation noise for
        every row (so a row's score does not depend on the other rows). It does
        not depend on ``beta`` or ``capacity``, so models trained with
        different ones are comparable. For the Gaussian and Student-t
        likelihoods the value is a log-density of ``x`` in its own units (the scaling's Jacobian is
        included) under the decoder's variance, fixed or learned (see
        ``decoder_variance``), so it also compares models with different
        decoders on held-out data.

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
        noise = torch.randn(_SCORE_DRAWS, self.latent_dim, generator=torch.Generator().manual_seed(0))

        def elbo_batch(module, x):
            mu, logvar = module.encode(x)
            eps = noise.to(device=x.device, dtype=x.dtype)
            z = mu[:, None, :] + torch.exp(0.5 * logvar)[:, None, :] * eps  # (n, draws, latent)
            decoded = module.decode(z.reshape(-1, z.shape[-1]))
            nll = reconstruction_nll(x.repeat_interleave(_SCORE_DRAWS, dim=0), decoded, likelihood)
            return -nll.reshape(len(x), _SCORE_DRAWS).mean(dim=1) - kl_per_latent(mu, logvar).sum(dim=1)

        elbo = self._map_batches(X, elbo_batch, INFERENCE_BATCH // _SCORE_DRAWS, scale_input=True)
        if likelihood != "bernoulli":  # a density of x in its own units
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
        # With warm_start a second fit continues the first, so fitting twice is
        # not idempotent by design (scikit-learn's checks then skip the
        # fit-twice comparisons, as they turn warm_start off where it matters).
        tags.non_deterministic = bool(self.warm_start)
        return tags
