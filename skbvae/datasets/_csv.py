"""Loaders for CSV datasets: Kaggle's PTB heartbeat CSVs and Bitcoin minute prices."""

from pathlib import Path

import numpy as np
import pandas as pd

from ._synthetic import check_representation

PTBDB_FILES = ("ptbdb_normal.csv", "ptbdb_abnormal.csv")
_PTBDB_SAMPLES = 187


def _read_numeric_csv(path, n_columns):
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such CSV file.")
    try:
        frame = pd.read_csv(path, header=None)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not a readable CSV file ({exc}).") from exc
    if frame.shape[1] != n_columns:
        raise ValueError(f"{path}: expected {n_columns} columns (187 samples + label), found {frame.shape[1]}.")
    numeric = frame.apply(pd.to_numeric, errors="coerce")
    bad = numeric.isna() & frame.notna() | numeric.isna()
    if bad.to_numpy().any():
        row, col = np.argwhere(bad.to_numpy())[0]
        raise ValueError(f"{path}: non-numeric or empty cell {frame.iat[row, col]!r} at line {row + 1}, column {col + 1}.")
    return numeric.to_numpy(dtype=float)


def load_ptbdb_csv(path):
    """Heartbeats of Kaggle's "ECG Heartbeat Categorization" PTB CSVs.

    The files ``ptbdb_normal.csv`` (4,046 beats) and ``ptbdb_abnormal.csv``
    (10,506 beats) of Kachuee et al. (2018) have no header; each row is 187
    samples at 125 Hz scaled to [0, 1] (zero-padded after the beat) and a last
    column with the label (0 normal, 1 myocardial infarction). The loader never
    downloads: get the files from Kaggle (``shayanfazeli/heartbeat``). Fit
    these beats with ``BetaVAETransformer(scaling="global")``, as for
    ``load_wfdb_heartbeats(layout="kachuee")``.

    Parameters
    ----------
    path : str or path-like
        One of the CSV files, or a folder holding both (both are loaded,
        normal first).

    Returns
    -------
    X : ndarray of shape (n_beats, 187)
    meta : pandas.DataFrame
        ``label`` (int, 1 = myocardial infarction) and ``source`` (file name).

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from skbvae.datasets import load_ptbdb_csv
    >>> folder = tempfile.mkdtemp()
    >>> rows = np.hstack([np.random.default_rng(0).random((3, 187)), np.ones((3, 1))])
    >>> np.savetxt(f"{folder}/ptbdb_abnormal.csv", rows, delimiter=",")
    >>> X, meta = load_ptbdb_csv(f"{folder}/ptbdb_abnormal.csv")
    >>> X.shape, meta["label"].tolist()
    ((3, 187), [1, 1, 1])
    """
    path = Path(path)
    if path.is_dir():
        files = [path / name for name in PTBDB_FILES if (path / name).is_file()]
        if not files:
            raise FileNotFoundError(f"{path}: neither of {PTBDB_FILES} is in this folder.")
    else:
        files = [path]
    blocks, metas = [], []
    for file in files:
        data = _read_numeric_csv(file, _PTBDB_SAMPLES + 1)
        labels = data[:, -1]
        if not np.isin(labels, (0, 1)).all():
            raise ValueError(f"{file}: the last column must hold labels 0 or 1; found {np.unique(labels)[:5]}.")
        blocks.append(data[:, :-1])
        metas.append(pd.DataFrame({"label": labels.astype(int), "source": file.name}))
    return np.concatenate(blocks), pd.concat(metas, ignore_index=True)


