"""Disentanglement metrics on codes with known answers, diagnostics, and scorers."""

import warnings

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


# --- equality with disentanglement_lib -------------------------------------------
# The reference functions below are transcriptions of disentanglement_lib's
# evaluation/metrics/sap_score.py (_compute_score_matrix, discrete branch and the
# continuous near-constant rule) and dci.py (disentanglement, completeness).

def _reference_sap_discrete(mu_train, y_train, mu_test, y_test):
    from sklearn.svm import LinearSVC

    classifier = LinearSVC(C=0.01, class_weight="balanced")
    classifier.fit(mu_train[:, np.newaxis], y_train)
    return np.mean(classifier.predict(mu_test[:, np.newaxis]) == y_test)


def _reference_sap_continuous(mu, y):
    cov = np.cov(mu, y, ddof=1)
    return cov[0, 1] ** 2 / (cov[0, 0] * cov[1, 1]) if cov[0, 0] > 1e-12 else 0.0


def _reference_dci(importance):
    from scipy.stats import entropy

    per_code = 1.0 - entropy(importance.T + 1e-11, base=importance.shape[1])
    code_importance = importance.sum(axis=1) / importance.sum()
    per_factor = 1.0 - entropy(importance + 1e-11, base=importance.shape[0])
    factor_importance = importance.sum(axis=0) / importance.sum()
    return np.sum(per_code * code_importance), np.sum(per_factor * factor_importance)


def test_sap_discrete_equals_reference_on_the_same_folds():
    from sklearn.model_selection import StratifiedKFold

    rng = np.random.default_rng(1)
    y = (rng.uniform(size=600) < 0.15).astype(float)  # imbalanced binary factor
    Z = np.column_stack([y + rng.normal(scale=0.8, size=600), rng.normal(size=600)])
    folds = list(StratifiedKFold(2).split(Z, y))
    expected = np.zeros((2, 1))
    for i in range(2):
        expected[i, 0] = np.mean([_reference_sap_discrete(Z[a, i], y[a], Z[b, i], y[b]) for a, b in folds])
    sap = sap_score(Z, y[:, None], discrete_factors=[0])
    assert sap == pytest.approx(abs(expected[0, 0] - expected[1, 0]), abs=1e-12)
    # Without class weights the minority class is never predicted: both latents
    # score the majority rate and the gap vanishes.
    assert sap > 0.1


def test_sap_near_constant_latent_scores_zero_as_in_reference():
    factor = F[:, :1]
    tiny = 3e-8 * (factor[:, 0] - 0.5)  # perfectly informative, variance ~1e-16
    Z = np.column_stack([tiny, factor[:, 0] + RNG.normal(scale=0.5, size=3000)])
    gaps = sap_score(Z, factor, per_factor=True)[1]
    expected = abs(_reference_sap_continuous(Z[:, 1], factor[:, 0]) - _reference_sap_continuous(tiny, factor[:, 0]))
    assert _reference_sap_continuous(tiny, factor[:, 0]) == 0.0
    assert gaps[0] == pytest.approx(expected, abs=1e-12)


def test_dci_equals_reference_with_a_constant_factor():
    from skbvae.metrics._disentanglement import _dci_from_importance

    importance = np.array([[0.5, 0.1, 0.0], [0.05, 0.3, 0.0], [0.02, 0.03, 0.0]])  # factor 2 is constant
    expected = _reference_dci(importance)
    assert _dci_from_importance(importance) == pytest.approx(expected, abs=1e-6)
    # A plain average over factors would count the constant factor as 0.
    plain = np.mean([1 - _entropy_base(importance[:, j], 3) for j in range(2)] + [0.0])
    assert _dci_from_importance(importance)[1] > plain + 0.15
    with_constant = np.column_stack([F, np.ones(3000)])
    assert dci_scores(F, with_constant)["completeness"] > 0.9


def _entropy_base(p, base):
    p = p / p.sum()
    p = p[p > 0]
    return -(p * np.log(p)).sum() / np.log(base)


def test_factor_type_inference():
    from skbvae.datasets import make_heartbeats
    from skbvae.metrics._disentanglement import _is_discrete

    _, grid = make_heartbeats(grid=3, factor_ranges={"noise": 0.01}, random_state=0)
    assert _is_discrete(grid.to_numpy(), None)[:6].all()  # float levels, 3 each
    integers_40 = RNG.integers(0, 40, size=(2000, 1)).astype(float)  # dSprites-sized
    assert _is_discrete(integers_40, None).all()
    assert not _is_discrete(F, None).any()
    assert not _is_discrete(F[:50], None).any()  # every value distinct: continuous
    # Declared discrete, grid levels score as the reference's classifier would.
    codes = grid.to_numpy()[:, :6] + 0.01 * RNG.normal(size=(len(grid), 6))
    assert sap_score(codes, grid.iloc[:, :6]) == pytest.approx(
        sap_score(codes, grid.iloc[:, :6], discrete_factors=list(range(6))))


def test_total_correlation():
    assert gaussian_total_correlation(RNG.normal(size=(20000, 3))) < 0.01
    rho = 0.8
    x = RNG.normal(size=20000)
    correlated = np.column_stack([x, rho * x + np.sqrt(1 - rho**2) * RNG.normal(size=20000)])
    assert gaussian_total_correlation(correlated) == pytest.approx(-0.5 * np.log(1 - rho**2), rel=0.05)
    assert gaussian_total_correlation(np.column_stack([x, 2 * x])) == np.inf
    assert gaussian_total_correlation(np.column_stack([x, np.ones(20000)])) == 0.0


