"""The rate warp: a named rate (heart rate) moves the next event as a whole, by stretching time.

A heart-rate edit must move the next R peak of a beat window. An MLP decoder
draws one output per sample, so a peak that moves between beats is drawn as
a blur (or not at all) and no code moves it: measured on LUDB, DS1 and
``make_heartbeats``, a heart-rate edit of the defaults changed the measured
rate by 0.00 of the change asked (``benchmarks/README.md``).

With a rate factor the decoder draws each window in *canonical time*, in
which the next event sits one median period (``60 / median rate``) after
the event; the rate latent's value, read in the factor's units through its
standardisation (``rate = center + scale · z``), then places the next event
at ``60 / rate`` seconds by stretching the interval between the two: from
:data:`STRETCH_START` (at most, or half the period) after the event to
:data:`STRETCH_END` (at most, or a quarter of the period) before the next
one. The event's own wave (QRS, most of T) and the next event with the wave
just before it (the next P) keep their shape; only the quiet interval
between them is stretched, as the diastole is when the heart rate changes.
Everything before the event keeps its place.

The warp acts on the decoder's output in the signal's units (the estimator
scales each feature; the warp undoes that, resamples by linear
interpolation, and scales again), so it is one differentiable resampling of
the decoded mean and variance.

The encoder reads the rate latent's mean from where the next event is
(:meth:`RateWarp.located`): a learned filter's energy after the event, read
against the event's own energy, its soft arg-max taken for the next event
and the interval measured from the event's own soft arg-max; the earlier of
two strong peaks is preferred (a window of a fast rhythm holds two next
events), and "no next event in the window" (a rate under 48 per minute in
the loader's window) is an answer of its own. The filter is the same at every
position, so it finds a new patient's next R where it is. The MLP encoder
read the rate by where its weights had learned to look: on new MIT-BIH
patients it missed by a median 12.6 bpm, and a next R drawn sharply where
the code wrongly put it cost the held-out ELBO more than the warp gained
(DS1 fold 0: -11.9 nats per beat against 22.1 without the warp; located,
5.7 bpm and 28.4 nats).

The encoder reads the other latents from the rows in canonical time
(:meth:`RateWarp.canonical`: the warp undone at the located rate), as the
decoder draws them, so they need not and cannot take the rate from where the
next event is. On new LUDB patients this took the held-out ELBO from 2.5 %
under the model without factors to 1 % above it, and the QRS read-out from
0.37 to 0.53 (seed 0, 5 folds). The loss is as without the warp.
"""

import math

import torch
from torch import nn

from ._warnings import warn_user

#: Seconds after the event where the stretch starts, at most (half the period when that is shorter):
#: past the QRS and most of the T wave at rest.
STRETCH_START = 0.35
#: Seconds before the next event where the stretch ends, at most (a quarter of the period when that is
#: shorter): the next P wave keeps its place before the next R.
STRETCH_END = 0.2
#: Rates outside this range (events per minute) are clipped before the warp.
RATE_RANGE = (20.0, 300.0)
#: The rate locator: filters and their length (samples), and the soft arg-max's first temperature.
LOCATOR_FILTERS, LOCATOR_KERNEL, LOCATOR_TEMPERATURE = 4, 9, 0.05
#: The locator's first preference for earlier positions: the share of the event's energy that the first of two
#: equal peaks wins by, from one end of the searched window to the other (learned from there).
LOCATOR_EARLINESS = 0.5
#: Seconds either side of the event where the locator measures the event's own energy and position: the
#: next event's energy is read against it, and its position from it.
EVENT_REACH = 0.04
#: The score, in shares of the event's energy, that "no next event in the window" starts with (learned), and
#: how far past the window's end that answer first puts the next event (seconds, learned).
BEYOND_SCORE, BEYOND_SECONDS = 0.2, 0.25


