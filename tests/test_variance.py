"""Learned decoder variances: what a mean cannot show (volatility, noise), scores and draws."""

import numpy as np
import pytest
import torch
from scipy.stats import spearmanr

from conftest import FAST
from skbvae import BetaVAETransformer
from skbvae._loss import DECODER_VARIANCES
from skbvae.datasets import make_price_windows

LEARNED = [v for v in DECODER_VARIANCES if v != "fixed"]


@pytest.fixture(scope="module")
def returns():
    """Log-return windows of GBM prices whose volatility spans a decade."""
    X, factors = make_price_windows(1200, window=48, model="gbm", representation="log_returns", random_state=0)
    return X, factors


def _fit_returns(X, decoder_variance):
    return BetaVAETransformer(latent_dim=3, hidden_layer_sizes=(32,), beta=1.0, max_epochs=40, batch_size=64,
                              lr=2e-3, decoder_variance=decoder_variance, random_state=0).fit(X)


def test_heteroscedastic_decoder_gives_volatility_one_latent(returns):
    X, factors = returns
    train, test = slice(0, 1000), slice(1000, None)
    best = {}
    for decoder_variance in ("fixed", "heteroscedastic"):
        Z = _fit_returns(X[train], decoder_variance).transform(X[test])
        best[decoder_variance] = max(abs(spearmanr(z, factors["volatility"][test])[0]) for z in Z.T)
    # A fixed-variance decoder can only move the mean of each return, which
    # volatility leaves at ~0: its latents do not follow it.
    assert best["heteroscedastic"] > 0.9
    assert best["fixed"] < 0.5


@pytest.mark.parametrize("decoder_variance", LEARNED)
def test_learned_variance_scores_held_out_noise_better_than_unit_variance(decoder_variance, rng):
    # Smooth curves with small white noise: a unit variance in standardized
    # units overstates that noise, a learned one finds it.
    t = np.linspace(0, 1, 40)
    X = np.sin(2 * np.pi * (t + rng.uniform(0, 1, (500, 1)))) + 0.05 * rng.standard_normal((500, 40))
    scores = {}
    for variance in ("fixed", decoder_variance):
        vae = BetaVAETransformer(**{**FAST, "max_epochs": 30}, beta=1.0, decoder_variance=variance).fit(X[:400])
        scores[variance] = vae.score(X[400:])
        assert np.isfinite(vae.score_samples(X[400:])).all()
    assert scores[decoder_variance] > scores["fixed"] + 20  # nats per row


@pytest.mark.parametrize("decoder_variance", DECODER_VARIANCES)
@pytest.mark.parametrize("case", ["constant feature", "scaled by 1e-6", "scaled by 1e6", "float32"])
def test_no_nan_or_inf_on_hard_inputs(decoder_variance, case, beats):
    X = beats[0][:200].copy()
    if case == "constant feature":
        X[:, 10:20] = 3.0
    elif case.startswith("scaled"):
        X = X * float(case.split()[-1])
    else:
        X = X.astype(np.float32)
    for scaling in ("auto", "global"):
        vae = BetaVAETransformer(**{**FAST, "max_epochs": 5}, decoder_variance=decoder_variance,
                                 scaling=scaling).fit(X)
        traversal, std = vae.traverse(X[:2], return_std=True)
        for out in (vae.history_[["loss", "reconstruction", "kl"]].to_numpy(), vae.transform(X),
                    vae.score_samples(X), traversal, std, vae.sample(3, random_state=0, noise=True)):
            assert np.isfinite(out).all(), (scaling, out)
        assert (std > 0).all()


@pytest.mark.parametrize("decoder_variance", DECODER_VARIANCES)
def test_traverse_std_is_the_decoders_in_user_units(decoder_variance, beats):
    X = beats[0]
    vae = BetaVAETransformer(**FAST, decoder_variance=decoder_variance).fit(X)
    means, std = vae.traverse(X[:3], latents=[1], values=[-1.0, 0.0, 2.0], return_std=True)
    np.testing.assert_allclose(means, vae.traverse(X[:3], latents=[1], values=[-1.0, 0.0, 2.0]), rtol=1e-12)
    assert std.shape == means.shape == (3, 1, 3, 187)
    module = vae.net_.module_
    with torch.no_grad():
        variance = module.decode(torch.zeros(1, 3))[1]
    if decoder_variance == "fixed":
        # Unit variance in standardized units is the feature's own standard deviation.
        np.testing.assert_allclose(std, np.broadcast_to(vae.scale_, std.shape), rtol=1e-12)
    elif decoder_variance in ("shared", "per_feature"):
        # The same σ at every code: only the mean moves.
        np.testing.assert_allclose(std, np.broadcast_to(std[0, 0, 0], std.shape), rtol=1e-6)
        assert variance.shape == ((1,) if decoder_variance == "shared" else (187,))
        # What the fitted decoder leaves unexplained on the training data (the
        # closed-form optimum, seen through its running average; a sampled code
        # leaves a little more than the posterior mean).
        residual = ((vae.inverse_transform(vae.transform(X)) - X) / vae.scale_) ** 2
        ratio = variance.numpy().mean() / residual.mean()
        assert 0.9 < ratio < 1.5, ratio
        if decoder_variance == "per_feature":
            # ... feature by feature: the poorly fitted features have the larger variances.
            assert spearmanr(variance.numpy(), residual.mean(axis=0))[0] > 0.8
    else:
        assert not np.allclose(std[:, :, 0], std[:, :, 2])  # the variance follows the code


