"""skbvae: disentangled representations of 1-D signals with a scikit-learn β-VAE."""

from ._transformer import BetaVAETransformer
from .exceptions import RecordError, TrainingDivergedError

__version__ = "0.1.0"

__all__ = ["BetaVAETransformer", "RecordError", "TrainingDivergedError", "__version__"]
