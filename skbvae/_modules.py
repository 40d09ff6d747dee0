"""PyTorch encoder/decoder networks of the β-VAE (MLP and 1-D convolutional)."""

import torch
from torch import nn

from ._groups import adaptive_average
from ._loss import MIN_DECODER_VARIANCE, gaussian_variance, optimal_variance
from ._time_warp import RateWarp

#: Hidden widths (MLP) or channel counts (conv1d) used when
#: ``hidden_layer_sizes=None``. The MLP default is the seed article's "really
#: simple MLP" (187 → 256 → 128 → latent); "broadcast" has the same encoder.
DEFAULT_HIDDEN = {"mlp": (256, 128), "conv1d": (32, 64, 64), "broadcast": (256, 128)}

#: Per-timepoint layer widths of the spatial broadcast decoder: the 64
#: channels of Watters et al. (2019). 128-wide layers did no better on
#: make_heartbeats (MIG 0.135 vs 0.152) at 2.5× the CPU time.
BROADCAST_WIDTHS = (64, 64, 64)

# Rows × timepoints decoded at once by the broadcast decoder outside training,
# so inference holds a few (chunk, width) activations (~64 MiB) at a time.
_BROADCAST_CHUNK = 2**18

# Weight of each training batch in the running estimate of a closed-form
# decoder variance (as BatchNorm keeps running statistics): the last few
# hundred batches of training set the variance used outside training. The
# first 1 / momentum batches are averaged evenly, so a short run does not
# leave the estimate near its starting value.
_VARIANCE_MOMENTUM = 0.01

# Kernel of every convolution. Five samples with stride 2 doubles the receptive
# field per layer, so three layers see ~40 samples: a QRS complex at 125 Hz.
_KERNEL = 5


def _mlp(sizes):
    layers = []
    for n_in, n_out in zip(sizes[:-2], sizes[1:-1]):
        layers += [nn.Linear(n_in, n_out), nn.ReLU()]
    layers.append(nn.Linear(sizes[-2], sizes[-1]))
    return nn.Sequential(*layers)


