"""RR features for heartbeat classes on new patients, as a function and as a scikit-learn transformer.

A beat's timing says much of its class: a superventricular premature beat
comes early and is followed by a short pause, a ventricular one by a long
compensatory pause. Compared with the patient's own rhythm, not with other
patients' (normalised by the record's mean RR: de Chazal et al. 2004; Lin &
Yang 2014; Mondéjar-Guerra et al. 2019), the same features transfer between
patients. The inputs are the loader's metadata columns (``rr_pre``,
``rr_post``, ``rr_local``, ``rr_record``, in seconds), which
:func:`~skbvae.datasets.load_wfdb_heartbeats` and :func:`~skbvae.ecg.cut_heartbeats`
give every beat.
"""

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

#: Metadata columns the RR features are computed from (s).
RR_INPUTS = ("rr_pre", "rr_post", "rr_local", "rr_record")
#: Columns of :func:`rr_feature_table`: the intervals (s), then ratios (no unit).
RR_FEATURES = ("rr_pre", "rr_post", "rr_local", "pre/record", "post/record", "local/record", "pre/post",
               "pre/local", "post/local")


def rr_feature_table(meta):
    """RR features of each beat: its intervals and their ratios to its own patient's rhythm.

    A missing interval (the first or last beat, or one next to lost signal) is
    taken as the record's mean, so that every beat gets every feature.

    Parameters
    ----------
    meta : pandas.DataFrame
        With columns :data:`RR_INPUTS` (seconds), as the loader and
        :func:`~skbvae.ecg.cut_heartbeats` return them.

    Returns
    -------
    features : pandas.DataFrame of shape (n_beats, 9)
        Columns :data:`RR_FEATURES`: ``rr_pre``, ``rr_post``, ``rr_local`` (s)
        and the ratios ``pre/record``, ``post/record``, ``local/record`` (each
        over the record's mean RR), ``pre/post``, ``pre/local``, ``post/local``.

    Examples
    --------
    >>> from skbvae.datasets import make_ecg
    >>> from skbvae.ecg import cut_heartbeats, rr_feature_table
    >>> ecg, peaks, kinds = make_ecg(60.0, fs=250, rhythm="bigeminy", random_state=0, return_kinds=True)
    >>> X, meta = cut_heartbeats(ecg, 250, peaks, symbols=kinds)
    >>> table = rr_feature_table(meta)
    >>> bool(table.loc[meta["symbol"] == "V", "pre/record"].median() < 0.9)  # ventricular beats come early
    True
    """
    missing = [name for name in RR_INPUTS if name not in getattr(meta, "columns", ())]
    if missing:
        raise ValueError(f"meta lacks the RR column(s) {missing}: pass the metadata of load_wfdb_heartbeats or "
                         "cut_heartbeats (rr_pre, rr_post, rr_local, rr_record, in seconds).")
    values = meta[list(RR_INPUTS)].apply(pd.to_numeric, errors="coerce").astype(float)
    record = values["rr_record"]
    if not np.isfinite(record).all() or (record <= 0).any():
        raise ValueError("meta's rr_record (the record's mean RR, s) must be positive and known on every beat.")
    local = values["rr_local"].fillna(record)
    pre, post = values["rr_pre"].fillna(record), values["rr_post"].fillna(record)
    table = pd.DataFrame({"rr_pre": pre, "rr_post": post, "rr_local": local, "pre/record": pre / record,
                          "post/record": post / record, "local/record": local / record, "pre/post": pre / post,
                          "pre/local": pre / local, "post/local": post / local}, columns=list(RR_FEATURES))
    return table.set_axis(meta.index)


class RRFeatures(TransformerMixin, BaseEstimator):
    """:func:`rr_feature_table` as a transformer: the loader's RR columns in, the RR features out.

    Stateless: each beat's features come from its own row (the record's mean
    RR is one of its columns). Put it in a ``ColumnTransformer`` on the
    metadata columns :data:`RR_INPUTS` beside a model of the beat's samples.

    Examples
    --------
    >>> import pandas as pd
    >>> from skbvae.ecg import RRFeatures
    >>> meta = pd.DataFrame({"rr_pre": [0.8, 0.5], "rr_post": [0.8, 1.1], "rr_local": [0.8, 0.8],
    ...                      "rr_record": [0.8, 0.8]})
    >>> RRFeatures().fit_transform(meta)[:, 3].round(3).tolist()  # pre/record
    [1.0, 0.625]
    """

    def fit(self, X, y=None):
        self._columns(X, reset=True)
        return self


    def transform(self, X):
        check_is_fitted(self, "n_features_in_")
        return rr_feature_table(self._columns(X, reset=False)).to_numpy()

    def get_feature_names_out(self, input_features=None):
        check_is_fitted(self, "n_features_in_")
        return np.asarray(RR_FEATURES, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # an interval next to lost signal, or at a record's ends
        return tags

    def _columns(self, X, *, reset):
        """``X`` validated (numbers, NaN allowed), as a frame with the columns :data:`RR_INPUTS`."""
        names = list(X.columns) if isinstance(X, pd.DataFrame) else None
        if names is not None and set(RR_INPUTS) <= set(names):
            X = X[list(RR_INPUTS)]
        array = validate_data(self, X, reset=reset, dtype=np.float64, ensure_all_finite="allow-nan")
        if array.shape[1] != len(RR_INPUTS):
            raise ValueError(f"RRFeatures takes the columns {list(RR_INPUTS)} (a DataFrame holding them, or an array "
                             f"with those {len(RR_INPUTS)} columns in that order); got {array.shape[1]} column(s) "
                             f"(n_features = {array.shape[1]}).")
        return pd.DataFrame(array, columns=list(RR_INPUTS))
