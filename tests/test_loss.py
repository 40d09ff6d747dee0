"""The β-VAE objective terms against closed forms."""

import math

import numpy as np
import pytest
import torch
from scipy.stats import norm

from skbvae._loss import BetaVAELoss, capacity_target, kl_per_latent, reconstruction_nll
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
    assert reconstruction_nll(x, mean, "gaussian").item() == pytest.approx(expected, rel=1e-6)


def test_bernoulli_nll_is_binary_cross_entropy():
    x, logits = torch.tensor([[1.0, 0.0, 0.25]]), torch.tensor([[2.0, -1.0, 0.0]])
    p = torch.sigmoid(logits)
    expected = -(x * p.log() + (1 - x) * (1 - p).log()).sum()
    assert reconstruction_nll(x, logits, "bernoulli").item() == pytest.approx(expected.item(), rel=1e-6)


def test_capacity_grows_linearly_then_holds():
    assert capacity_target(0, 25.0, 100) == 0.0
    assert capacity_target(50, 25.0, 100) == 12.5
    assert capacity_target(100, 25.0, 100) == 25.0
    assert capacity_target(1000, 25.0, 100) == 25.0


def test_objectives_of_higgins_and_burgess():
    x = torch.zeros(4, 2)
    decoded = torch.ones(4, 2)
    mu, logvar = torch.ones(4, 3), torch.zeros(4, 3)
    recon = 2 * 0.5 * (1 + math.log(2 * math.pi))
    kl = 3 * 0.5
    higgins, r, k = BetaVAELoss("gaussian", beta=4.0)((decoded, mu, logvar), x)
    assert higgins.item() == pytest.approx(recon + 4 * kl, rel=1e-6)
    assert (r.item(), k.item()) == pytest.approx((recon, kl), rel=1e-6)
    burgess = BetaVAELoss("gaussian", beta=10.0, capacity=20.0, capacity_steps=10)
    assert burgess((decoded, mu, logvar), x, step=5)[0].item() == pytest.approx(recon + 10 * abs(kl - 10.0), rel=1e-6)
    assert burgess((decoded, mu, logvar), x, step=0)[0].item() == pytest.approx(recon + 10 * kl, rel=1e-6)


@pytest.mark.parametrize("architecture, hidden", [("mlp", (8, 4)), ("conv1d", (4, 8, 8)), ("broadcast", (8,))])
@pytest.mark.parametrize("n_features", [1, 5, 64, 187])
def test_module_shapes(architecture, hidden, n_features):
    module = BetaVAEModule(n_features, 3, architecture, hidden).eval()
    x = torch.randn(5, n_features)
    decoded, mu, logvar = module(x)
    assert decoded.shape == (5, n_features) and mu.shape == logvar.shape == (5, 3)
    # Evaluation mode decodes the posterior mean: deterministic.
    torch.testing.assert_close(module(x)[0], decoded)
    np.testing.assert_array_equal(module.decode(mu).detach().numpy(), decoded.detach().numpy())