def warp_positions(rate, n_samples, fs, event_index, period):
    """Canonical sample positions each output sample reads, for rates in events per minute.

    Parameters
    ----------
    rate : tensor of shape (n,)
        Events per minute of each row.
    n_samples : int
        Samples per channel.
    fs : float
        Sampling rate (Hz).
    event_index : float
        Sample index of the event (R) in the window.
    period : float
        Seconds from the event to the next one in canonical time.

    Returns
    -------
    positions : tensor of shape (n, n_samples)
        Fractional sample indices into the canonical window, in ``[0, n_samples - 1]``.

    Examples
    --------
    >>> import torch
    >>> from skbvae._time_warp import warp_positions
    >>> pos = warp_positions(torch.tensor([60.0, 120.0]), 150, fs=100.0, event_index=20.0, period=1.0)
    >>> round(float(pos[0, 120]), 3), round(float(pos[1, 70]), 3)  # the next R: 1 s (60 bpm), 0.5 s (120 bpm) after R
    (120.0, 120.0)
    """
    return _WarpPositions.apply(rate, n_samples, float(fs), float(event_index), float(period))


class _WarpPositions(torch.autograd.Function):
    """:func:`warp_positions` with its gradient written out.

    The reconstruction's gradient must reach the rate latent through the positions: without it
    nothing shrinks that latent's posterior spread, training warps by a rate drawn ±1 SD wide, and
    the decoder never learns a sharp next event (on ``make_heartbeats``: found in 1 % of decoded
    windows against 100 %). Autograd through the dozen broadcast operations cost half the warp's
    time; the closed form below needs three sums per row.
    """

    @staticmethod
    def _rows(rate, period):
        """Per row: the interval, the stretch's start, end and factor, and their derivatives in the interval."""
        inside_range = (rate >= RATE_RANGE[0]) & (rate <= RATE_RANGE[1])
        interval = 60.0 / rate.clamp(*RATE_RANGE)
        d_start = torch.where(0.5 * interval < STRETCH_START, 0.5, 0.0).to(rate.dtype)
        d_end = torch.where(0.25 * interval < STRETCH_END, 0.75, 1.0).to(rate.dtype)
        start = torch.clamp(0.5 * interval, max=STRETCH_START)
        end = interval - torch.clamp(0.25 * interval, max=STRETCH_END)
        # The stretch maps [start, end] onto [start, end + period - interval], and time beyond it is
        # shifted alike. A floor keeps the map increasing where the canonical period is very short.
        span, target = end - start, end + period - interval - start
        stretch = target / span
        d_stretch = ((d_end - 1.0 - d_start) * span - target * (d_end - d_start)) / span ** 2
        d_stretch = torch.where(stretch > 0.2, d_stretch, 0.0)
        d_interval = torch.where(inside_range, -interval ** 2 / 60.0, 0.0)  # d(60 / rate) / d rate
        return start, end, stretch.clamp(min=0.2), d_start, d_end, d_stretch, d_interval

    @staticmethod
    def forward(ctx, rate, n_samples, fs, event_index, period):
        start, end, stretch, *derivatives = _WarpPositions._rows(rate, period)
        # In samples: canonical = t + (stretch - 1) * clip(t - start, 0, end - start).
        index = torch.arange(n_samples, device=rate.device, dtype=rate.dtype)
        offset = index[None] - (event_index + fs * start)[:, None]
        inside = torch.minimum(offset.clamp(min=0), (fs * (end - start))[:, None])
        raw = torch.addcmul(index[None], inside, (stretch - 1)[:, None])
        ctx.save_for_backward(inside, offset, (raw >= 0) & (raw <= n_samples - 1), stretch, *derivatives)
        ctx.fs, ctx.span = fs, fs * (end - start)
        return raw.clamp(0, n_samples - 1)

    @staticmethod
    def backward(ctx, grad):
        inside, offset, kept, stretch, d_start, d_end, d_stretch, d_interval = ctx.saved_tensors
        grad = grad * kept
        rising = (offset > 0) & (offset < ctx.span[:, None])  # inside = offset: moves with the start
        full = offset >= ctx.span[:, None]  # inside = the whole span: moves with end - start
        d_inside = ctx.fs * (-d_start * (grad * rising).sum(1) + (d_end - d_start) * (grad * full).sum(1))
        d_rate = (d_stretch * (grad * inside).sum(1) + (stretch - 1) * d_inside) * d_interval
        return d_rate, None, None, None, None


