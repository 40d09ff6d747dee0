"""Exceptions raised by skbvae."""


class TrainingDivergedError(RuntimeError):
    """Raised when the training loss of a β-VAE becomes NaN or infinite.

    A diverged network would return NaN latents, so training stops instead. The
    usual remedies are a smaller learning rate (``lr``), scaled inputs
    (``scaling="standard"``) or a smaller ``beta``.
    """


class RecordError(ValueError):
    """Raised for a WFDB record (or lead) that cannot give heartbeats.

    The message starts with the record's path and says what is wrong in plain
    words: a missing or truncated file (with the expected and found sample
    counts), a sampling rate that is not a number or that no ECG has, a lead
    that does not exist (with the leads that do) or is not an ECG, a lead with
    no usable ECG. :func:`~skbvae.datasets.load_wfdb_heartbeats` with
    ``errors="warn"`` skips such a record with a warning instead.

    A subclass of ``ValueError``, so ``except ValueError`` still catches it.

    Attributes
    ----------
    record : pathlib.Path or None
        The record's path without extension.
    """

    def __init__(self, message, *, record=None):
        super().__init__(message)
        self.record = record