def test_single_latent_is_compared_with_an_uninformative_one():
    mi, entropy = mutual_info_matrix(F[:, :1], F[:, :1])
    assert mutual_info_gap(F[:, :1], F[:, :1]) == pytest.approx(mi[0, 0] / entropy[0])
    padded = np.column_stack([F[:, 0], np.zeros(len(F))])  # a constant latent carries nothing
    assert mutual_info_gap(F[:, :1], F[:, :1]) == pytest.approx(mutual_info_gap(padded, F[:, :1]))
    assert sap_score(F[:, :1], F[:, :1]) == pytest.approx(sap_score(padded, F[:, :1]))


def test_metric_input_errors():
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        mutual_info_gap(F[:10], F[:11])
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


def test_match_factors_names_the_followed_factor_and_skips_missing_values():
    import pandas as pd

    from skbvae.metrics import match_factors

    rng = np.random.default_rng(0)
    factors = pd.DataFrame({"rate": rng.uniform(size=500), "width": rng.uniform(size=500)})
    Z = np.column_stack([np.log(factors["width"]), -factors["rate"] + 0.01 * rng.normal(size=500),
                         rng.normal(size=500)])
    factors.loc[:100, "rate"] = np.nan  # a feature not measurable on some beats
    matches = match_factors(Z, factors)
    assert matches["factor"].tolist()[:2] == ["width", "rate"]
    assert matches["follows"].tolist() == [True, True, False]
    assert matches["abs_spearman"].iloc[0] == pytest.approx(1.0)
    assert match_factors(Z, factors, threshold=1.0)["follows"].sum() == 1
    with pytest.raises(TypeError, match="DataFrame"):
        match_factors(Z, factors.to_numpy())
    with pytest.raises(ValueError, match="rows"):
        match_factors(Z[:10], factors)
    with pytest.raises(ValueError, match="threshold"):
        match_factors(Z, factors, threshold=2)


def test_aami_scores_against_a_confusion_matrix_by_hand():
    from skbvae.metrics import aami_scores

    # rows true N, S, V, F; columns predicted
    counts = np.array([[80, 5, 3, 2], [2, 6, 0, 0], [1, 0, 9, 1], [0, 0, 2, 1]])
    labels = np.array(["N", "S", "V", "F"])
    y_true = np.repeat(np.repeat(labels, 4), counts.ravel())
    y_pred = np.repeat(np.tile(labels, 4), counts.ravel())
    y_true, y_pred = np.append(y_true, ["Q", "N"]), np.append(y_pred, ["N", "Q"])  # Q on either side: ignored
    scores = aami_scores(y_true, y_pred)
    np.testing.assert_array_equal(scores["confusion"], counts)
    assert scores["accuracy"] == pytest.approx(96 / 112)
    assert scores["Se_S"] == pytest.approx(6 / 8) and scores["+P_S"] == pytest.approx(6 / 11)
    # V's positive predictivity leaves out the 2 fusion beats called V (AAMI EC57).
    assert scores["Se_V"] == pytest.approx(9 / 11) and scores["+P_V"] == pytest.approx(9 / 12)
    n, observed = counts.sum(), np.trace(counts) / counts.sum()
    expected = (counts.sum(axis=0) * counts.sum(axis=1)).sum() / n**2
    kappa = (observed - expected) / (1 - expected)
    assert scores["kappa"] == pytest.approx(kappa)
    assert scores["jk"] == pytest.approx(0.5 * kappa + 0.125 * (6 / 8 + 9 / 11 + 6 / 11 + 9 / 12))
    assert scores["mean_Se"] == pytest.approx(np.mean([80 / 90, 6 / 8, 9 / 11, 1 / 3]))


def test_aami_scores_names_bad_labels():
    from skbvae.metrics import aami_scores

    with pytest.raises(ValueError, match=r"labels must be AAMI classes .* got \['X'\]"):
        aami_scores(["N", "X"], ["N", "N"])
    with pytest.raises(ValueError, match="1-D and of one length"):
        aami_scores(["N"], ["N", "N"])
    perfect = aami_scores(list("NNSVF"), list("NNSVF"))
    assert perfect["jk"] == pytest.approx(1.0) and perfect["kappa"] == pytest.approx(1.0)


def test_factors_with_nan_are_scored_on_their_known_rows_and_said_so():
    import pandas as pd

    from skbvae.metrics import dci_scores, mutual_info_matrix, sap_score

    rng = np.random.default_rng(0)
    factors = pd.DataFrame({"rate": rng.uniform(size=600), "pr": rng.uniform(size=600)})
    Z = factors.to_numpy() + 0.05 * rng.normal(size=(600, 2))
    gappy = factors.copy()
    gappy.loc[:199, "pr"] = np.nan  # e.g. beats without a P wave
    with pytest.warns(UserWarning, match=r"factors: NaN in some rows \(pr 200 of 600 rows\)") as record:
        mig = mutual_info_gap(Z, gappy)
    assert record[0].filename == __file__  # the warning points at the caller's line
    # Close to scoring the factor on its known rows alone (the codes' bins come from every row, so
    # not to the last digit: measured 0.523 and 1.624 against 0.512 and 1.616).
    with pytest.warns(UserWarning, match="pr 200 of 600 rows"):
        mi, _ = mutual_info_matrix(Z, gappy)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.testing.assert_allclose(mi[:, 1], mutual_info_matrix(Z[200:], factors.iloc[200:])[0][:, 1], rtol=0.05)
        assert abs(mig - mutual_info_gap(Z, factors)) < 0.05
        assert sap_score(Z, gappy) > 0.8 and dci_scores(Z, gappy)["disentanglement"] > 0.8