def resample(positions, *values):
    """Each of ``values`` (n, channels * n_samples) read at fractional ``positions`` (n, n_samples), linearly.

    Channels are consecutive blocks of ``n_samples``, each read at the same positions; the last sample
    is its own right neighbour.

    Examples
    --------
    >>> import torch
    >>> from skbvae._time_warp import resample
    >>> values = torch.tensor([[0.0, 10.0, 20.0, 30.0]])
    >>> resample(torch.tensor([[0.0, 0.5, 2.25, 3.0]]), values)[0].tolist()
    [[0.0, 5.0, 22.5, 30.0]]
    """
    return _Resample.apply(positions, *values)


class _Resample(torch.autograd.Function):
    """:func:`resample` with its gradient written out.

    Linear interpolation as two gathers of the rows, their gradient as two ``scatter_add_``, instead
    of autograd through one ``gather`` with a channel-expanded index, ``chunk`` and ``lerp``, whose
    backward concatenated the halves again. With the locator's product below, it took the fit with the
    warp from 1.78 to 1.56 times the fit without factors (LUDB fold 0, one run, alternating;
    ``benchmarks/bench_rate_warp_cost.py``).
    """

    @staticmethod
    def forward(ctx, positions, *values):
        n, length = positions.shape
        channels = values[0].shape[1] // length
        low = positions.floor()
        weight = positions - low
        low = low.long()
        high = (low + 1).clamp_(max=length - 1)
        if channels > 1:  # the same positions in each channel's block
            offsets = torch.arange(0, channels * length, length, device=low.device)[None, :, None]
            low, high = ((i[:, None] + offsets).reshape(n, -1) for i in (low, high))
            weight = weight.repeat(1, channels)
        out, steps = [], []
        for v in values:
            before, after = v.gather(1, low), v.gather(1, high)
            step = after - before
            out.append(torch.addcmul(before, weight, step))
            steps.append(step)
        ctx.save_for_backward(low, high, weight, *steps)
        ctx.channels = channels
        return tuple(out)

    @staticmethod
    def backward(ctx, *grads):
        low, high, weight, *steps = ctx.saved_tensors
        d_positions, d_values = 0.0, []
        for grad, step in zip(grads, steps):
            to_high = grad * weight
            d_values.append(torch.zeros_like(grad).scatter_add_(1, low, grad - to_high).scatter_add_(1, high, to_high))
            d_positions = d_positions + grad * step
        if ctx.channels > 1:
            d_positions = d_positions.reshape(len(low), ctx.channels, -1).sum(1)
        return (d_positions, *d_values)


