"""Figures for looking at a fitted β-VAE: traversals, KL per latent, training curves.

matplotlib is imported only when a function here is called, so the package
works without it (``pip install skbvae[plot]`` adds it).
"""

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._signal_info import time_axis, value_label


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("skbvae.plotting needs matplotlib: pip install matplotlib") from exc
    return plt


def _fitted_vae(estimator):
    """The BetaVAETransformer inside ``estimator`` (itself, or the last step having one)."""
    steps = getattr(estimator, "steps", None)
    if steps is not None:
        vae = next((step for _, step in reversed(steps) if hasattr(step, "traverse")), None)
        if vae is None:
            raise TypeError("the pipeline has no BetaVAETransformer step.")
        estimator = vae
    if not hasattr(estimator, "traverse"):
        raise TypeError(f"expected a BetaVAETransformer, got {type(estimator).__name__}.")
    check_is_fitted(estimator)
    return estimator


def _as_input(vae, X):
    """``X`` (2-D array) as the estimator was fitted: a DataFrame when it knows feature names.

    Plots take arrays or rows of frames alike; passing an array to a model fitted
    on a DataFrame would make scikit-learn warn about missing feature names.
    """
    names = getattr(vae, "feature_names_in_", None)
    if names is None:
        return X
    import pandas as pd

    return pd.DataFrame(X, columns=names)


