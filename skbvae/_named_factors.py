"""Named factors: latents tied to measured quantities, read and edited in their own units.

Unsupervised latents cannot be named on real patients: a Gaussian prior is
rotation-invariant and the rotation that would name each factor is not
identifiable from the beats (Locatello et al. 2019; measured on MIT-BIH, where
every model sat at random-rotation level). A few measured quantities make it
identifiable (Locatello et al. 2020): ``fit(X, factors=F)`` ties the first
``F.shape[1]`` latents to ``F``'s columns, robustly standardised (median,
1.4826 × MAD) and clipped at :data:`TARGET_CLIP`, through a squared error on
the posterior means, and keeps the other latents free of them by
penalising their squared correlation with each factor within a batch (the
inhibition of Guided-VAE, Ding et al. 2020, in its linear form). Both terms
are computed in :func:`skbvae._loss.named_factor_loss`.

After training, each named latent is calibrated to its factor's units by a
least-squares line on the training rows where the factor is known (AR-VAE's
separate calibration, Pati & Lerch 2021): ``factor ≈ intercept + slope · code``.
:meth:`~skbvae.BetaVAETransformer.predict_factors` reads it, and
:meth:`~skbvae.BetaVAETransformer.edit` moves a code by ``change / slope``.

This module validates the factors and holds that arithmetic; the estimator
calls it.
"""

import numpy as np
import pandas as pd

#: Default weight of the named-factor terms: a squared error of one standard
#: deviation on one named latent costs as much as this many nats of
#: reconstruction; the leakage term (a squared correlation of 1 between a free
#: latent and a factor) the same.
DEFAULT_FACTOR_WEIGHT = 100.0
#: The leakage term's weight over the supervision's.
LEAKAGE_RATIO = 1.0


def check_factors(factors, n_samples):
    """``factors`` as (float array with NaN for unknown, names, units).

    Parameters
    ----------
    factors : DataFrame or array-like of shape (n_samples, n_factors)
        Measured quantities, NaN where not measured. A DataFrame's columns
        name them; its ``attrs["units"]`` (as :func:`skbvae.ecg.measure_beat_features`
        sets) gives their units.
    n_samples : int
        Rows of ``X``.
    """
    if isinstance(factors, pd.Series):
        factors = factors.to_frame()
    if isinstance(factors, pd.DataFrame):
        text = [str(c) for c, dtype in factors.dtypes.items() if not pd.api.types.is_numeric_dtype(dtype)]
        if text:
            raise ValueError(f"factors has column(s) that are not numbers: {text}. Pass measured quantities only.")
        names = [str(c) for c in factors.columns]
        units = {str(k): str(v) for k, v in factors.attrs.get("units", {}).items() if str(k) in names}
        values = factors.to_numpy(dtype=float)
    else:
        try:
            values = np.asarray(factors, dtype=float)
        except (TypeError, ValueError) as error:
            raise ValueError(f"factors must be numbers (NaN where not measured); {error}") from error
        if values.ndim == 1:
            values = values[:, None]
        names = [f"factor{j}" for j in range(values.shape[1] if values.ndim == 2 else 0)]
        units = {}
    if values.ndim != 2 or values.shape[1] == 0:
        raise ValueError(f"factors must be 2-D, one column per factor; got shape {values.shape}.")
    if len(values) != n_samples:
        raise ValueError(f"factors has {len(values)} rows but X has {n_samples}: give one row per signal "
                         "(NaN where a factor was not measured).")
    if len(set(names)) != len(names):
        raise ValueError(f"factors' column names must be unique; got {names}.")
    if np.isinf(values).any():
        bad = [names[j] for j in np.flatnonzero(np.isinf(values).any(axis=0))]
        raise ValueError(f"factors has infinite values in {bad}; use NaN for a value that was not measured.")
    known = np.isfinite(values)
    spread = np.array([np.std(values[known[:, j], j]) if known[:, j].sum() >= 2 else 0.0
                       for j in range(values.shape[1])])
    flat = [names[j] for j in np.flatnonzero(spread <= 0)]
    if flat:
        raise ValueError(f"factors {flat} are known on fewer than two rows or do not vary: a latent cannot be "
                         "tied to them.")
    return values, names, units


#: Standardised targets are clipped to this many robust SDs: measured features of real records
#: have gross values (a QT on the next P, a heart rate across a pause) that a squared error
#: would let dominate training (on MIT-BIH DS1 the held-out ELBO halved before targets were
#: standardised robustly and clipped).
TARGET_CLIP = 4.0


def robust_scale(values):
    """Median and robust SD (1.4826 × MAD, the SD where the MAD is 0) of each factor over its known rows."""
    center = np.nanmedian(values, axis=0)
    scale = 1.4826 * np.nanmedian(np.abs(values - center), axis=0)
    fallback = np.nanstd(values, axis=0)
    return center, np.where(scale > 0, scale, fallback)


def calibrate(codes, values):
    """Least-squares line ``value ≈ intercept + slope · code`` of each named code on its known rows."""
    intercept, slope = np.empty(values.shape[1]), np.empty(values.shape[1])
    for j in range(values.shape[1]):
        known = np.isfinite(values[:, j])
        slope[j], intercept[j] = np.polyfit(codes[known, j], values[known, j], 1)
    return intercept, slope


