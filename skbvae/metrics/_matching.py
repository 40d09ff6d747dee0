"""Which factor each code follows: the absolute Spearman correlation behind the figures' labels."""

import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from sklearn.utils import check_array

#: Absolute Spearman correlation from which a code is said to follow a factor in figures and examples.
FOLLOWS_THRESHOLD = 0.7


def match_factors(Z, factors, *, threshold=FOLLOWS_THRESHOLD):
    """The factor each code column follows most closely, by absolute Spearman correlation.

    Rank correlation, so a code that follows a factor through any monotone
    function counts. Rows where a factor is NaN (a measured feature that could
    not be measured, see :func:`~skbvae.ecg.measure_beat_features`) are
    left out for that factor only.

    Parameters
    ----------
    Z : array-like of shape (n_samples, n_codes)
        Codes, e.g. ``BetaVAETransformer.transform(X)``.
    factors : pandas.DataFrame of shape (n_samples, n_factors)
        Known or measured factors, one named column each.
    threshold : float, default=0.7
        Absolute correlation from which a code is said to follow its best factor.

    Returns
    -------
    matches : pandas.DataFrame of shape (n_codes, 3)
        One row per code column: ``factor`` (the best-matching factor's
        name), ``abs_spearman`` (its absolute correlation) and ``follows`` (``abs_spearman >=
        threshold``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from skbvae.metrics import match_factors
    >>> rng = np.random.default_rng(0)
    >>> factors = pd.DataFrame({"rate": rng.uniform(size=200), "width": rng.uniform(size=200)})
    >>> Z = np.column_stack([np.exp(factors["width"]), rng.normal(size=200)])
    >>> match_factors(Z, factors)["follows"].tolist()
    [True, False]
    >>> match_factors(Z, factors)["factor"].iloc[0]
    'width'
    """
    Z = check_array(Z, input_name="Z")
    if not isinstance(factors, pd.DataFrame):
        raise TypeError(f"factors must be a pandas DataFrame with named columns; got {type(factors).__name__}.")
    if len(factors) != len(Z):
        raise ValueError(f"Z has {len(Z)} rows but factors has {len(factors)}.")
    if not 0 <= threshold <= 1:
        raise ValueError(f"threshold must be a correlation in [0, 1]; got {threshold!r}.")
    rho = np.zeros((Z.shape[1], factors.shape[1]))
    for j, name in enumerate(factors.columns):
        f = factors[name].to_numpy(dtype=float)
        known = np.isfinite(f)
        if known.sum() < 3 or np.ptp(f[known]) == 0:
            continue
        for i in range(Z.shape[1]):
            r = spearmanr(Z[known, i], f[known])[0]
            rho[i, j] = 0.0 if np.isnan(r) else abs(r)
    best = rho.argmax(axis=1)
    top = rho[np.arange(len(best)), best]
    return pd.DataFrame({"factor": [str(factors.columns[j]) for j in best], "abs_spearman": top,
                         "follows": top >= threshold})
