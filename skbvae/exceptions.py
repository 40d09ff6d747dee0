"""Exceptions raised by skbvae."""


class TrainingDivergedError(RuntimeError):
    """Raised when the training loss of a β-VAE becomes NaN or infinite.

    A diverged network would return NaN latents, so training stops instead. The
    usual remedies are a smaller learning rate (``lr``), scaled inputs
    (``scaling="standard"``) or a smaller ``beta``.
    """