def _conv_lengths(n_features, n_layers):
    """Signal lengths after each stride-2 convolution (input length first)."""
    lengths = [n_features]
    for _ in range(n_layers):
        lengths.append((lengths[-1] + 2 * (_KERNEL // 2) - _KERNEL) // 2 + 1)
    return lengths


class _ConvEncoder(nn.Module):
    def __init__(self, n_features, channels, n_outputs, in_channels=1):
        super().__init__()
        self.in_channels = in_channels
        layers, c_in = [], in_channels
        for c_out in channels:
            layers += [nn.Conv1d(c_in, c_out, _KERNEL, stride=2, padding=_KERNEL // 2), nn.ReLU()]
            c_in = c_out
        self.features = nn.Sequential(*layers)
        flat = channels[-1] * _conv_lengths(n_features, len(channels))[-1]
        self.head = nn.Linear(flat, n_outputs)

    def forward(self, x):
        # Channel-major rows: [channel 1 samples | channel 2 samples | ...].
        return self.head(self.features(x.reshape(len(x), self.in_channels, -1)).flatten(1))


class _ConvDecoder(nn.Module):
    """Mirror of the encoder that upsamples to the exact encoder lengths.

    Upsampling to explicit sizes (rather than transposed convolutions) makes
    any window length come back exactly, odd lengths included.
    """

    def __init__(self, n_features, channels, latent_dim, out_channels=1):
        super().__init__()
        lengths = _conv_lengths(n_features, len(channels))
        self._start = (channels[-1], lengths[-1])
        self.head = nn.Linear(latent_dim, channels[-1] * lengths[-1])
        layers = []
        reversed_channels = list(channels[::-1]) + [channels[0]]
        for i, length in enumerate(lengths[-2::-1]):
            layers += [
                nn.ReLU(),
                nn.Upsample(size=length, mode="linear", align_corners=False),
                nn.Conv1d(reversed_channels[i], reversed_channels[i + 1], _KERNEL, padding=_KERNEL // 2),
            ]
        layers += [nn.ReLU(), nn.Conv1d(reversed_channels[-1], out_channels, 1)]
        self.features = nn.Sequential(*layers)

    def forward(self, z):
        h = self.head(z).view(-1, *self._start)
        return self.features(h)


class _BroadcastDecoder(nn.Module):
    """Spatial broadcast decoder (Watters et al., 2019) for 1-D signals.

    The code ``z`` is copied to every timepoint and joined with that
    timepoint's coordinate in [-1, 1]; one small MLP, shared by all
    timepoints, maps ``(z, t)`` to the signal value. A latent that moves a wave
    in time (heart rate moving the next R peak) then needs only a shift of the
    coordinate, something one latent can express, instead of the several
    oscillating latents an MLP decoder spreads it over. The coordinate is
    deliberately raw (no Fourier features): those let the MLP memorise
    positions again and undo the benefit.
    """

    def __init__(self, n_features, latent_dim, widths=BROADCAST_WIDTHS, out_channels=1):
        super().__init__()
        self.register_buffer("coordinate", torch.linspace(-1.0, 1.0, n_features).unsqueeze(1))
        # The first layer on concat(z, t) is split in two so that z's part is
        # computed once per row, not once per timepoint.
        self.from_code = nn.Linear(latent_dim, widths[0])
        self.from_coordinate = nn.Linear(1, widths[0], bias=False)
        self.body = nn.Sequential(nn.ReLU(), _mlp((*widths, out_channels)))

    def _decode(self, z):
        h = self.from_code(z).unsqueeze(1) + self.from_coordinate(self.coordinate)
        return self.body(h).transpose(1, 2)

    def forward(self, z):
        rows = max(1, _BROADCAST_CHUNK // len(self.coordinate))
        if torch.is_grad_enabled() or len(z) <= rows:
            return self._decode(z)
        return torch.cat([self._decode(chunk) for chunk in z.split(rows)])


class _MLPDecoder(nn.Module):
    """The MLP decoder, shaped like the others: (n, out_channels, n_features).

    Channels need nothing here: channel-major features are just features.
    """

    def __init__(self, sizes, out_channels=1):
        super().__init__()
        self.out_channels = out_channels
        self.layers = _mlp((*sizes[:-1], sizes[-1] * out_channels))

    def forward(self, z):
        return self.layers(z).view(len(z), self.out_channels, -1)


class BetaVAEModule(nn.Module):
    """Gaussian-posterior VAE: an encoder to (μ, log σ²) and a decoder.

    Parameters
    ----------
    n_features : int
        Length of each input row (all channels together).
    latent_dim : int
        Number of latent dimensions.
    architecture : {"mlp", "conv1d", "broadcast"}
        Fully connected layers, strided 1-D convolutions over the signal, or
        an MLP encoder with a spatial broadcast decoder
        (:data:`BROADCAST_WIDTHS` per timepoint).
    hidden_layer_sizes : tuple of int
        Widths of the hidden layers ("mlp", and the encoder of "broadcast") or
        channels of the convolutions ("conv1d"), from the input side; the
        "mlp" and "conv1d" decoders mirror them.
    decoder_variance : {"fixed", "shared", "per_feature", "heteroscedastic"}
        Variance of a Gaussian decoder: none learned (unit variance); one for
        all features or one per feature, the batch's maximum-likelihood value
        in training (:func:`~skbvae._loss.optimal_variance`) and its running
        average (buffer ``variance``) otherwise; or a second decoder output per
        feature (a variance for every code and timepoint).
    n_channels : int, default=1
        Channels in each row, as consecutive blocks of ``n_features //
        n_channels`` samples. "conv1d" and "broadcast" treat them as signal
        channels (one convolution input channel each; one output per channel
        and timepoint); "mlp" as plain features.
    var_smoothing : float, default=1e-4
        Added to every learned decoder variance (scaled units): its floor.
    rate_warp : dict or None, default=None
        Arguments of a :class:`~skbvae._time_warp.RateWarp` (all but
        ``n_features`` and ``n_channels``): the decoder's output is then
        warped in time by a named rate latent. None: no warp.

    Notes
    -----
    ``forward`` returns ``(decoded, mu, logvar)`` where ``decoded`` is the
    decoder output (see :meth:`decode`) for a reparameterised sample in
    training mode (or with ``sample=True``) and for the posterior mean
    otherwise.
    """

    def __init__(self, n_features, latent_dim, architecture="mlp", hidden_layer_sizes=(256, 128),
                 decoder_variance="fixed", n_channels=1, var_smoothing=MIN_DECODER_VARIANCE, rate_warp=None):
        super().__init__()
        self.var_smoothing = float(var_smoothing)
        hidden = tuple(hidden_layer_sizes)
        self.latent_dim = latent_dim
        self.decoder_variance = decoder_variance
        # Decoder outputs per feature: the mean, and a variance when it is heteroscedastic.
        self.n_outputs = 2 if decoder_variance == "heteroscedastic" else 1
        length = n_features // n_channels  # samples per channel (the estimator checks divisibility)
        if architecture == "mlp":
            self.encoder = _mlp((n_features, *hidden, 2 * latent_dim))
            self.decoder = _MLPDecoder((latent_dim, *hidden[::-1], n_features), self.n_outputs)
        elif architecture == "conv1d":
            self.encoder = _ConvEncoder(length, hidden, 2 * latent_dim, n_channels)
            self.decoder = _ConvDecoder(length, hidden, latent_dim, self.n_outputs * n_channels)
        elif architecture == "broadcast":
            self.encoder = _mlp((n_features, *hidden, 2 * latent_dim))
            self.decoder = _BroadcastDecoder(length, latent_dim, out_channels=self.n_outputs * n_channels)
        else:  # validated by the estimator; kept for direct users of the module
            raise ValueError(
                f"architecture must be 'mlp', 'conv1d' or 'broadcast'; got {architecture!r}."
            )
        self.rate_warp = None if rate_warp is None else RateWarp(n_features, n_channels, **rate_warp)
        if decoder_variance in ("shared", "per_feature"):
            self.register_buffer("variance", torch.ones(1 if decoder_variance == "shared" else n_features))
            self.register_buffer("variance_updates", torch.zeros((), dtype=torch.long))
        elif decoder_variance not in ("fixed", "heteroscedastic"):
            raise ValueError(
                "decoder_variance must be 'fixed', 'shared', 'per_feature' or 'heteroscedastic'; "
                f"got {decoder_variance!r}."
            )

    def encode(self, x):
        """Posterior mean and log-variance, each of shape (n, latent_dim)."""
        if self.rate_warp is None:
            return self.encoder(x).chunk(2, dim=1)
        located = self.rate_warp.located(x)
        seen = self.rate_warp.canonical(x, located) if self.rate_warp.reads_canonical else x
        mu, logvar = self.encoder(seen).chunk(2, dim=1)
        k = self.rate_warp.latent
        mu = torch.cat([mu[:, :k], located[:, None].to(mu.dtype), mu[:, k + 1:]], dim=1)
        return mu, logvar

    def decode(self, z):
        """Decoder output for codes ``z``: ``(loc, variance)``.

        ``loc`` (n, n_features) is the Gaussian mean or the Bernoulli logits;
        ``variance`` is None for a fixed variance, else the decoder's variance
        in scaled units, of shape (1,), (n_features,) or (n, n_features).
        """
        # Every decoder gives (n, n_outputs * channels, samples per channel),
        # output-major; as (n, n_outputs, n_features) channels are blocks again.
        out = self.decoder(z).reshape(len(z), self.n_outputs, -1)
        if self.decoder_variance == "heteroscedastic":
            loc, variance = out[:, 0], gaussian_variance(out[:, 1], self.var_smoothing)
        else:
            loc, variance = out[:, 0], getattr(self, "variance", None)
        if self.rate_warp is not None:
            loc, variance = self.rate_warp(z, loc, variance)
        return loc, variance

    def forward(self, x, sample=None, partners=None):
        """Decode a reparameterised draw (``sample=True``) or the posterior mean.

        ``sample=None`` draws in training mode only; validation passes
        ``sample=True`` so its loss is the same Monte Carlo ELBO as training's.
        ``partners`` (training with groups, "pairs"): each row's partner in
        the batch or -1; the pair's shared latents are averaged first
        (:func:`~skbvae._groups.adaptive_average`).
        """
        mu, logvar = self.encode(x)
        if partners is not None:
            mu, logvar = adaptive_average(mu, logvar, partners)
        if self.training if sample is None else sample:
            z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        else:
            z = mu
        loc, variance = self.decode(z)
        if self.training and self.decoder_variance in ("shared", "per_feature"):
            variance = optimal_variance(x, loc, self.decoder_variance, self.var_smoothing)
            with torch.no_grad():
                self.variance_updates += 1
                weight = torch.clamp(1.0 / self.variance_updates, min=_VARIANCE_MOMENTUM)
                self.variance.lerp_(variance, weight)
        return (loc, variance), mu, logvar
