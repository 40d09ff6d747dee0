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

from ._warnings import warn_user

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


#: Corrections of each row's code step after measuring its decoded signal (``edit(measure=...)``).
EDIT_CORRECTIONS = 3
#: A row's edit is done when every measured change is within this share of the change asked.
EDIT_TOLERANCE = 0.1
#: Largest step of a named code, in its own units (robust SDs of the factor): as far as the targets
#: reached in training (:data:`TARGET_CLIP`); further out the decoder extrapolates from nothing it saw.
#: The decoder widens a QRS by about 4 ms per unit (LUDB, SD 23 ms), so a 1 SD QRS edit needs 4-5
#: units: with 3 LUDB's measured QRS edit was 0.52 of the change asked, with 4 0.57 (5 folds x 3 seeds).
MAX_EDIT_STEP = TARGET_CLIP


def measured_factors(measure, signals, edited, held=()):
    """``measure(signals)`` as a float array with the columns ``edited`` then ``held``, checked.

    ``held`` are the other named factors, taken where ``measure`` returns them
    (returned as the list of those it did).
    """
    measured = measure(signals)
    if isinstance(measured, pd.DataFrame):
        missing = [name for name in edited if name not in measured.columns]
        if missing:
            raise ValueError(f"edit(measure=...) returned no column(s) {missing}; measure must return a DataFrame "
                             "with a column for each edited factor, measured as the factors given to fit were.")
        held = [name for name in held if name in measured.columns]
        measured = measured[[*edited, *held]]
    else:
        held = []
    values = np.asarray(measured, dtype=float)
    if values.ndim == 1:
        values = values[:, None]
    if values.shape != (len(signals), len(edited) + len(held)):
        raise ValueError(f"edit(measure=...) returned shape {values.shape} for {len(signals)} signals and the "
                         f"factors {list(edited)}: return a DataFrame with those columns, one row per signal.")
    return values, list(held)


def measured_edit(decode, codes, changes, measure, names, slopes, scales):
    """Edited signals whose *measured* changes are the ones asked, the other named factors held, and the changes.

    The open-loop step ``amount / slope`` comes from the encoder's read-out, and
    a decoder that smooths (a learned variance, a small latent's share of the
    signal) produces less than it: on LUDB's R amplitude 0.72-0.85 of the change
    asked. Each row's step is therefore corrected by the ratio of the change asked
    to the change measured on its decoded signal (a secant step through zero,
    clipped to 0.5-3×), :data:`EDIT_CORRECTIONS` times at most, and the row keeps
    its best attempt. A factor the decoder does not move (a response under a tenth
    of the change, or none measured) has its step doubled, up to :data:`MAX_EDIT_STEP`.

    The other named factors that ``measure`` returns are held where they were: a
    code that carries one factor also moves others a little (a taller R measures
    a wider QRS), so each drift is taken back by half of ``drift / slope`` on that
    factor's own code at every correction (on LUDB the largest other movement of an
    R edit fell from 0.34 to 0.13 SD, on MIT-BIH from 0.49 to 0.19).

    Parameters
    ----------
    decode : callable
        Codes to signals.
    codes : ndarray of shape (n_rows, n_components)
        The rows' codes; the named ones first, in the order of ``names``.
    changes : dict
        Factor name -> change asked, in its units.
    measure : callable
    names, slopes, scales : list of str, ndarray, ndarray
        Every named factor, its calibration slope and its robust SD.

    Returns
    -------
    signals : ndarray of shape (n_rows, n_features)
    change : DataFrame of shape (n_rows, n_measured)
        Measured change of each edited factor, then of each held one, against the
        unedited decoded signal (NaN where it could not be measured).
    """
    edited = list(changes)
    amounts = np.array([changes[name] for name in edited], dtype=float)
    n_edited = len(edited)
    base, held = measured_factors(measure, decode(codes), edited, [n for n in names if n not in changes])
    columns = [names.index(name) for name in [*edited, *held]]
    step = np.zeros((len(codes), len(columns)))
    step[:, :n_edited] = amounts / slopes[columns[:n_edited]]
    scale = np.maximum(np.abs(amounts), np.finfo(float).tiny)
    held_scale = scales[columns[n_edited:]]
    best_error = np.full(len(codes), np.inf)
    signals = change = None
    for attempt in range(EDIT_CORRECTIONS + 1):
        edited_codes = codes.copy()
        edited_codes[:, columns] += step
        decoded = decode(edited_codes)
        moved = measured_factors(measure, decoded, edited, held)[0] - base
        miss = np.abs(moved[:, :n_edited] - amounts) / scale
        miss = np.where(np.isfinite(miss), miss, np.inf).max(axis=1)
        drift = np.nan_to_num(moved[:, n_edited:])
        drift_sd = (np.abs(drift) / held_scale).max(axis=1) if held else np.zeros(len(codes))
        error = miss + drift_sd
        better = error < best_error
        if signals is None:  # the open-loop attempt is the fallback of every row
            signals, change, better = decoded, moved, np.ones(len(codes), bool)
        signals[better], change[better], best_error[better] = decoded[better], moved[better], error[better]
        if attempt == EDIT_CORRECTIONS or (best_error <= EDIT_TOLERANCE).all():
            break
        response = moved[:, :n_edited]
        responsive = np.isfinite(response) & (response * amounts >= 0.1 * amounts ** 2) & (amounts != 0)
        ratio = np.where(responsive, amounts / np.where(responsive, response, 1.0),
                         np.where(amounts != 0, 2.0, 1.0))
        step[:, :n_edited] *= np.clip(ratio, 0.5, 3.0)
        step[:, n_edited:] -= 0.5 * drift / slopes[columns[n_edited:]]
        step = np.clip(step, -MAX_EDIT_STEP, MAX_EDIT_STEP)
    return signals, pd.DataFrame(change, columns=[*edited, *held])