def check_changes(changes, names):
    """``changes`` (name -> change in the factor's units) as an index array and a float array."""
    unknown = [name for name in changes if name not in names]
    if unknown:
        raise ValueError(f"edit() names factor(s) {unknown} the model was not fitted with; its named factors are "
                         f"{names}.")
    if not changes:
        raise ValueError(f"edit() needs at least one change, e.g. edit(X, {names[0]}=...); named factors: {names}.")
    index = np.array([names.index(name) for name in changes])
    try:
        amounts = np.array([float(changes[name]) for name in changes])
    except (TypeError, ValueError) as error:
        raise ValueError(f"edit() takes one number per factor (a change in its units); {error}") from error
    if not np.isfinite(amounts).all():
        raise ValueError(f"edit() changes must be finite numbers; got {changes}.")
    return index, amounts


#: Fitted attributes of the named factors that are arrays (None without factors).
FACTOR_ARRAYS = ("factor_center_", "factor_scale_", "factor_intercept_", "factor_slope_")


class NamedFactorsMixin:
    """The methods of :class:`~skbvae.BetaVAETransformer` that read and edit named factors.

    Kept here, beside the arithmetic, so that the estimator's module holds
    fitting and inference only.
    """

    def _factor_targets(self, named, continuing):
        """Standardised factor values for training (or None), setting the factor attributes of a new fit."""
        if not continuing:
            self.factor_names_, self.factor_units_ = [], {}
            for name in FACTOR_ARRAYS:
                setattr(self, name, None)
        if named is None:
            return None
        values, names, units = named
        if len(names) >= self.latent_dim:
            raise ValueError(f"factors has {len(names)} column(s) for latent_dim={self.latent_dim}: named factors "
                             "take the first latents and at least one must stay free; raise latent_dim.")
        if continuing and self.factor_names_ and names != self.factor_names_:
            raise ValueError(f"warm_start=True continues a model named after {self.factor_names_}; factors has "
                             f"{names}. Pass the same columns, or set warm_start=False to refit.")
        if not (continuing and self.factor_names_):
            self.factor_names_, self.factor_units_ = names, units
            self.factor_center_, self.factor_scale_ = robust_scale(values)
        targets = (values - self.factor_center_) / self.factor_scale_
        return np.clip(targets, -TARGET_CLIP, TARGET_CLIP).astype(np.float32)

    def _set_factor_calibration(self, codes, values):
        """Fit each named code's line to its factor's units on the training rows."""
        n_named = len(self.factor_names_)
        self.factor_intercept_, self.factor_slope_ = calibrate(codes[:, :n_named], values)

    def _check_named(self, method):
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self)
        if not self.factor_names_:
            raise ValueError(f"{method} needs a model fitted with named factors: fit(X, factors=F), F a DataFrame "
                             "of measured quantities (e.g. skbvae.ecg.measure_beat_features).")

    def predict_factors(self, X):
        """Each named factor of ``X``'s signals, read from its latent, in the factor's units.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        factors : pandas.DataFrame of shape (n_samples, n_named)
            Columns ``factor_names_``; ``attrs["units"]`` holds their units.
            Each is ``factor_intercept_ + factor_slope_ * code``, the line fitted
            on the training rows where the factor was known.

        Examples
        --------
        >>> from skbvae import BetaVAETransformer
        >>> from skbvae.datasets import make_heartbeats
        >>> X, factors = make_heartbeats(400, random_state=0)
        >>> vae = BetaVAETransformer(latent_dim=4, max_epochs=3, random_state=0)
        >>> vae = vae.fit(X, factors=factors[["heart_rate", "r_amplitude"]])
        >>> list(vae.predict_factors(X[:2]).columns)
        ['heart_rate', 'r_amplitude']
        """
        self._check_named("predict_factors")
        codes = self.transform(X)[:, :len(self.factor_names_)]
        frame = pd.DataFrame(self.factor_intercept_ + self.factor_slope_ * codes, columns=self.factor_names_)
        frame.attrs["units"] = dict(self.factor_units_)
        return frame

    def edit(self, X, **changes):
        """Decoded signals of ``X`` with named factors changed by the given amounts, in their own units.

        Each named factor's code moves by ``change / factor_slope_`` (so that
        :meth:`predict_factors` of the edited code reads ``change`` more); the
        other latents keep their values. Whether the decoded signal *measures*
        as asked is for the caller to check with the same measurement that made
        the factors (for beats, :func:`skbvae.ecg.measure_beat_features`);
        ``benchmarks/bench_named_factors.py`` does so.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        **changes : float
            ``name=change`` for named factors (``qt_interval=0.04`` adds 40 ms
            when the factor is in seconds).

        Returns
        -------
        X_edited : ndarray of shape (n_samples, n_features)
            In the units of ``X``.

        Examples
        --------
        >>> from skbvae import BetaVAETransformer
        >>> from skbvae.datasets import make_heartbeats
        >>> X, factors = make_heartbeats(400, random_state=0)
        >>> vae = BetaVAETransformer(latent_dim=4, max_epochs=3, random_state=0)
        >>> vae = vae.fit(X, factors=factors[["heart_rate", "r_amplitude"]])
        >>> vae.edit(X[:2], r_amplitude=0.2).shape
        (2, 187)
        """
        self._check_named("edit")
        index, amounts = check_changes(changes, self.factor_names_)
        codes = self.transform(X)
        codes[:, index] += amounts / self.factor_slope_[index]
        return self.inverse_transform(codes)

    def get_feature_names_out(self, input_features=None):
        """Names of the output codes: the named factors' names first, then ``betavaetransformer<k>``.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Ignored except for the checks scikit-learn makes.

        Returns
        -------
        feature_names_out : ndarray of str objects
        """
        names = super().get_feature_names_out(input_features)
        named = list(getattr(self, "factor_names_", None) or [])
        return np.asarray([*named, *names[len(named):]], dtype=object)
