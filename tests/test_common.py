"""scikit-learn's estimator checks on every public estimator, for every value of the options that change fit."""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from skbvae import BetaVAETransformer, _training

# scikit-learn's checks fit on 10 to 30 rows, which fit rightly calls too few for a β-VAE.
pytestmark = pytest.mark.filterwarnings(r"ignore:X has \d+ rows for latent_dim=:UserWarning")

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
    BetaVAETransformer(**_TINY, decoder_variance="fixed"),  # beta="auto" is 0.25 with it
    BetaVAETransformer(**_TINY, decoder_variance="heteroscedastic", beta=2.0, var_smoothing=1e-4),
    BetaVAETransformer(**_TINY, likelihood="gaussian"),  # the default is Student-t
    BetaVAETransformer(**_TINY, likelihood="student_t", decoder_variance="fixed"),
    BetaVAETransformer(**_TINY, n_jobs=2),  # torch threads during fit and inference
    BetaVAETransformer(**_TINY, factor_weight=0.0),  # the named-factor terms off (fit(X, factors=F) unused here)
    BetaVAETransformer(**_TINY, rate_factor="heart_rate"),  # warns that there are no factors, fits unwarped
    BetaVAETransformer(**_TINY, n_channels=3),
    BetaVAETransformer(**{**_TINY, "hidden_layer_sizes": (4,)}, n_channels=3, architecture="conv1d"),
]

# Checks whose data have 2, 4, 5 or 10 features: a multiple of no n_channels > 1,
# so fit raises the documented "not a multiple of n_channels" ValueError
# (tests/test_channels.py checks that error; every other check runs).
_NOT_A_MULTIPLE_OF_3 = [
    "check_dtype_object", "check_estimators_dtypes", "check_estimators_fit_returns_self",
    "check_estimators_overwrite_params", "check_fit2d_1sample", "check_fit_check_is_fitted",
    "check_fit_idempotent", "check_n_features_in", "check_n_features_in_after_fitting",
    "check_positive_only_tag_during_fit", "check_readonly_memmap_input",
]


def _expected_failed_checks(estimator):
    if estimator.n_channels == 1:
        return {}
    reason = (f"scikit-learn's data for this check has a feature count that is not a multiple of "
              f"n_channels={estimator.n_channels}; fit refuses it by design")
    return {name: reason for name in _NOT_A_MULTIPLE_OF_3}


@pytest.fixture(autouse=True)
def _short_auto_budget(monkeypatch):
    # max_epochs="auto" trains for thousands of steps; the checks fit dozens of
    # times on tiny data, so they run the same code path with a budget of 4 steps.
    monkeypatch.setattr(_training, "AUTO_MIN_STEPS", 4)
    monkeypatch.setattr(_training, "AUTO_MIN_EPOCHS", 1)


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
