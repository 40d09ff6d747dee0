"""Metrics: disentanglement against known factors, label-free diagnostics, scorers, heartbeat classes."""

from ._aami import AAMI_SCORED, aami_scores
from ._diagnostics import ACTIVE_KL_THRESHOLD, active_latents, gaussian_total_correlation, kl_per_latent
from ._disentanglement import dci_scores, mutual_info_gap, mutual_info_matrix, sap_score
from ._matching import FOLLOWS_THRESHOLD, match_factors
from ._scorer import make_disentanglement_scorer

__all__ = [
    "AAMI_SCORED",
    "ACTIVE_KL_THRESHOLD",
    "FOLLOWS_THRESHOLD",
    "aami_scores",
    "active_latents",
    "dci_scores",
    "gaussian_total_correlation",
    "kl_per_latent",
    "make_disentanglement_scorer",
    "match_factors",
    "mutual_info_gap",
    "mutual_info_matrix",
    "sap_score",
]
