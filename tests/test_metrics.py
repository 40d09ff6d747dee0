"""Disentanglement metrics on codes with known answers, diagnostics, and scorers."""

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from conftest import FAST
from skbvae import BetaVAETransformer
from skbvae.metrics import (
    active_latents,
    dci_scores,
    gaussian_total_correlation,
    kl_per_latent,
    make_disentanglement_scorer,
    mutual_info_gap,
    mutual_info_matrix,
    sap_score,
)

RNG = np.random.default_rng(0)
F = RNG.uniform(size=(3000, 3))
NOISE = RNG.normal(size=(3000, 4))
ANGLE = np.pi / 4
ROTATION = np.array([[np.cos(ANGLE), -np.sin(ANGLE), 0], [np.sin(ANGLE), np.cos(ANGLE), 0], [0, 0, 1]])


def test_mig_known_answers():
    assert mutual_info_gap(F, F) > 0.95
    assert mutual_info_gap(F[:, [2, 0, 1]], F) == pytest.approx(mutual_info_gap(F, F))
    assert mutual_info_gap(5 * F - 2, F) == pytest.approx(mutual_info_gap(F, F))  # units do not matter
    assert mutual_info_gap(NOISE, F) < 0.03
    assert mutual_info_gap(np.hstack([F, F]), F) < 0.03  # duplicated latents: no single one stands out
    mig_rotated, gaps = mutual_info_gap(F @ ROTATION.T, F, per_factor=True)
    assert gaps[:2].max() < 0.5 and gaps[2] > 0.95 and mig_rotated < 0.7


def test_mig_discrete_and_constant_factors():
    levels = RNG.integers(0, 3, size=(3000, 2)).astype(float)
    codes = levels + 0.05 * RNG.normal(size=levels.shape)
    assert mutual_info_gap(codes, levels) > 0.9
    mi, entropy = mutual_info_matrix(codes, levels)
    assert entropy == pytest.approx(np.log(3), rel=0.01)
    assert mi.shape == (2, 2)
    with_constant = np.column_stack([F, np.ones(3000)])
    mig, gaps = mutual_info_gap(F, with_constant, per_factor=True)
    assert np.isnan(gaps[3]) and mig > 0.95


def test_sap_known_answers():
    assert sap_score(F, F) > 0.95
    assert sap_score(NOISE, F) < 0.01
    assert sap_score(np.hstack([F, F]), F) < 0.01
    assert sap_score(F @ ROTATION.T, F, per_factor=True)[1][:2].max() < 0.1
    labels = (F[:, :1] > 0.5).astype(float)
    assert sap_score(np.column_stack([F[:, 0], NOISE[:, 0]]), labels, discrete_factors=[0]) > 0.4


def test_dci_known_answers():
    identity = dci_scores(F, F)
    assert identity["disentanglement"] > 0.9 and identity["completeness"] > 0.9
    assert identity["informativeness"] > 0.95
    assert identity["importance"].shape == (3, 3)
    rotated = dci_scores(F @ ROTATION.T, F)
    assert rotated["disentanglement"] < identity["disentanglement"] - 0.2
    assert rotated["completeness"] < identity["completeness"] - 0.2
    assert dci_scores(NOISE, F)["informativeness"] < 0.05


def test_total_correlation():
    assert gaussian_total_correlation(RNG.normal(size=(20000, 3))) < 0.01
    rho = 0.8
    x = RNG.normal(size=20000)
    correlated = np.column_stack([x, rho * x + np.sqrt(1 - rho**2) * RNG.normal(size=20000)])
    assert gaussian_total_correlation(correlated) == pytest.approx(-0.5 * np.log(1 - rho**2), rel=0.05)
    assert gaussian_total_correlation(np.column_stack([x, 2 * x])) == np.inf
    assert gaussian_total_correlation(np.column_stack([x, np.ones(20000)])) == 0.0


def test_metric_input_errors():
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        mutual_info_gap(F[:10], F[:11])
    with pytest.raises(ValueError, match="at least 2 latents"):
        mutual_info_gap(F[:, :1], F)
    with pytest.raises(ValueError, match="Input Z contains NaN"):
        sap_score(np.full((10, 2), np.nan), F[:10])
    with pytest.raises(ValueError, match="discrete_factors indices"):
        mutual_info_gap(F, F, discrete_factors=[5])


@pytest.fixture(scope="module")
def fitted_vae(beats):
    return BetaVAETransformer(**FAST).fit(beats[0])


def test_label_free_diagnostics(fitted_vae, beats):
    np.testing.assert_array_equal(kl_per_latent(fitted_vae), fitted_vae.kl_per_latent_)
    np.testing.assert_allclose(kl_per_latent(fitted_vae, beats[0]), fitted_vae.kl_per_latent_, rtol=1e-4)
    assert active_latents(fitted_vae).dtype == bool
    np.testing.assert_array_equal(active_latents(fitted_vae, threshold=-1.0), True)


def test_scorer_in_grid_search_alone_and_in_pipeline(beats):
    X, factors = beats
    scorer = make_disentanglement_scorer("mig")
    search = GridSearchCV(BetaVAETransformer(**FAST), {"beta": [1.0, 4.0]}, scoring=scorer, cv=2).fit(X, factors)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert 0 <= search.best_score_ <= 1
    # Transformer pipeline, and a pipeline whose final step predicts the factors.
    for pipe in (make_pipeline(StandardScaler(), BetaVAETransformer(**FAST)),
                 make_pipeline(BetaVAETransformer(**FAST), LinearRegression())):
        search = GridSearchCV(pipe, {"betavaetransformer__capacity": [None, 10.0]},
                              scoring={"mig": scorer, "sap": make_disentanglement_scorer("sap")},
                              refit="mig", cv=2).fit(X, factors)
        assert np.isfinite(search.cv_results_["mean_test_sap"]).all()
    # The scorer equals the metric on the codes.
    assert scorer(search.best_estimator_, X, factors) == pytest.approx(
        mutual_info_gap(search.best_estimator_[:-1].transform(X), factors))


def test_scorer_errors(fitted_vae, beats):
    with pytest.raises(ValueError, match="metric must be one of"):
        make_disentanglement_scorer("beta")
    with pytest.raises(ValueError, match="needs the known factors as y"):
        make_disentanglement_scorer()(fitted_vae, beats[0], None)
    with pytest.raises(TypeError, match="has no transform"):
        make_disentanglement_scorer()(LinearRegression(), beats[0], beats[1])
    assert repr(make_disentanglement_scorer("dci", random_state=1)) == "make_disentanglement_scorer('dci', random_state=1)"
