"""Training with groups: fit(X, groups=...), its errors, routing, and the pieces in skbvae._groups."""

import warnings

import numpy as np
import pytest
import sklearn
import torch
from conftest import FAST
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import Pipeline

from skbvae import BetaVAETransformer, _groups
from skbvae._groups import GroupPrior, adaptive_average, check_groups, partners_in_batch
from skbvae._loss import kl_per_latent
from skbvae.datasets import make_heartbeats


@pytest.fixture(scope="module")
def records():
    """600 beats in 30 records of 20, each record with its own factor means and spreads."""
    return make_heartbeats(600, n_records=30, random_state=0)


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize("groups, message", [
    (np.arange(10), "groups has 10 entries but X has 600 rows"),
    (np.zeros((600, 2)), "groups must be 1-D"),
    (np.r_[np.nan, np.repeat(np.arange(300.0), 2)[:599]], r"1 missing id\(s\).*row 0"),
    ([None] + ["a"] * 599, r"missing id\(s\)"),
    (np.zeros(600), "one group only"),
    (np.r_[np.repeat(np.arange(299), 2), 299, 300], r"2 group\(s\) have a single row \(299, 300\)"),
])
def test_bad_groups_are_refused_with_what_is_wrong(records, groups, message):
    X = records[0]
    vae = BetaVAETransformer(**FAST).fit(X[:100])
    before = vae.transform(X[:5])
    with pytest.raises(ValueError, match=message):
        vae.fit(X, groups=groups)
    np.testing.assert_array_equal(vae.transform(X[:5]), before)  # a failed fit loses nothing


def test_group_ids_of_any_kind_become_codes():
    codes, sizes = check_groups(["b", "a", "b", "c", "a", "c"], 6)
    np.testing.assert_array_equal(codes, [1, 0, 1, 2, 0, 2])
    np.testing.assert_array_equal(sizes, [2, 2, 2])
    codes, _ = check_groups(np.array([10.0, 10.0, 3.5, 3.5]), 4)
    np.testing.assert_array_equal(codes, [1, 1, 0, 0])