@pytest.mark.parametrize("decoder_variance", ["fixed", "heteroscedastic"])
def test_sample_with_noise_draws_around_the_decoder_mean(decoder_variance, beats):
    X = beats[0]
    # Gaussian draws (Student-t draws: test_student_t_std_and_noise_draws).
    vae = BetaVAETransformer(**FAST, decoder_variance=decoder_variance, likelihood="gaussian").fit(X)
    means = vae.sample(2000, random_state=1)
    draws = vae.sample(2000, random_state=1, noise=True)
    # The same codes (the first draws of the same seed), then p(x|z) noise around their means.
    rng = np.random.RandomState(1)
    Z = rng.standard_normal((2000, vae.n_components_))
    _, expected_std = vae._decode_mean_and_std(Z)
    z_scores = (draws - means) / expected_std
    assert abs(z_scores.mean()) < 0.02 and abs(z_scores.std() - 1) < 0.02
    assert not np.array_equal(draws, means)


def test_noise_draws_of_a_bernoulli_decoder_are_zero_or_one_in_scaled_units(beats):
    X = beats[0]
    X = (X - X.min()) / (X.max() - X.min())
    vae = BetaVAETransformer(**FAST, likelihood="bernoulli").fit(X)
    draws = vae.sample(50, random_state=0, noise=True)
    scaled = (draws - vae.center_) / vae.scale_
    assert np.isin(np.round(scaled, 9), [0.0, 1.0]).all()


def test_bernoulli_likelihood_has_no_variance_to_learn(beats):
    X = beats[0]
    X = (X - X.min()) / (X.max() - X.min())
    with pytest.raises(ValueError, match="decoder_variance='shared'.*Bernoulli"):
        BetaVAETransformer(**FAST, likelihood="bernoulli", decoder_variance="shared").fit(X)


@pytest.mark.parametrize("decoder_variance", LEARNED)
def test_warm_start_continues_the_learned_variance(decoder_variance, beats):
    X = beats[0]
    vae = BetaVAETransformer(**FAST, decoder_variance=decoder_variance, warm_start=True).fit(X)
    before = vae.score(X)
    vae.fit(X)
    assert vae.n_iter_ == 4 and vae.score(X) > before


@pytest.mark.parametrize("decoder_variance", LEARNED)
def test_capacity_objective_works_with_a_learned_variance(decoder_variance, beats):
    X = beats[0]
    vae = BetaVAETransformer(**{**FAST, "max_epochs": 4}, beta=4.0, capacity=5.0, capacity_steps=60,
                             decoder_variance=decoder_variance).fit(X)
    history = vae.history_
    assert np.isfinite(history[["loss", "reconstruction", "kl"]].to_numpy()).all()
    assert history["capacity"].iloc[-1] == pytest.approx(5.0)
    assert abs(history["kl"].iloc[-1] - 5.0) < abs(history["kl"].iloc[0] - 5.0)


def test_auto_defaults_resolve_to_the_heteroscedastic_student_t_vae(beats):
    X = beats[0]
    params = BetaVAETransformer().get_params()  # __init__ only stores
    assert params["decoder_variance"] == params["likelihood"] == params["beta"] == "auto"
    cases = [({}, "heteroscedastic", "student_t", 1.0),
             ({"decoder_variance": "fixed"}, "fixed", "gaussian", 0.25),  # the previous defaults
             ({"decoder_variance": "fixed", "beta": 2.0}, "fixed", "gaussian", 2.0),
             ({"decoder_variance": "shared"}, "shared", "gaussian", 1.0),
             ({"likelihood": "gaussian"}, "heteroscedastic", "gaussian", 1.0),
             ({"likelihood": "student_t", "decoder_variance": "fixed"}, "fixed", "student_t", 0.25)]
    for params, variance, likelihood, beta in cases:
        vae = BetaVAETransformer(**FAST, **params).fit(X)
        assert vae.net_.module_.decoder_variance == variance and vae.net_.criterion_.beta == beta
        assert vae.net_.criterion_.likelihood == likelihood, params
        assert vae.net_.module_.var_smoothing == 0.05
    # A Bernoulli decoder has no variance: "auto" gives none, an explicit learned one is an error (above).
    X01 = (X - X.min()) / (X.max() - X.min())
    vae = BetaVAETransformer(**FAST, likelihood="bernoulli").fit(X01)
    assert vae.net_.module_.decoder_variance == "fixed" and vae.net_.criterion_.beta == 0.25