class RateWarp(nn.Module):
    """The decoder output's rate warp and the rate latent's locator (module docstring), one per network.

    Parameters
    ----------
    n_features : int
        Features per row (all channels).
    n_channels : int
        Channels per row, as consecutive blocks; each is warped alike.
    latent : int
        Index of the rate's latent in the network's latent vector.
    rate_center, rate_scale : float
        The factor's standardisation: ``rate = rate_center + rate_scale · z``.
    fs : float
        Sampling rate (Hz).
    event_index : float
        Sample index of the event in each channel's window.
    period : float
        Canonical seconds from the event to the next (``60 / rate_center``).
    center, scale : array-like of shape (n_features,)
        The estimator's input scaling; the warp acts in the signal's units.
    affine : bool
        False for Bernoulli logits, which are warped as they are.
    """

    #: The arguments that are plain numbers: what a model file keeps to rebuild the warp
    #: (``center`` and ``scale`` are the estimator's ``center_`` and ``scale_``).
    ARGUMENTS = ("latent", "rate_center", "rate_scale", "fs", "event_index", "period", "affine")

    def __init__(self, n_features, n_channels, latent, rate_center, rate_scale, fs, event_index, period,
                 center, scale, affine=True):
        super().__init__()
        self.n_channels, self.latent, self.affine = int(n_channels), int(latent), bool(affine)
        self.rate_center, self.rate_scale = float(rate_center), float(rate_scale)
        self.fs, self.event_index, self.period = float(fs), float(event_index), float(period)
        self.register_buffer("center", torch.as_tensor(center, dtype=torch.float32).reshape(n_features).clone())
        self.register_buffer("scale", torch.as_tensor(scale, dtype=torch.float32).reshape(n_features).clone())
        # The rate latent's mean comes from where the next event is (located); the next event is
        # looked for from the shortest interval on (60 / the highest rate).
        bound = 1.0 / math.sqrt(self.n_channels * LOCATOR_KERNEL)  # as a convolution's default initialisation
        weights = torch.empty(LOCATOR_FILTERS, self.n_channels, LOCATOR_KERNEL).uniform_(-bound, bound)
        self.locator = nn.Parameter(weights)
        self.log_temperature = nn.Parameter(torch.tensor(math.log(LOCATOR_TEMPERATURE)))
        self.earliness = nn.Parameter(torch.tensor(LOCATOR_EARLINESS))
        self.beyond_score = nn.Parameter(torch.tensor(BEYOND_SCORE))
        self.beyond_log_samples = nn.Parameter(torch.tensor(math.log(BEYOND_SECONDS * self.fs)))
        # The encoder reads the rows in canonical time (:meth:`canonical`), and the locator reads the next
        # event's energy against the event's own (:meth:`located`); buffers, so that files saved before,
        # which did neither, keep computing as they did. Each is mirrored as a Python bool for the forward pass.
        self.register_buffer("canonical_input", torch.tensor(True))
        self.register_buffer("event_relative", torch.tensor(True))
        self.reads_canonical = self.reads_relative = True
        self.search_from = int(math.ceil(self.event_index + self.fs * 60.0 / RATE_RANGE[1]))
        reach = max(1, int(math.ceil(EVENT_REACH * self.fs)))
        self.event_from = int(math.floor(self.event_index)) - reach
        self.event_span = 2 * reach + 1

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # Files saved before the locator preferred earlier peaks have no earliness: none is what they used;
        # nor did their encoders read the rows in canonical time, nor their locators read energy against
        # the event's (their "no next event" parameters are never used).
        state_dict.setdefault(prefix + "earliness", torch.tensor(0.0))
        state_dict.setdefault(prefix + "canonical_input", torch.tensor(False))
        state_dict.setdefault(prefix + "event_relative", torch.tensor(False))
        state_dict.setdefault(prefix + "beyond_score", torch.tensor(BEYOND_SCORE))
        state_dict.setdefault(prefix + "beyond_log_samples", torch.tensor(math.log(BEYOND_SECONDS * self.fs)))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
        self.reads_canonical = bool(self.canonical_input)
        self.reads_relative = bool(self.event_relative)

    def located(self, x):
        """The rate latent's mean (standardised) from where the next event is in the input rows ``x``.

        A soft arg-max over the window after the event of a learned filter's energy: the same
        filter at every position, so a new patient's next R is found where it is, whatever the
        patient's morphology (an MLP encoder reads the rate by where its weights were trained to
        look, and on new MIT-BIH patients missed it by a median 12.6 bpm). The energy is read
        against the event's own (a next event as strong as it counts fully, a T wave little), and
        "no next event in the window" is an answer of its own, past the window's end.
        """
        # In float32 at least, autocast or not: a position of 56-186 in bfloat16 is a whole sample.
        work = torch.promote_types(x.dtype, torch.float32)
        with torch.autocast(x.device.type, enabled=False):
            # The filtered samples and their neighbours, in the signal's units: from the event's
            # neighbourhood on, or (files saved before) from the searched window on.
            half = LOCATOR_KERNEL // 2
            first = self.event_from if self.reads_relative else self.search_from
            length = x.shape[1] // self.n_channels
            kept = slice(max(first - half, 0), None)
            signal = x.to(work).reshape(len(x), self.n_channels, -1)[:, :, kept]
            if self.affine:
                center, scale = (v.to(work).reshape(self.n_channels, -1)[:, kept] for v in (self.center, self.scale))
                signal = torch.addcmul(center, scale, signal)
            signal = nn.functional.pad(signal, (max(half - first, 0), half), mode="replicate")
            # The filter as one matrix product over each sample's neighbourhood (a 1-channel
            # convolution's backward took several times the whole warp), the neighbourhoods as columns:
            # (filters, channels * kernel) @ (channels * kernel, rows * samples) took 61 us forward and
            # 82 us backward on a batch of 256, against 352 and 210 us with the neighbourhoods as rows,
            # whose inner dimension of 9 BLAS handles poorly. Zero-mean, so a baseline offset is no energy.
            windows = signal.unfold(2, LOCATOR_KERNEL, 1)  # (n, channels, samples, kernel)
            filtered_n = windows.shape[2]
            windows = windows.permute(1, 3, 0, 2).reshape(-1, len(x) * filtered_n)
            kernel = self.locator.to(work)
            kernel = (kernel - kernel.mean(dim=2, keepdim=True)).reshape(LOCATOR_FILTERS, -1)
            energy = (kernel @ windows).square().sum(dim=0).reshape(len(x), filtered_n)
            temperature = self.log_temperature.exp().to(work)
            index = torch.arange(self.search_from, length, device=x.device, dtype=work)
            if self.reads_relative:
                # The event's energy and position: its peak and soft arg-max within EVENT_REACH. Read against
                # the window's own largest energy, a window whose next R lies past its end (a rate under 48
                # per minute) had its T wave, or a premature beat's, taken for the next R: MIT-BIH 114's
                # ventricular beats at 36-46 bpm were read at 160-208. Read against the event's, that T is
                # weak, and a later peak taller than the event's counts no more than a full one, so the
                # earlier wins (201's next R at 0.68 s lost to a taller one at 1.08). The position is
                # measured from the event's soft arg-max, which the same filter's peaks place alike.
                event = energy[:, :self.event_span]
                peak = event.amax(dim=1, keepdim=True).clamp(min=1e-12)
                offsets = torch.arange(self.event_from, self.event_from + self.event_span, device=x.device,
                                       dtype=work)
                event_position = (torch.softmax(event / peak / temperature, dim=1) * offsets).sum(dim=1)
                energy = (energy[:, self.search_from - first:] / peak).clamp(max=1.0)
            else:
                energy = energy / energy.amax(dim=1, keepdim=True).clamp(min=1e-12)
                event_position = self.event_index
            # The next event is the first strong one: above ~96 per minute the window holds two, of about
            # the same energy, and a soft arg-max of the energy alone put the rate between them (MIT-BIH
            # 215, 113 bpm, read at 77; 203 and 208 alike). A learned share of the energy, growing along
            # the window, makes the earlier of two equal peaks win.
            ramp = torch.linspace(0.0, 1.0, energy.shape[1], device=x.device, dtype=work)
            energy = energy - self.earliness.to(work).clamp(min=0.0) * ramp
            if self.reads_relative:  # no next event in the window: a learned score and position past its end
                energy = torch.cat([energy, self.beyond_score.to(work).expand(len(x), 1)], dim=1)
                beyond = (length - 1 + self.beyond_log_samples.to(work).exp()).reshape(1)
                index = torch.cat([index, beyond])
            weights = torch.softmax(energy / temperature, dim=1)
            position = (weights * index).sum(dim=1)
            rate = 60.0 * self.fs / (position - event_position)
            return (rate - self.rate_center) / self.rate_scale

    def canonical(self, x, code):
        """The input rows ``x`` read in canonical time, for rate codes ``code`` (standardised): the warp undone.

        The next event then sits one canonical period after the event in every row, as in the decoder's
        output before the warp, so an encoder that reads these rows cannot read the rate from where the
        next event is. No gradient: the rows are data and the rate's own latent is located.
        """
        work = torch.promote_types(x.dtype, torch.float32)
        with torch.no_grad(), torch.autocast(x.device.type, enabled=False):
            rate = self.rate_center + self.rate_scale * code.to(work)
            start, end, stretch, *_ = _WarpPositions._rows(rate, self.period)
            length = x.shape[1] // self.n_channels
            index = torch.arange(length, device=x.device, dtype=work)
            # The inverse of warp_positions' map: canonical time u reads signal time
            # u + (1 / stretch - 1) * clip(u - start, 0, stretch * (end - start)).
            offset = index[None] - (self.event_index + self.fs * start)[:, None]
            inside = torch.minimum(offset.clamp(min=0), (self.fs * (end - start) * stretch)[:, None])
            positions = torch.addcmul(index[None], inside, (1.0 / stretch - 1.0)[:, None]).clamp(0, length - 1)
            # In the signal's units, as forward warps the decoder's output.
            center, scale = (self.center.to(work), self.scale.to(work)) if self.affine else (0.0, 1.0)
            (read,) = resample(positions, center + scale * x.to(work))
            return ((read - center) / scale).to(x.dtype)

    def forward(self, z, loc, variance):
        """The warped ``(loc, variance)`` of :meth:`BetaVAEModule.decode` for codes ``z``."""
        length = loc.shape[1] // self.n_channels
        rate = self.rate_center + self.rate_scale * z[:, self.latent].float()
        # In float32 at least: bfloat16 keeps 8 bits, whole samples only at positions of 128-255,
        # which would drop the interpolation between them.
        dtype = loc.dtype
        work = torch.promote_types(dtype, torch.float32)
        positions = warp_positions(rate, length, self.fs, self.event_index, self.period).to(work)
        loc = loc.to(work)
        variance = variance if variance is None else variance.to(work)
        center, scale = (self.center.to(work), self.scale.to(work)) if self.affine else (0.0, 1.0)
        per_row = variance is not None and variance.dim() == 2
        if per_row:  # a variance per row and feature moves with the signal; a shared one stays
            signal, variance = resample(positions, center + scale * loc, variance * scale ** 2)
            variance = (variance / scale ** 2).to(dtype)
        else:
            (signal,) = resample(positions, center + scale * loc)
        loc = ((signal - center) / scale).to(dtype)
        return loc, variance