# ------------------------------------------------------------------ pieces
def test_partners_are_disjoint_pairs_of_one_group():
    groups = torch.as_tensor(np.random.default_rng(0).integers(0, 40, 256))
    partners = partners_in_batch(groups)
    paired = partners >= 0
    assert (partners[partners[paired]] == torch.arange(256)[paired]).all()
    assert (groups[partners[paired]] == groups[paired]).all()
    assert (partners[paired] != torch.arange(256)[paired]).all()
    # Every group with c rows in the batch has 2 * (c // 2) of them paired.
    counts = torch.bincount(groups, minlength=40)
    paired_counts = torch.bincount(groups[paired], minlength=40)
    assert torch.equal(paired_counts, 2 * (counts // 2))


def test_adaptive_average_shares_the_latents_a_pair_agrees_on():
    mu = torch.tensor([[0.0, 1.0, 2.0], [0.05, 1.02, -2.0], [5.0, 5.0, 5.0]])
    logvar = torch.zeros(3, 3)
    mu2, logvar2 = adaptive_average(mu, logvar, torch.tensor([1, 0, -1]))
    # Latents 0 and 1 barely differ: averaged; latent 2 differs: kept. Row 2 has no partner.
    np.testing.assert_allclose(mu2[:2, :2].numpy(), [[0.025, 1.01], [0.025, 1.01]], rtol=1e-6)
    np.testing.assert_array_equal(mu2[:2, 2].numpy(), [2.0, -2.0])
    np.testing.assert_array_equal(mu2[2].numpy(), mu[2].numpy())
    np.testing.assert_allclose(logvar2.numpy(), 0.0, atol=1e-7)


def test_group_prior_is_standardised_moments_of_each_group():
    rng = np.random.default_rng(0)
    # Two groups: latent 0 separates them, latent 1 varies within group 1 only.
    mu = np.c_[np.r_[np.full(500, -2.0), np.full(500, 2.0)],
               np.r_[0.1 * rng.standard_normal(500), 3.0 * rng.standard_normal(500)]]
    logvar = np.log(np.full((1000, 2), 0.01))
    groups = torch.as_tensor(np.repeat([0, 1], 500))
    prior = GroupPrior([500, 500], latent_dim=2)
    for _ in range(3):  # whole groups per batch: the moments are the data's after one update
        prior.update(torch.tensor(mu), torch.tensor(logvar), groups)
    means, variances = (m.numpy() for m in prior.moments())
    pooled = np.c_[mu[:, 0], mu[:, 1]]
    np.testing.assert_allclose(means[:, 0], [-1.0, 1.0], atol=0.01)  # between-group over total
    np.testing.assert_allclose(means.mean(axis=0), 0.0, atol=1e-6)
    total = pooled.var(axis=0) + 0.01
    np.testing.assert_allclose(variances[1, 1], (mu[500:, 1].var() + 0.01) / total[1], rtol=0.02)
    assert variances[0, 1] < 0.01  # group 0 barely moves latent 1
    # Mixture of the two priors: unit variance per latent.
    np.testing.assert_allclose((variances + means ** 2).mean(axis=0), 1.0, rtol=1e-5)
    # The KL against a N(0, 1) group prior is the standard one.
    fresh = GroupPrior([500, 500], latent_dim=2)
    np.testing.assert_allclose(fresh.kl(torch.tensor(mu), torch.tensor(logvar), groups).numpy(),
                               kl_per_latent(torch.tensor(mu), torch.tensor(logvar)).numpy(), rtol=1e-6)


@pytest.mark.parametrize("shrinkage", [0.5, 1.0])
def test_shrunk_group_prior_moves_each_group_toward_the_standard_normal(shrinkage):
    # The hierarchical lever: means shrink by (1 - s), variances take up s; s = 1 is no groups at all.
    mu = np.c_[np.r_[np.full(50, -2.0), np.full(50, 2.0)], np.linspace(-1, 1, 100)]
    logvar, groups = np.log(np.full((100, 2), 0.01)), torch.as_tensor(np.repeat([0, 1], 50))
    plain, shrunk = GroupPrior([50, 50], latent_dim=2), GroupPrior([50, 50], latent_dim=2, shrinkage=shrinkage)
    for prior in (plain, shrunk):
        prior.update(torch.tensor(mu), torch.tensor(logvar), groups)
    (means, variances), (shrunk_means, shrunk_variances) = plain.moments(), shrunk.moments()
    np.testing.assert_allclose(shrunk_means.numpy(), (1 - shrinkage) * means.numpy(), rtol=1e-6)
    np.testing.assert_allclose(shrunk_variances.numpy(), (1 - shrinkage) * variances.numpy() + shrinkage, rtol=1e-6)
    if shrinkage == 1.0:
        np.testing.assert_allclose(shrunk.kl(torch.tensor(mu), torch.tensor(logvar), groups).numpy(),
                                   kl_per_latent(torch.tensor(mu), torch.tensor(logvar)).numpy(), rtol=1e-6)


# ------------------------------------------------------------------ the estimator
@pytest.mark.parametrize("method", _groups.GROUP_METHODS)
def test_fit_with_groups_trains_differently_and_transform_needs_no_groups(records, method, monkeypatch):
    monkeypatch.setattr(_groups, "GROUP_METHOD", method)
    X, _, groups = records
    # "rotation" uses the groups in the ICA rotation only: trained as without, rotated otherwise.
    params = {**FAST, "max_epochs": 5, "rotation": "ica" if method == "rotation" else None}
    with _groups.forced_method(method):  # the method itself, not fit's choice between prior and rotation
        with_groups = BetaVAETransformer(**params).fit(X[:400], groups=groups[:400])
        again = BetaVAETransformer(**params).fit(X[:400], groups=groups[:400])
    without = BetaVAETransformer(**params).fit(X[:400])
    unseen = X[400:]  # records never seen in fit
    Z = with_groups.transform(unseen)
    assert Z.shape == (200, with_groups.n_components_) and np.isfinite(Z).all()
    np.testing.assert_array_equal(Z, again.transform(unseen))  # reproducible under random_state
    assert Z.shape != without.transform(unseen).shape or not np.allclose(Z, without.transform(unseen))
    if method == "rotation":
        assert with_groups.history_["loss"].equals(without.history_["loss"])
    assert np.isfinite(with_groups.history_[["loss", "reconstruction", "kl"]].to_numpy()).all()
    assert np.isfinite(with_groups.score(unseen))


def test_group_prior_lets_a_latent_say_which_record_for_free(records):
    # What the prior per group (iVAE) changes: the KL is measured against each
    # record's own prior, so the training KL (against the group priors) is
    # below the KL of the same codes against N(0, I), which is what
    # kl_per_latent_ reports.
    X, _, groups = records
    with _groups.forced_method("prior"):
        vae = BetaVAETransformer(**{**FAST, "max_epochs": 30}).fit(X, groups=groups)
    assert vae.history_["kl"].iloc[-1] < vae.kl_per_latent_.sum()


def test_groups_too_small_for_a_prior_act_through_the_rotation_only(records):
    # 30 records of 20 beats get a prior each; cut into 60 groups of 10 (LUDB's 10 s per patient),
    # training ignores them (the same network as without groups) and the ICA is fitted within them.
    X, _, groups = records
    params = {**FAST, "max_epochs": 3, "rotation": "ica"}
    with _groups.forced_method("prior"):  # what a prior per group does (fit chooses it by held-out ELBO)
        large = BetaVAETransformer(**params).fit(X, groups=groups)
    small_groups = groups * 2 + (np.arange(len(X)) % 20 >= 10)
    small = BetaVAETransformer(**params).fit(X, groups=small_groups)
    without = BetaVAETransformer(**params).fit(X)
    assert (large.group_method_, small.group_method_, without.group_method_) == ("prior", "rotation", None)
    assert small.history_["loss"].equals(without.history_["loss"])
    assert not large.history_["loss"].equals(without.history_["loss"])
    np.testing.assert_array_equal(small.kl_per_latent_, without.kl_per_latent_)
    assert not np.allclose(small.rotation_, without.rotation_)  # the rotation saw the groups
    assert _groups.training_method([19, 20, 21]) == "prior"
    assert _groups.training_method([19, 19, 40]) == "rotation"


def test_early_stopping_and_warm_start_with_groups(records):
    X, _, groups = records
    vae = BetaVAETransformer(**{**FAST, "max_epochs": 4}, early_stopping=True, n_iter_no_change=2)
    vae.fit(X, groups=groups)
    assert np.isfinite(vae.validation_scores_).all()
    warm = BetaVAETransformer(**{**FAST, "max_epochs": 2}, warm_start=True).fit(X[:300], groups=groups[:300])
    warm.fit(X[300:], groups=groups[300:] + 1000)  # other records, other ids: priors estimated anew
    warm.fit(X)  # and on without groups
    assert warm.n_iter_ == 6


def test_groups_are_routed_through_a_pipeline(records):
    X, factors, groups = records
    y = (factors["st_shift"] > 0.1).astype(int).to_numpy()
    vae = BetaVAETransformer(**FAST)
    # Without metadata routing, as a step's fit parameter.
    plain = Pipeline([("vae", vae), ("clf", LogisticRegression())]).fit(X, y, vae__groups=groups)
    reference = BetaVAETransformer(**FAST).fit(X, groups=groups)
    np.testing.assert_array_equal(plain[0].transform(X), reference.transform(X))
    with sklearn.config_context(enable_metadata_routing=True):
        routed = Pipeline([("vae", BetaVAETransformer(**FAST).set_fit_request(groups=True)),
                           ("clf", LogisticRegression())]).fit(X, y, groups=groups)
        # transform and predict take no groups: beats of a new record are encoded from the signal alone.
        np.testing.assert_array_equal(routed[0].transform(X), reference.transform(X))
        assert routed.predict(X[:5]).shape == (5,)


def test_grid_search_with_group_kfold_routes_groups_to_fit(records, monkeypatch):
    X, _, groups = records
    seen = []
    check = _groups.check_groups
    monkeypatch.setattr(_groups, "check_groups", lambda g, n: seen.append(len(np.unique(g))) or check(g, n))
    # With the method fixed, fit trains no candidates on held-out groups: each check_groups is a fit's.
    with sklearn.config_context(enable_metadata_routing=True), _groups.forced_method("prior"):
        search = GridSearchCV(BetaVAETransformer(**FAST).set_fit_request(groups=True),
                              {"beta": [0.5, 1.0]}, cv=GroupKFold(n_splits=3))
        search.fit(X, groups=groups)
    # 2 candidates x 3 folds of 20 training records each, then the refit on all 30.
    assert seen == [20] * 6 + [30]
    assert np.isfinite(search.best_score_)


def test_groups_identify_sources_that_an_unsupervised_fit_mixes():
    # Three sources mixed nonlinearly; each group has its own mean and its own
    # spread of every source. Without groups no basis is preferred; with them
    # (a prior per group, ICA on within-group deviations) the outputs follow
    # the sources more closely on groups never seen in fit.
    from skbvae.metrics import mutual_info_gap

    rng = np.random.default_rng(0)
    n_groups, rows, k = 80, 30, 3
    spreads, means = rng.uniform(0.1, 2.0, (n_groups, k)), rng.normal(0, 1, (n_groups, k))
    S = (means[:, None] + spreads[:, None] * rng.standard_normal((n_groups, rows, k))).reshape(-1, k)
    groups = np.repeat(np.arange(n_groups), rows)
    X = np.tanh(S @ rng.normal(size=(k, 30)) / 2) + 0.05 * rng.standard_normal((len(S), 30))
    train = groups < 60
    params = dict(latent_dim=3, max_epochs=60, random_state=0)
    mig = {name: mutual_info_gap(BetaVAETransformer(**params).fit(X[train], groups=g).transform(X[~train]),
                                 S[~train])
           for name, g in (("without", None), ("with", groups[train]))}
    # Measured (seed 0): 0.046 without, 0.186 with (the "pairs" method cleared a margin of 0.2).
    assert mig["with"] > mig["without"] + 0.1, mig


def test_groups_that_say_little_are_warned_about(records):
    X, _, groups = records
    shuffled = np.random.default_rng(0).permutation(groups)  # groups unrelated to the beats
    with pytest.warns(UserWarning, match=r"only \d+% of the signal's variance lies between the means of these 30 groups"):
        BetaVAETransformer(**FAST).fit(X, groups=shuffled)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        BetaVAETransformer(**FAST).fit(X, groups=groups)  # real records differ: no warning
    codes, sizes = check_groups(groups, len(X))
    assert _groups.between_group_share(X, codes, sizes) > 0.5


def test_a_model_fitted_with_groups_is_saved_and_loaded(records, tmp_path):
    from skbvae import io

    X, _, groups = records
    vae = BetaVAETransformer(**FAST).fit(X, groups=groups)
    io.dump(vae, tmp_path / "model.skbvae")
    loaded = io.load(tmp_path / "model.skbvae")
    np.testing.assert_array_equal(loaded.transform(X[:20]), vae.transform(X[:20]))
    assert loaded.group_method_ == vae.group_method_ and loaded.group_selection_ == vae.group_selection_
    assert set(loaded.group_selection_["held_out_elbo"]) == {"prior", "rotation"}


def test_fit_chooses_prior_or_rotation_by_the_held_out_groups_elbo(records, monkeypatch):
    # A row count chose the prior where it cost 5 nats of held-out ELBO (records whose beats vary little);
    # fit now holds out a fifth of the groups and keeps the method that scores them better.
    X, _, groups = records
    vae = BetaVAETransformer(**{**FAST, "max_epochs": 5}).fit(X, groups=groups)
    selection = vae.group_selection_
    assert selection["held_out_groups"] == 6  # 20 % of 30 records
    elbo = selection["held_out_elbo"]
    assert vae.group_method_ == max(elbo, key=elbo.get) and all(np.isfinite(v) for v in elbo.values())
    # When one method is made to win, fit keeps it.
    monkeypatch.setattr(BetaVAETransformer, "score", lambda self, X, y=None: 1.0 if self.group_method_ == "rotation"
                        else 0.0)
    assert BetaVAETransformer(**{**FAST, "max_epochs": 2}).fit(X, groups=groups).group_method_ == "rotation"
    monkeypatch.setattr(BetaVAETransformer, "score", lambda self, X, y=None: 1.0 if self.group_method_ == "prior"
                        else 0.0)
    assert BetaVAETransformer(**{**FAST, "max_epochs": 2}).fit(X, groups=groups).group_method_ == "prior"


def test_fit_transform_takes_groups(records):
    X, _, groups = records
    np.testing.assert_array_equal(BetaVAETransformer(**FAST).fit_transform(X, groups=groups),
                                  BetaVAETransformer(**FAST).fit(X, groups=groups).transform(X))
