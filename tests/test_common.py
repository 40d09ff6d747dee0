"""scikit-learn's estimator checks on every public estimator, for every value of the options that change fit."""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from skbvae import BetaVAETransformer, _training

_TINY = dict(latent_dim=2, hidden_layer_sizes=(8,), max_epochs=2, batch_size=16)

ESTIMATORS = [
    BetaVAETransformer(**_TINY),
    BetaVAETransformer(**_TINY, rotation=None),
    BetaVAETransformer(**_TINY, rotation="varimax"),
    BetaVAETransformer(**_TINY, beta=4.0, capacity=25.0),
    BetaVAETransformer(**_TINY, early_stopping=True, n_iter_no_change=1),
    BetaVAETransformer(**_TINY, warm_start=True),
    BetaVAETransformer(**{**_TINY, "max_epochs": "auto"}),
    BetaVAETransformer(**_TINY, decoder_variance="shared"),
    BetaVAETransformer(**_TINY, decoder_variance="per_feature"),
    BetaVAETransformer(**_TINY, decoder_variance="heteroscedastic"),
]


@pytest.fixture(autouse=True)
def _short_auto_budget(monkeypatch):
    # max_epochs="auto" trains for thousands of steps; the checks fit dozens of
    # times on tiny data, so they run the same code path with a budget of 4 steps.
    monkeypatch.setattr(_training, "AUTO_MIN_STEPS", 4)
    monkeypatch.setattr(_training, "AUTO_MIN_EPOCHS", 1)


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