def _minute_prices(path, price):
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such CSV file.")
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not a readable CSV file ({exc}).") from exc
    missing = {"Timestamp", price} - set(frame.columns)
    if missing:
        raise ValueError(f"{path}: missing column(s) {sorted(missing)}; found {list(frame.columns)}.")
    timestamps = pd.to_numeric(frame["Timestamp"], errors="coerce")
    values = pd.to_numeric(frame[price], errors="coerce")
    bad = (timestamps.isna() & frame["Timestamp"].notna()) | (values.isna() & frame[price].notna())
    if bad.any():
        line = int(np.flatnonzero(bad.to_numpy())[0]) + 2  # header is line 1
        raise ValueError(f"{path}: non-numeric Timestamp or {price} at line {line}.")
    if (values <= 0).any():
        raise ValueError(f"{path}: {price} must be positive (log prices are taken).")
    minutes = (timestamps // 60).astype("int64")
    series = pd.Series(values.to_numpy(), index=minutes.to_numpy()).groupby(level=0).last().sort_index()
    if len(series) == 0:
        raise ValueError(f"{path}: no rows.")
    return series.reindex(np.arange(series.index[0], series.index[-1] + 1))


def load_price_windows(csv_path, window=180, *, price="Close", stride=None, max_gap=5,
                       representation="log_price"):
    """Windows of minute prices from a Bitcoin (or any) minute-bar CSV.

    Reads either Kaggle "Bitcoin Historical Data" layout (``Timestamp, Open,
    High, Low, Close, Volume_(BTC), Volume_(Currency), Weighted_Price`` with NaN
    rows for minutes without trades, or ``Timestamp, Open, High, Low, Close,
    Volume``), with ``Timestamp`` in Unix seconds. The loader never downloads.

    Gap policy: rows are placed on a complete minute grid; a missing minute
    (no row, or a NaN price) is filled with the last price when it belongs to a
    run of at most ``max_gap`` missing minutes (no trade: the price did not
    move). Windows that touch a longer gap (an outage) are dropped. Windows are
    returned in time order; split them by time, not at random.

    Each window is returned as ``log(price / price[0])``: relative to its own
    start but not rescaled, so trend and volatility stay factors (per-window
    min-max or z-scoring would erase volatility). Scale the dataset as a whole,
    e.g. ``BetaVAETransformer(scaling="global")``. With
    ``representation="log_returns"`` a window is instead the ``window`` minute
    log returns of ``window + 1`` consecutive prices, the representation in
    which volatility is a variance (fit it with
    ``decoder_variance="heteroscedastic"``).

    Parameters
    ----------
    csv_path : str or path-like
    window : int, default=180
        Minutes per window (the seed experiment uses 180).
    price : str, default="Close"
        Price column to use.
    stride : int or None, default=None
        Minutes between window starts; None means ``window`` (no overlap).
    max_gap : int, default=5
        Longest run of missing minutes that is filled.
    representation : {"log_price", "log_returns"}, default="log_price"
        Log price relative to the window's first minute, or minute log
        returns (see above).

    Returns
    -------
    X : ndarray of shape (n_windows, window)
        Log price relative to the window's first minute, or log returns.
    meta : pandas.DataFrame
        ``start`` and ``end`` (UTC timestamps of the window's first and last
        price), ``first_price``, ``log_return`` (last minus first log price),
        ``volatility`` (standard deviation of minute log returns) and
        ``n_filled`` (filled minutes).

    Examples
    --------
    >>> import tempfile, numpy as np, pandas as pd
    >>> from skbvae.datasets import load_price_windows
    >>> folder = tempfile.mkdtemp()
    >>> t = 1_600_000_020 + 60 * np.arange(600)
    >>> pd.DataFrame({"Timestamp": t, "Close": 1e4 * np.exp(np.cumsum(np.full(600, 1e-4)))}).to_csv(
    ...     f"{folder}/btc.csv", index=False)
    >>> X, meta = load_price_windows(f"{folder}/btc.csv", window=180)
    >>> X.shape, float(round(meta["log_return"][0], 4))
    ((3, 180), 0.0179)
    """
    for name, value, low in (("window", window, 2), ("max_gap", max_gap, 0)):
        if not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name} must be an int >= {low}; got {value!r}.")
    stride = window if stride is None else stride
    if not isinstance(stride, (int, np.integer)) or stride < 1:
        raise ValueError(f"stride must be a positive int or None; got {stride!r}.")
    check_representation(representation)
    # Prices per window: ``window`` returns need one price more.
    span = window + 1 if representation == "log_returns" else window
    series = _minute_prices(csv_path, price)
    missing = series.isna().to_numpy()
    # Length of the missing run each minute belongs to.
    run_id = np.cumsum(~missing)
    run_length = np.bincount(run_id, weights=missing)[run_id]
    filled = series.ffill().to_numpy()
    unusable = (missing & (run_length > max_gap)) | np.isnan(filled)
    starts = np.arange(0, len(series) - span + 1, stride)
    if len(starts) == 0:
        raise ValueError(f"{csv_path}: {len(series)} minutes of data, fewer than one window of {span}.")
    bad_before = np.concatenate([[0], np.cumsum(unusable)])
    ok = bad_before[starts + span] - bad_before[starts] == 0
    starts = starts[ok]
    if len(starts) == 0:
        raise ValueError(f"{csv_path}: every window of {span} minutes crosses a gap longer than max_gap={max_gap}.")
    log_prices = np.log(filled)
    path = log_prices[starts[:, None] + np.arange(span)]
    path -= path[:, :1]
    returns = np.diff(path, axis=1)
    filled_before = np.concatenate([[0], np.cumsum(missing)])
    minutes = series.index.to_numpy()
    meta = pd.DataFrame({
        "start": pd.to_datetime(minutes[starts] * 60, unit="s", utc=True),
        "end": pd.to_datetime(minutes[starts + span - 1] * 60, unit="s", utc=True),
        "first_price": filled[starts],
        "log_return": path[:, -1],
        "volatility": returns.std(axis=1),
        "n_filled": filled_before[starts + span] - filled_before[starts],
    })
    return (returns if representation == "log_returns" else path), meta