@pytest.mark.parametrize("decoder_variance", LEARNED)
def test_var_smoothing_is_the_floor_of_every_learned_variance(decoder_variance, beats):
    X = beats[0]
    vae = BetaVAETransformer(**FAST, decoder_variance=decoder_variance, var_smoothing=0.2).fit(X)
    _, std = vae.traverse(X[:3], latents=[0], values=[-3.0, 0.0, 3.0], return_std=True)
    assert (std / vae.scale_ >= np.sqrt(0.2) - 1e-6).all()


def test_var_smoothing_keeps_the_held_out_score_of_rows_noisier_than_training(rng):
    # A record whose later beats are noisier than its first ones: the learned
    # variance fits the quiet training rows, and held out, without smoothing, it
    # is overconfident by orders of magnitude (MIT-BIH 100 split by time).
    t = np.linspace(0, 1, 40)
    phase = rng.uniform(0, 1, (600, 1))
    X = np.sin(2 * np.pi * (t + phase))
    X[:400] += 0.002 * rng.standard_normal((400, 40))
    X[400:] += 0.15 * rng.standard_normal((200, 40))
    score = {}
    learned = dict(likelihood="gaussian")  # the Student-t default has its own test below
    for name, params in {"fixed": dict(decoder_variance="fixed", beta=1.0),
                         "1e-4": dict(learned, var_smoothing=1e-4), "default": learned}.items():
        vae = BetaVAETransformer(**{**FAST, "max_epochs": 30}, **params).fit(X[:400])
        score[name] = vae.score(X[400:])
    # Measured (seed 0): fixed -30.3, 1e-4 -70.9, var_smoothing 0.05 -2.3 nats per row.
    assert score["1e-4"] < score["fixed"] - 20, score
    assert score["default"] > score["fixed"], score


# ------------------------------------------------------------ Student-t decoder
def test_student_t_nll_is_the_t_density():
    from scipy.stats import t as student_t

    from skbvae._loss import STUDENT_T_DOF, reconstruction_nll

    rng = np.random.default_rng(0)
    x, loc = rng.normal(size=(4, 6)), rng.normal(size=(4, 6))
    variance = rng.uniform(0.1, 2.0, size=(4, 6))
    nll = reconstruction_nll(torch.tensor(x), (torch.tensor(loc), torch.tensor(variance)), "student_t")
    expected = -student_t.logpdf(x, STUDENT_T_DOF, loc=loc, scale=np.sqrt(variance)).sum(axis=1)
    np.testing.assert_allclose(nll.numpy(), expected, rtol=1e-10)
    unit = reconstruction_nll(torch.tensor(x), (torch.tensor(loc), None), "student_t")
    np.testing.assert_allclose(unit.numpy(), -student_t.logpdf(x, STUDENT_T_DOF, loc=loc).sum(axis=1), rtol=1e-10)


def test_student_t_keeps_the_held_out_score_of_rows_unlike_training(rng):
    # Held-out rows with outliers (a burst of noise the loader kept): the
    # Gaussian pays r²/2 for each, the Student-t ~2 log r.
    t = np.linspace(0, 1, 40)
    X = np.sin(2 * np.pi * (t + rng.uniform(0, 1, (600, 1)))) + 0.01 * rng.standard_normal((600, 40))
    X[400:][rng.uniform(size=(200, 40)) < 0.05] += 3.0
    score = {likelihood: BetaVAETransformer(**{**FAST, "max_epochs": 30}, likelihood=likelihood)
             .fit(X[:400]).score(X[400:]) for likelihood in ("gaussian", "student_t")}
    assert score["student_t"] > score["gaussian"] + 50, score


def test_student_t_std_and_noise_draws(beats):
    X = beats[0]
    vae = BetaVAETransformer(**FAST, likelihood="student_t", decoder_variance="fixed").fit(X)
    _, std = vae.traverse(X[:2], latents=[0], values=[0.0], return_std=True)
    np.testing.assert_allclose(std, np.broadcast_to(np.sqrt(3.0) * vae.scale_, std.shape), rtol=1e-12)
    means = vae.sample(3000, random_state=1)
    draws = vae.sample(3000, random_state=1, noise=True)
    z = ((draws - means) / (vae.scale_ * np.sqrt(3.0))).ravel()  # unit-variance t(3) draws
    assert abs(z.std() - 1) < 0.1
    assert np.mean(np.abs(z) > 4) > 5 * 6e-5  # heavier tails than a Gaussian's (6e-5 beyond 4σ)


def test_student_t_has_no_closed_form_variance(beats):
    with pytest.raises(ValueError, match="closed form.*student_t"):
        BetaVAETransformer(**FAST, likelihood="student_t", decoder_variance="shared").fit(beats[0])