#: The factor ``rate_factor="auto"`` warps by: the name :func:`skbvae.ecg.measure_beat_features` gives heart rate.
AUTO_RATE_FACTOR = "heart_rate"
#: Seconds after the event that windows must reach for ``rate_factor="auto"`` to warp: a next R at 60 bpm. Shorter
#: windows (0.25-0.6 s after R for intervals and classification) show the next R of fast beats only.
AUTO_MIN_REACH = 1.0


def resolve_rate_factor(rate_factor, factor_names, info, n_samples, warn=warn_user):
    """The named factor to warp by (or None), checked against the factors and the rows' timing.

    Parameters
    ----------
    rate_factor : str or None
        The estimator's parameter. ``"auto"``: :data:`AUTO_RATE_FACTOR` when it is one of the factors
        and the rows' windows reach past the next event, else None (with a warning when only the
        rows' timing is missing, which ``rate_factor="heart_rate"`` would have asked for). Windows
        must reach :data:`AUTO_MIN_REACH` seconds after the event.
    factor_names : list of str
        The fit's named factors (empty without factors).
    info : dict or None
        The rows' timing (:func:`skbvae._signal_info.signal_info`): ``fs`` and ``start``.
    n_samples : int
        Samples per channel.

    Returns
    -------
    name : str or None

    Examples
    --------
    >>> from skbvae._time_warp import resolve_rate_factor
    >>> resolve_rate_factor("auto", ["heart_rate", "r_amplitude"], {"fs": 125.0, "start": -0.25}, 188)
    'heart_rate'
    >>> resolve_rate_factor("auto", ["r_amplitude"], {"fs": 125.0, "start": -0.25}, 188) is None
    True
    """
    if rate_factor is None:
        return None
    if rate_factor == "auto":
        if AUTO_RATE_FACTOR not in factor_names:
            return None
        if info is None or info.get("start") is None:
            warn(f"The factors name {AUTO_RATE_FACTOR!r}, but X carries no timing, so the decoder is not warped by "
                 "it and heart-rate edits will hardly move the next beat (0.00 of the change asked on new "
                 "patients without the warp). Pass X as a DataFrame whose attrs['signal'] holds {'fs': Hz, "
                 "'start': seconds of the first sample from R} (load_wfdb_heartbeats(..., as_frame=True) sets "
                 "it), or rate_factor=None to fit without the warp and this warning.", UserWarning)
            return None
        if _window_problem(info, n_samples) is not None or _reach(info, n_samples) < AUTO_MIN_REACH:
            return None  # windows for intervals or classification, not for the next beat: nothing said
        return AUTO_RATE_FACTOR
    if not factor_names:
        warn(f"rate_factor={rate_factor!r} warps the decoder by a named factor; this fit has no factors "
             "(fit(X, factors=F)), so it trains without the warp.", UserWarning)
        return None
    if rate_factor not in factor_names:
        raise ValueError(f"rate_factor={rate_factor!r} is not one of the factors' columns {factor_names}; name "
                         "the column that holds the rate in events per minute, or use None.")
    if info is None or info.get("start") is None:
        raise ValueError(f"rate_factor={rate_factor!r} needs the rows' timing to place the next event: pass X as "
                         "a DataFrame whose attrs['signal'] holds {'fs': Hz, 'start': seconds of the first "
                         "sample from the event} (load_wfdb_heartbeats(..., as_frame=True) sets it).")
    problem = _window_problem(info, n_samples)
    if problem is not None:
        raise ValueError(f"rate_factor={rate_factor!r}: {problem}")
    return rate_factor