def _channel_names(vae):
    """One name per channel: the lead prefixes of ``ii_t042``-style feature names, else "channel k"."""
    n_channels = getattr(vae, "n_channels", 1)
    names = getattr(vae, "feature_names_in_", None)
    if names is not None:
        prefixes = [str(name).rsplit("_t", 1)[0] for name in names[::len(names) // n_channels]]
        if len(set(prefixes)) == n_channels and all("_t" in str(name) for name in names):
            return prefixes
    return [f"channel {c}" for c in range(n_channels)]


def _channel_blocks(array, n_channels):
    """Split the last axis (channel-major features) into a leading channel axis."""
    array = np.asarray(array)
    return np.moveaxis(array.reshape(*array.shape[:-1], n_channels, -1), -2, 0)


def _grid_axes(n_panels, axes, n_cols, panel_size=(2.6, 2.0)):
    plt = _pyplot()
    if axes is not None:
        axes = np.ravel(axes)
        if len(axes) < n_panels:
            raise ValueError(f"axes has {len(axes)} Axes but {n_panels} panels are needed.")
        return axes[0].figure, axes
    n_cols = min(n_cols, n_panels)
    n_rows = -(-n_panels // n_cols)
    fig, grid = plt.subplots(n_rows, n_cols, figsize=(panel_size[0] * n_cols, panel_size[1] * n_rows),
                             squeeze=False, sharex=True, constrained_layout=True)
    for extra in grid.ravel()[n_panels:]:
        extra.set_visible(False)
    return fig, grid.ravel()


def plot_traversal(estimator, x, *, latents=None, values=None, order="kl", n_cols=5, axes=None,
                   cmap="coolwarm", time=None, fs=None, start=None, units=None, band="auto", cumulative=False,
                   xlabel=None, ylabel=None, labels=None):
    """The latent traversal figure: one panel per latent, decoded as it moves.

    Each panel shows the input signal dashed and the decoded signal while one
    latent goes over ``values`` (−3 to 3 standard deviations by default) in a
    colour ramp, the other latents staying at the input's code. Without a
    rotation (``rotation=None``) panel titles give the latent's index and its
    KL divergence (nats): latents with KL near 0 are unused and decode to the
    same curve. With a rotation (the default, ``"ica"``) every panel is an
    active component, "component k", numbered by how much of the signal it
    moves (0 the most); the x axis is in seconds from R and the y axis in the
    signal's units when the estimator knows them (``signal_info_``, from
    ``load_wfdb_heartbeats(..., as_frame=True)``) or you give them (``fs``,
    ``start``, ``units``).

    Parameters
    ----------
    estimator : BetaVAETransformer or Pipeline
        A fitted β-VAE, or a pipeline containing one.
    x : array-like of shape (n_features,) or (1, n_features)
        One signal, in the units the model was fitted in (one row of ``X``:
        ``X[0]``).
    latents : sequence of int, default=None
        Latents to show; None means all.
    values : array-like, default=None
        Latent values; None means ``np.linspace(-3, 3, 7)``.
    order : {"kl", "index"}, default="kl"
        Panel order: most informative first (decreasing KL; rotated
        components are already in that order, see ``rotation``), or by index.
    n_cols : int, default=5
        Panels per row when the axes are created here.
    axes : array of matplotlib Axes, default=None
        Axes to draw into, one per latent; created when None.
    cmap : str, default="coolwarm"
        Colour ramp for the latent values.
    time : array-like of shape (n_features,), default=None
        x-axis values; when None, seconds from ``fs`` and ``start`` or, without
        a rate, sample indices. With several channels (``n_channels``), of the
        length of one channel.
    fs : float, default=None
        Sampling rate of the signal (Hz); None takes the estimator's
        ``signal_info_`` when it has one.
    start : float, default=None
        Time of the first sample from the R peak, in seconds (the loader's
        default window starts 0.25 s before R: -0.25); None takes
        ``signal_info_``'s when ``fs`` is its rate, else the axis is "time (s)".
    units : str, default=None
        The signal's units for the y label ("mV"); None takes ``signal_info_``'s.
    band : bool or "auto", default="auto"
        Shade mean ± 2 standard deviations of p(x|z) around each decoded
        curve (``traverse(..., return_std=True)``). "auto" shades when the
        decoder's variance is learned (``decoder_variance`` other than
        "fixed"): that is where a latent can move the spread of a signal
        rather than its mean, e.g. volatility.
    cumulative : bool, default=False
        Draw cumulative sums along the signal: for windows of log returns
        (``representation="log_returns"``) these are the log-price paths, and
        the band becomes that of the path (standard deviations add in
        quadrature along it), so a volatility latent shows paths fanning out.
    xlabel, ylabel : str, default=None
        Axis labels for the whole figure; None means "time from R (s)",
        "time (s)" or "time (samples)" as known, and "signal (units)" or
        "cumulative signal".
    labels : dict of {int: str}, default=None
        Text added under a latent's panel title, keyed by latent (output
        column): the factor it follows, say, from
        :func:`skbvae.metrics.match_factors`.

    Returns
    -------
    fig : matplotlib.figure.Figure
        With several channels (``n_channels``), one row of panels per
        channel (labelled with the lead name when the feature names carry
        it, as from ``load_wfdb_heartbeats(..., as_frame=True)``) and one
        column per latent.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skbvae import BetaVAETransformer
    >>> from skbvae.datasets import make_heartbeats
    >>> from skbvae.plotting import plot_traversal
    >>> X, _ = make_heartbeats(100, random_state=0)
    >>> vae = BetaVAETransformer(latent_dim=3, max_epochs=2, rotation=None, random_state=0).fit(X)
    >>> fig = plot_traversal(vae, X[0])
    >>> len(fig.axes)  # three panels and the colour bar
    4
    """
    plt = _pyplot()
    vae = _fitted_vae(estimator)
    x = _one_signal(vae, x)
    if latents is None:
        latents = np.arange(vae.n_components_)
    latents = np.asarray(latents)
    if order == "kl":
        latents = _by_information(vae, latents)
    elif order != "index":
        raise ValueError(f"order must be 'kl' or 'index'; got {order!r}.")
    values = np.linspace(-3, 3, 7) if values is None else np.asarray(values, dtype=float)
    if band == "auto":
        band = getattr(vae, "_resolved_decoder_variance", lambda: "fixed")() != "fixed"
    curves, std = vae.traverse(_as_input(vae, x), latents=latents, values=values, return_std=True)
    curves, std, signal = curves[0], std[0], x[0]
    if cumulative:
        curves, signal = np.cumsum(curves, axis=-1), np.cumsum(signal)
        std = np.sqrt(np.cumsum(std**2, axis=-1))
    n_channels = getattr(vae, "n_channels", 1)
    info = getattr(vae, "signal_info_", None)
    t, time_label = time_axis(x.shape[1] // n_channels, time=time, fs=fs, start=start, info=info)
    colours = plt.get_cmap(cmap)(np.linspace(0, 1, len(values)))
    if n_channels > 1:
        fig, panels = _grid_axes(n_channels * len(latents), axes, len(latents))
        blocks = zip(*(_channel_blocks(a, n_channels) for a in (curves, std, signal)))
        for c, (name, (channel_curves, channel_std, channel_signal)) in enumerate(zip(_channel_names(vae), blocks)):
            row = panels[c * len(latents):(c + 1) * len(latents)]
            _draw_traversals(vae, row, latents, channel_curves, channel_std, channel_signal, t, colours, band,
                             labels)
            row[0].set_ylabel(name, fontsize=9)
            if c:
                for ax in row:
                    ax.set_title("")
    else:
        fig, panels = _grid_axes(len(latents), axes, n_cols)
        _draw_traversals(vae, panels, latents, curves, std, signal, t, colours, band, labels)
    norm = plt.Normalize(values.min(), values.max())
    fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cmap), ax=list(panels[:n_channels * len(latents)]),
                 label="latent value", shrink=0.8)
    if axes is None:
        fig.supxlabel(xlabel or time_label, fontsize=9)
        fig.supylabel(ylabel or value_label(units, info, cumulative), fontsize=9)
        kind = "component" if getattr(vae, "rotation_", None) is not None else "latent"
        fig.suptitle(f"Latent traversals: each panel moves one {kind} from {values.min():g} to {values.max():g} "
                     "(input dashed)", fontsize=10)
    return fig


def _draw_traversals(vae, panels, latents, curves, std, signal, t, colours, band, labels=None):
    """One panel per latent: the decoded curves over the values (with ±2σ bands), and the input."""
    for ax, latent, traversal, spread in zip(panels, latents, curves, std):
        for colour, curve, sd in zip(colours, traversal, spread):
            if band:
                # Edges drawn as lines: filled bands of neighbouring values hide each other.
                ax.fill_between(t, curve - 2 * sd, curve + 2 * sd, color=colour, alpha=0.05, lw=0)
                ax.plot(t, curve - 2 * sd, t, curve + 2 * sd, color=colour, lw=0.6, alpha=0.8)
            ax.plot(t, curve, color=colour, lw=1.2)
        ax.plot(t, signal, color="black", lw=1.0, ls="--")
        extra = (labels or {}).get(int(latent))
        ax.set_title(_output_label(vae, latent) + (f"\n{extra}" if extra else ""), fontsize=9)


def _by_information(vae, outputs):
    """Output features most informative first: by KL, or as ordered by the rotation."""
    if getattr(vae, "rotation_", None) is not None:
        return np.sort(outputs)  # rotated components are ordered by explained variance
    return outputs[np.argsort(-vae.kl_per_latent_[outputs], kind="stable")]


def _output_label(vae, j):
    named = list(getattr(vae, "factor_names_", None) or [])
    if j < len(named):  # a named factor (fit(X, factors=F)): its name and units
        unit = (getattr(vae, "factor_units_", None) or {}).get(named[j])
        return named[j] + (f" ({unit})" if unit else "")
    if getattr(vae, "rotation_", None) is not None:
        return f"component {j}"
    return f"z{j}  KL={vae.kl_per_latent_[j]:.2f}"


def _one_signal(vae, x):
    """``x`` as one row of ``n_features_in_`` samples, or an error that says what was given."""
    x = np.asarray(x, dtype=float)
    if x.ndim == 2 and x.shape[0] != 1:
        raise ValueError(
            f"x must be one signal (one row of X, e.g. X[0]); got {x.shape[0]} rows of {x.shape[1]} samples. "
            "The figure shows one signal's traversals; call it once per signal.")
    if x.ndim > 2 or x.size != vae.n_features_in_:
        raise ValueError(f"x must be one signal of {vae.n_features_in_} samples (n_features_in_); got an "
                         f"array of shape {x.shape}.")
    return x.reshape(1, -1)


def plot_latent_kl(estimator, *, ax=None, threshold=0.01):
    """Bar chart of the mean KL divergence of each latent (nats) on the training data.

    Parameters
    ----------
    estimator : BetaVAETransformer or Pipeline
    ax : matplotlib Axes, default=None
    threshold : float, default=0.01
        Latents above this KL (nats) are counted as active and drawn dark.

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    plt = _pyplot()
    vae = _fitted_vae(estimator)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3), constrained_layout=True)
    kl = vae.kl_per_latent_
    active = kl > threshold
    ax.bar(np.arange(len(kl)), kl, color=np.where(active, "tab:blue", "lightgray"))
    ax.set_xticks(np.arange(len(kl)), [f"z{i}" for i in range(len(kl))])
    ax.set_ylabel("KL per latent (nats)")
    ax.set_title(f"{active.sum()} of {len(kl)} latents active (KL > {threshold} nats)")
    return ax.figure


def plot_history(estimator, *, axes=None):
    """Training curves per epoch: objective, reconstruction, KL with its capacity target.

    Parameters
    ----------
    estimator : BetaVAETransformer or Pipeline
    axes : sequence of 3 matplotlib Axes, default=None

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    plt = _pyplot()
    history = _fitted_vae(estimator).history_
    if axes is None:
        _, axes = plt.subplots(1, 3, figsize=(11, 3), constrained_layout=True)
    loss_ax, recon_ax, kl_ax = np.ravel(axes)[:3]
    loss_ax.plot(history["epoch"], history["loss"])
    loss_ax.set_title("training objective")
    recon_ax.plot(history["epoch"], history["reconstruction"], color="tab:green")
    recon_ax.set_title("reconstruction NLL (nats)")
    kl_ax.plot(history["epoch"], history["kl"], color="tab:red", label="KL")
    if history["capacity"].notna().any():
        kl_ax.plot(history["epoch"], history["capacity"], color="black", ls="--", label="capacity C")
    kl_ax.set_title("KL (nats)")
    kl_ax.legend()
    for ax in (loss_ax, recon_ax, kl_ax):
        ax.set_xlabel("epoch")
    return loss_ax.figure


def plot_reconstructions(estimator, X, *, n_signals=6, n_cols=3, axes=None, time=None, fs=None, start=None,
                         units=None, xlabel=None, ylabel=None):
    """Signals (black) over their reconstructions ``inverse_transform(transform(X))``.

    Parameters
    ----------
    estimator : BetaVAETransformer or Pipeline
    X : array-like of shape (n_samples, n_features)
    n_signals : int, default=6
        The first ``n_signals`` rows are drawn.
    n_cols : int, default=3
    axes : array of matplotlib Axes, default=None
    time : array-like of shape (n_features,), default=None
        x-axis values (of one channel's length); when None, seconds from
        ``fs`` and ``start`` or sample indices (see :func:`plot_traversal`).
    fs, start, units : float, float, str, default=None
        Sampling rate (Hz), time of the first sample from R (s) and the
        signal's units; None takes the estimator's ``signal_info_``.
    xlabel, ylabel : str, default=None
        Axis labels for the whole figure; None means the time axis's and
        "signal (units)".

    Returns
    -------
    fig : matplotlib.figure.Figure
        With several channels (``n_channels``), one row per channel.
    """
    vae = _fitted_vae(estimator)
    X = np.asarray(X, dtype=float)[:n_signals]
    reconstruction = vae.inverse_transform(vae.transform(_as_input(vae, X)))
    n_channels = getattr(vae, "n_channels", 1)
    info = getattr(vae, "signal_info_", None)
    t, time_label = time_axis(X.shape[1] // n_channels, time=time, fs=fs, start=start, info=info)
    if n_channels > 1:  # one row per channel, one column per signal
        fig, panels = _grid_axes(n_channels * len(X), axes, len(X), panel_size=(3.2, 2.0))
        panels = panels[:n_channels * len(X)].reshape(n_channels, len(X))
        for c, (name, signals, recons) in enumerate(zip(_channel_names(vae), _channel_blocks(X, n_channels),
                                                        _channel_blocks(reconstruction, n_channels))):
            _draw_reconstructions(panels[c], signals, recons, t, titles=c == 0)
            panels[c, 0].set_ylabel(name, fontsize=9)
        panels = panels.ravel()
    else:
        fig, panels = _grid_axes(len(X), axes, n_cols, panel_size=(3.2, 2.0))
        _draw_reconstructions(panels, X, reconstruction, t)
    panels[0].legend(fontsize=7)
    if axes is None:
        fig.supxlabel(xlabel or time_label, fontsize=9)
        fig.supylabel(ylabel or value_label(units, info), fontsize=9)
        fig.suptitle("Signals and their reconstructions, inverse_transform(transform(X))", fontsize=10)
    return fig


def _draw_reconstructions(panels, signals, reconstructions, t, titles=True):
    for i, (ax, signal, recon) in enumerate(zip(panels, signals, reconstructions)):
        ax.plot(t, signal, color="black", lw=1.0, label="signal")
        ax.plot(t, recon, color="tab:orange", lw=1.2, label="reconstruction")
        if titles:
            ax.set_title(f"row {i}", fontsize=9)


def plot_latent_vs_factor(estimator, X, factors, *, n_bins=20, max_points=2000, random_state=0):
    """Each latent against each known factor, with their mutual information.

    The left block is a grid of scatter plots (rows: latents by decreasing KL,
    columns: factors); the right panel is the mutual-information matrix (nats)
    from :func:`skbvae.metrics.mutual_info_matrix`, the quantity MIG is built
    on. A disentangled model shows one strong cell per factor column.

    Parameters
    ----------
    estimator : BetaVAETransformer or Pipeline
    X : array-like of shape (n_samples, n_features)
    factors : pandas.DataFrame or array-like of shape (n_samples, n_factors)
        NaN marks a factor not measured in that row (a PR interval without a P
        wave): the row is left out of that factor's panel and mutual
        information, and a warning counts such rows.
    n_bins : int, default=20
        Bins of the mutual-information estimate.
    max_points : int, default=2000
        Points drawn per scatter (a random subset).
    random_state : int, default=0
        Seeds the subset.

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    import pandas as pd

    from .metrics import mutual_info_matrix

    plt = _pyplot()
    vae = _fitted_vae(estimator)
    Z = vae.transform(_as_input(vae, np.asarray(X, dtype=float)))
    names = list(factors.columns) if isinstance(factors, pd.DataFrame) else [f"factor {j}" for j in range(np.shape(factors)[1])]
    F = np.asarray(factors, dtype=float)
    # Rows where a factor is NaN (a measured feature not measured) are left out for that factor; it says so.
    mi, _ = mutual_info_matrix(Z, pd.DataFrame(F, columns=names), n_bins=n_bins)
    order = _by_information(vae, np.arange(vae.n_components_))
    subset = np.random.default_rng(random_state).permutation(len(Z))[:max_points]
    n_latents, n_factors = len(order), F.shape[1]
    fig = plt.figure(figsize=(1.6 * n_factors + 4, 1.2 * n_latents + 1), constrained_layout=True)
    grid = fig.add_gridspec(n_latents, n_factors + 3)
    from matplotlib.ticker import MaxNLocator

    # A column shares its factor's axis and a row its latent's, so the values
    # are read off the bottom row and the left column (they once had no ticks).
    panels = np.empty((n_latents, n_factors), dtype=object)
    for row, latent in enumerate(order):
        for col in range(n_factors):
            ax = panels[row, col] = fig.add_subplot(grid[row, col], sharex=panels[0, col] if row else None,
                                                    sharey=panels[row, 0] if col else None)
            ax.scatter(F[subset, col], Z[subset, latent], s=1, alpha=0.3, color="tab:blue")
            ax.xaxis.set_major_locator(MaxNLocator(3))
            ax.yaxis.set_major_locator(MaxNLocator(3))
            ax.tick_params(labelsize=6, length=2, pad=1, labelbottom=row == n_latents - 1, labelleft=col == 0)
            if row == 0:
                ax.set_title(names[col], fontsize=8)
            if col == 0:
                ax.set_ylabel(f"z{latent}", fontsize=8)
    ax = fig.add_subplot(grid[:, n_factors:])
    image = ax.imshow(mi[order], cmap="viridis", aspect="auto")
    ax.set_xticks(np.arange(n_factors), names, rotation=60, fontsize=8)
    ax.set_yticks(np.arange(n_latents), [f"z{i}" for i in order], fontsize=8)
    ax.set_title("mutual information (nats)", fontsize=9)
    fig.colorbar(image, ax=ax, shrink=0.6)
    return fig
