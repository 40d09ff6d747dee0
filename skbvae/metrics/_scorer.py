"""Disentanglement metrics as scikit-learn scorers for model selection."""

from ._disentanglement import dci_scores, mutual_info_gap, sap_score

_METRICS = {
    "mig": lambda Z, F, **kw: mutual_info_gap(Z, F, **kw),
    "sap": lambda Z, F, **kw: sap_score(Z, F, **kw),
    "dci": lambda Z, F, **kw: dci_scores(Z, F, **kw)["disentanglement"],
    "dci_completeness": lambda Z, F, **kw: dci_scores(Z, F, **kw)["completeness"],
    "dci_informativeness": lambda Z, F, **kw: dci_scores(Z, F, **kw)["informativeness"],
}


def _codes(estimator, X):
    """Codes from a transformer, or from a pipeline's steps before its final estimator."""
    if hasattr(estimator, "transform"):
        return estimator.transform(X)
    if hasattr(estimator, "steps"):
        return estimator[:-1].transform(X)
    raise TypeError(f"{type(estimator).__name__} has no transform; a disentanglement scorer needs codes.")


class _DisentanglementScorer:
    def __init__(self, metric, kwargs):
        self.metric = metric
        self.kwargs = kwargs

    def __call__(self, estimator, X, y):
        if y is None:
            raise ValueError("a disentanglement scorer needs the known factors as y: search.fit(X, factors).")
        return _METRICS[self.metric](_codes(estimator, X), y, **self.kwargs)

    def __repr__(self):
        args = "".join(f", {k}={v!r}" for k, v in self.kwargs.items())
        return f"make_disentanglement_scorer({self.metric!r}{args})"


def make_disentanglement_scorer(metric="mig", **kwargs):
    """A scorer ``(estimator, X, y) -> float`` that rates codes against known factors.

    Use it as ``scoring=`` of ``GridSearchCV`` with the factor matrix as ``y``
    to pick β and C by disentanglement. The estimator may be a
    ``BetaVAETransformer`` (or any transformer), or a ``Pipeline`` whose steps
    before the final one produce the codes.

    Parameters
    ----------
    metric : {"mig", "sap", "dci", "dci_completeness", "dci_informativeness"}, default="mig"
        :func:`mutual_info_gap`, :func:`sap_score`, or one of the
        :func:`dci_scores` (``"dci"`` is the disentanglement score).
    **kwargs
        Passed to the metric (e.g. ``n_bins``, ``discrete_factors``).

    Returns
    -------
    scorer : callable
        Higher is better.

    Examples
    --------
    >>> from sklearn.model_selection import GridSearchCV
    >>> from skbvae import BetaVAETransformer
    >>> from skbvae.datasets import make_heartbeats
    >>> from skbvae.metrics import make_disentanglement_scorer
    >>> X, factors = make_heartbeats(300, random_state=0)
    >>> search = GridSearchCV(BetaVAETransformer(latent_dim=4, max_epochs=2, rotation=None, random_state=0),
    ...                       {"beta": [1.0, 4.0]}, scoring=make_disentanglement_scorer("mig"), cv=2)
    >>> search.fit(X, factors).best_params_["beta"] in (1.0, 4.0)
    True
    """
    if metric not in _METRICS:
        raise ValueError(f"metric must be one of {sorted(_METRICS)}; got {metric!r}.")
    return _DisentanglementScorer(metric, kwargs)
