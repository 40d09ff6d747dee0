"""The β-VAE objective terms against closed forms."""

import math

import numpy as np
import pytest
import torch
from scipy.stats import norm

from skbvae._loss import (
    MIN_DECODER_VARIANCE,
    BetaVAELoss,
    capacity_target,
    decoder_std,
    gaussian_variance,
    kl_per_latent,
    optimal_variance,
    reconstruction_nll,
)
from skbvae._modules import BetaVAEModule


def test_kl_is_zero_at_the_prior_and_matches_closed_form():
    mu, logvar = torch.zeros(2, 3), torch.zeros(2, 3)
    assert torch.all(kl_per_latent(mu, logvar) == 0)
    mu, sigma = torch.tensor([[1.5]]), torch.tensor([[0.5]])
    expected = math.log(1 / 0.5) + (0.5**2 + 1.5**2) / 2 - 0.5
    assert kl_per_latent(mu, 2 * sigma.log()).item() == pytest.approx(expected, rel=1e-6)


def test_gaussian_nll_is_a_unit_variance_log_density():
    x, mean = torch.tensor([[0.3, -1.0, 2.0]]), torch.tensor([[0.0, 0.5, 2.5]])
    expected = -norm.logpdf(x.numpy(), loc=mean.numpy()).sum()
    assert reconstruction_nll(x, (mean, None), "gaussian").item() == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("shape", [(1,), (3,), (1, 3)])
def test_gaussian_nll_with_learned_variance_is_a_log_density(shape):
    x, mean = torch.tensor([[0.3, -1.0, 2.0]]), torch.tensor([[0.0, 0.5, 2.5]])
    raw = torch.linspace(-3.0, 2.0, int(np.prod(shape))).reshape(shape)
    variance = gaussian_variance(raw)
    expected = -norm.logpdf(x.numpy(), loc=mean.numpy(), scale=variance.sqrt().numpy()).sum()
    assert reconstruction_nll(x, (mean, variance), "gaussian").item() == pytest.approx(expected, rel=1e-5)
    np.testing.assert_allclose(decoder_std((mean, variance), "gaussian").numpy(),
                               np.broadcast_to(variance.sqrt().numpy(), (1, 3)), rtol=1e-6)


def test_learned_variance_starts_at_one_and_never_reaches_zero_or_overflows():
    assert gaussian_variance(torch.zeros(1)).item() == pytest.approx(1.0, rel=1e-3)
    extremes = gaussian_variance(torch.tensor([-1e30, -100.0, 100.0, 1e30]))
    assert extremes[0].item() == extremes[1].item() == pytest.approx(MIN_DECODER_VARIANCE)
    assert torch.isfinite(extremes[2]) and extremes[2].item() == pytest.approx(100.5413, rel=1e-4)
    assert torch.isfinite(extremes[3])  # softplus is linear above: exp(1e30) would overflow
    # A decoder that fits a feature exactly has a finite NLL at the floor.
    floor = gaussian_variance(torch.full((2,), -1e6))
    nll = reconstruction_nll(torch.zeros(1, 2), (torch.zeros(1, 2), floor), "gaussian")
    assert torch.isfinite(nll).all()


@pytest.mark.parametrize("decoder_variance", ["shared", "per_feature"])
def test_optimal_variance_is_the_mean_squared_error_and_maximises_the_likelihood(decoder_variance):
    generator = torch.Generator().manual_seed(0)
    x, loc = torch.randn(64, 5, generator=generator), 0.3 * torch.randn(64, 5, generator=generator)
    variance = optimal_variance(x, loc, decoder_variance)
    errors = (x - loc).pow(2)
    expected = errors.mean().reshape(1) if decoder_variance == "shared" else errors.mean(dim=0)
    torch.testing.assert_close(variance, expected + MIN_DECODER_VARIANCE)
    best = reconstruction_nll(x, (loc, variance), "gaussian").sum()
    for factor in (0.8, 1.25):
        assert reconstruction_nll(x, (loc, variance * factor), "gaussian").sum() > best
    # A perfect fit stops at the floor rather than at a zero variance.
    assert optimal_variance(x, x, decoder_variance).min().item() == pytest.approx(MIN_DECODER_VARIANCE)


def test_bernoulli_nll_is_binary_cross_entropy():
    x, logits = torch.tensor([[1.0, 0.0, 0.25]]), torch.tensor([[2.0, -1.0, 0.0]])
    p = torch.sigmoid(logits)
    expected = -(x * p.log() + (1 - x) * (1 - p).log()).sum()
    assert reconstruction_nll(x, (logits, None), "bernoulli").item() == pytest.approx(expected.item(), rel=1e-6)


def test_capacity_grows_linearly_then_holds():
    assert capacity_target(0, 25.0, 100) == 0.0
    assert capacity_target(50, 25.0, 100) == 12.5
    assert capacity_target(100, 25.0, 100) == 25.0
    assert capacity_target(1000, 25.0, 100) == 25.0


def test_objectives_of_higgins_and_burgess():
    x = torch.zeros(4, 2)
    decoded = torch.ones(4, 2), None
    mu, logvar = torch.ones(4, 3), torch.zeros(4, 3)
    recon = 2 * 0.5 * (1 + math.log(2 * math.pi))
    kl = 3 * 0.5
    higgins, r, k = BetaVAELoss("gaussian", beta=4.0)((decoded, mu, logvar), x)
    assert higgins.item() == pytest.approx(recon + 4 * kl, rel=1e-6)
    assert (r.item(), k.item()) == pytest.approx((recon, kl), rel=1e-6)
    burgess = BetaVAELoss("gaussian", beta=10.0, capacity=20.0, capacity_steps=10)
    assert burgess((decoded, mu, logvar), x, step=5)[0].item() == pytest.approx(recon + 10 * abs(kl - 10.0), rel=1e-6)
    assert burgess((decoded, mu, logvar), x, step=0)[0].item() == pytest.approx(recon + 10 * kl, rel=1e-6)


_VARIANCE_SHAPES = {"fixed": None, "shared": (1,), "per_feature": ("n_features",),
                    "heteroscedastic": (5, "n_features")}


@pytest.mark.parametrize("decoder_variance", list(_VARIANCE_SHAPES))
@pytest.mark.parametrize("architecture, hidden", [("mlp", (8, 4)), ("conv1d", (4, 8, 8)), ("broadcast", (8,))])
@pytest.mark.parametrize("n_features", [1, 5, 64, 187])
def test_module_shapes(architecture, hidden, n_features, decoder_variance):
    module = BetaVAEModule(n_features, 3, architecture, hidden, decoder_variance).eval()
    x = torch.randn(5, n_features)
    (loc, variance), mu, logvar = module(x)
    assert loc.shape == (5, n_features) and mu.shape == logvar.shape == (5, 3)
    shape = _VARIANCE_SHAPES[decoder_variance]
    if shape is None:
        assert variance is None
    else:
        assert variance.shape == tuple(n_features if d == "n_features" else d for d in shape)
        assert (variance >= MIN_DECODER_VARIANCE).all()
    # Evaluation mode decodes the posterior mean: deterministic.
    torch.testing.assert_close(module(x)[0][0], loc)
    np.testing.assert_array_equal(module.decode(mu)[0].detach().numpy(), loc.detach().numpy())
