"""scikit-learn's estimator checks on every public estimator."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skbvae import BetaVAETransformer


@parametrize_with_checks(
    [BetaVAETransformer(latent_dim=2, hidden_layer_sizes=(8,), max_epochs=2, batch_size=16)]
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