def _reach(info, n_samples):
    """Seconds from the event to the last sample of windows of ``n_samples`` with this timing."""
    return (n_samples - 1) / info["fs"] + info["start"]


def _window_problem(info, n_samples):
    """Why windows of ``n_samples`` with this timing hold no next event to move, or None."""
    event = -info["start"] * info["fs"]
    if not 0 <= event < n_samples - 1:
        return (f"the event (start={info['start']} s at fs={info['fs']} Hz) is not inside the {n_samples}-sample "
                "window, so there is no next event to move.")
    shortest = 60.0 / RATE_RANGE[1]
    if event + info["fs"] * shortest >= n_samples - LOCATOR_KERNEL:
        return (f"the window ends {_reach(info, n_samples):.2f} s after the event, before any next "
                f"event ({shortest:g} s at {RATE_RANGE[1]:g} per minute) could show; the rate warp needs windows "
                "that hold the next event (the loader's default window runs to 1.25 s after R).")
    return None


def rate_warp_spec(name, factor_names, factor_center, factor_scale, info, affine):
    """The :class:`RateWarp` arguments of :attr:`RateWarp.ARGUMENTS` for a new fit (None without a rate factor)."""
    if name is None:
        return None
    k = factor_names.index(name)
    center, scale = float(factor_center[k]), float(factor_scale[k])
    if not (math.isfinite(center) and center > 0):
        raise ValueError(f"rate_factor={name!r}: its median is {center:g}; a rate in events per minute is positive.")
    return {"latent": k, "rate_center": center, "rate_scale": scale, "fs": float(info["fs"]),
            "event_index": -float(info["start"]) * float(info["fs"]), "period": 60.0 / center, "affine": affine}


def rate_warp_of(module):
    """The :attr:`RateWarp.ARGUMENTS` of ``module``'s warp (None without one), to rebuild it."""
    warp = getattr(getattr(module, "_orig_mod", module), "rate_warp", None)
    return None if warp is None else {name: getattr(warp, name) for name in RateWarp.ARGUMENTS}