def warn_if_edits_fall_short(change, amounts, names, warn):
    """Say which factors' measured changes miss the change asked on most rows."""
    for j, name in enumerate(names):
        if amounts[j] == 0:
            continue
        ratio = change[:, j] / amounts[j]
        hit = np.abs(ratio - 1) <= 2 * EDIT_TOLERANCE
        if hit.mean() < 0.5:
            known = np.isfinite(ratio)
            said = (f"by {np.median(ratio[known]):.2f} of the change asked (median of {known.sum()} measured)"
                    if known.any() else "not at all (it could not be measured on any edited signal)")
            warn(f"edit(): the decoded signals' {name} moved {said}; {hit.mean():.0%} of the {len(ratio)} rows are "
                 f"within {2 * EDIT_TOLERANCE:.0%} after {EDIT_CORRECTIONS} corrections. The decoder does not produce "
                 "this change for these signals; the returned change says, row by row, what it did.")


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

    def _set_factor_calibration(self, codes, values, rate_warp=None):
        """Fit each named code's line to its factor's units on the training rows.

        The rate of a rate warp (:mod:`skbvae._time_warp`) is not fitted: the warp defines it,
        ``rate = rate_center + rate_scale · code``, and that is where an edit's next event lands.
        A line fitted through the beats whose next R the window does not show (a rate under 48 bpm
        in the loader's window is read near the window's end) came out 0.37 as steep on MIT-BIH DS1's
        50,860 beats (7.5 against 20.0 bpm per unit), and an edit of +23 bpm moved the next R by 61 bpm.
        """
        n_named = len(self.factor_names_)
        self.factor_intercept_, self.factor_slope_ = calibrate(codes[:, :n_named], values)
        if rate_warp is not None:
            k = rate_warp["latent"]
            self.factor_intercept_[k], self.factor_slope_[k] = rate_warp["rate_center"], rate_warp["rate_scale"]

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

    def edit(self, X, measure=None, **changes):
        """Decoded signals of ``X`` with named factors changed by the given amounts, in their own units.

        Each named factor's code moves by ``change / factor_slope_`` (so that
        :meth:`predict_factors` of the edited code reads ``change`` more); the
        other latents keep their values. That step comes from the encoder's
        read-out; whether the decoded signal *measures* as asked is another
        question, which ``measure`` answers: given the function that measured
        the factors (for beats, :func:`skbvae.ecg.measure_beat_windows`), each
        row's step is corrected until its decoded signal measures the change
        asked (within 10 %, at most 3 corrections, a code step of at most 4
        robust SDs of the factor), the other named factors that ``measure``
        returns are held where they were (each drift taken back on its own
        code), and a warning names any factor that most rows still miss: a
        change the decoder does not produce.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        measure : callable or None, default=None
            ``measure(signals)`` -> DataFrame with a column for each edited
            factor, measured as the factors given to ``fit`` were. None edits
            by the calibration alone.
        **changes : float
            ``name=change`` for named factors (``qt_interval=0.04`` adds 40 ms
            when the factor is in seconds).

        Returns
        -------
        X_edited : ndarray of shape (n_samples, n_features)
            In the units of ``X``.
        measured_change : pandas.DataFrame of shape (n_samples, n_measured)
            Only with ``measure``: the measured change of each edited factor,
            then of each other named factor ``measure`` returns, the edited
            decoded signal against the unedited one (NaN where it could not be
            measured). Compare the first columns with the changes asked; the
            others should stay near 0.

        Examples
        --------
        >>> from functools import partial
        >>> from skbvae import BetaVAETransformer
        >>> from skbvae.datasets import make_heartbeats
        >>> from skbvae.ecg import measure_beat_windows
        >>> X, factors = make_heartbeats(400, random_state=0)
        >>> vae = BetaVAETransformer(latent_dim=4, max_epochs=40, random_state=0)
        >>> vae = vae.fit(X, factors=factors[["heart_rate", "r_amplitude"]])
        >>> vae.edit(X[:2], r_amplitude=0.2).shape
        (2, 187)
        >>> measure = partial(measure_beat_windows, fs=125, start=-0.25)
        >>> X_edited, change = vae.edit(X[:2], measure=measure, r_amplitude=0.2)
        >>> list(change.columns)  # measured on each decoded beat: the edited factor, then the held one
        ['r_amplitude', 'heart_rate']
        """
        self._check_named("edit")
        index, amounts = check_changes(changes, self.factor_names_)
        codes = self.transform(X)
        if measure is None:
            codes[:, index] += amounts / self.factor_slope_[index]
            return self.inverse_transform(codes)
        if not callable(measure):
            raise TypeError(f"edit(measure=...) takes a function of the decoded signals; got {type(measure).__name__}.")
        edited = {self.factor_names_[j]: amount for j, amount in zip(index, amounts)}
        signals, change = measured_edit(self.inverse_transform, codes, edited, measure, list(self.factor_names_),
                                        self.factor_slope_, self.factor_scale_)
        warn_if_edits_fall_short(change[list(edited)].to_numpy(), amounts, list(edited), warn_user)
        return signals, change

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
