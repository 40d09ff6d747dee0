"""Kaggle PTB CSVs and minute-price windows from CSVs the tests write."""

import numpy as np
import pandas as pd
import pytest

from skbvae.datasets import load_price_windows, load_ptbdb_csv


def write_ptbdb(folder, name, n_rows, label, seed=0):
    rows = np.hstack([np.random.default_rng(seed).random((n_rows, 187)), np.full((n_rows, 1), label)])
    np.savetxt(folder / name, rows, delimiter=",", fmt="%.6e")
    return rows


def test_ptbdb_folder_loads_both_files(tmp_path):
    normal = write_ptbdb(tmp_path, "ptbdb_normal.csv", 4, 0.0, seed=1)
    abnormal = write_ptbdb(tmp_path, "ptbdb_abnormal.csv", 6, 1.0, seed=2)
    X, meta = load_ptbdb_csv(tmp_path)
    assert X.shape == (10, 187)
    np.testing.assert_allclose(X, np.vstack([normal, abnormal])[:, :187], rtol=1e-6)
    assert meta["label"].tolist() == [0] * 4 + [1] * 6
    assert meta["source"].tolist() == ["ptbdb_normal.csv"] * 4 + ["ptbdb_abnormal.csv"] * 6


def test_ptbdb_bad_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.csv"):
        load_ptbdb_csv(tmp_path / "missing.csv")
    with pytest.raises(FileNotFoundError, match="neither of"):
        load_ptbdb_csv(tmp_path)
    np.savetxt(tmp_path / "short.csv", np.zeros((3, 100)), delimiter=",")
    with pytest.raises(ValueError, match=r"short.csv: expected 188 columns .* found 100"):
        load_ptbdb_csv(tmp_path / "short.csv")
    rows = write_ptbdb(tmp_path, "text.csv", 3, 1.0)
    lines = (tmp_path / "text.csv").read_text().splitlines()
    lines[1] = "abc," + lines[1].split(",", 1)[1]
    (tmp_path / "text.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=r"text.csv: non-numeric or empty cell 'abc' at line 2, column 1"):
        load_ptbdb_csv(tmp_path / "text.csv")
    rows[:, -1] = 3
    np.savetxt(tmp_path / "labels.csv", rows, delimiter=",")
    with pytest.raises(ValueError, match="labels 0 or 1"):
        load_ptbdb_csv(tmp_path / "labels.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(ValueError, match="empty.csv: not a readable CSV"):
        load_ptbdb_csv(tmp_path / "empty.csv")


T0 = 1_599_999_960  # a whole minute in Unix seconds


def write_prices(path, log_prices, *, layout="new", drop=(), nan=()):
    minutes = np.arange(len(log_prices))
    close = np.exp(log_prices)
    frame = pd.DataFrame({"Timestamp": T0 + 60 * minutes, "Open": close, "High": close, "Low": close,
                          "Close": close})
    if layout == "new":
        frame["Volume"] = 1.0
    else:
        frame["Volume_(BTC)"] = 1.0
        frame["Volume_(Currency)"] = close
        frame["Weighted_Price"] = close
    frame.loc[list(nan), ["Open", "High", "Low", "Close"] + (["Weighted_Price"] if layout == "old" else [])] = np.nan
    frame = frame.drop(index=list(drop))
    frame.to_csv(path, index=False)
    return close


@pytest.mark.parametrize("layout", ["old", "new"])
def test_windows_in_time_order_with_log_normalisation(tmp_path, layout):
    log_prices = np.log(3e4) + np.cumsum(np.random.default_rng(0).normal(0, 1e-3, 900))
    close = write_prices(tmp_path / "btc.csv", log_prices, layout=layout)
    X, meta = load_price_windows(tmp_path / "btc.csv", window=180)
    assert X.shape == (5, 180)
    np.testing.assert_allclose(X[:, 0], 0.0)
    np.testing.assert_allclose(np.exp(X) * meta["first_price"].to_numpy()[:, None], close.reshape(5, 180), rtol=1e-9)
    assert meta["start"].is_monotonic_increasing
    assert meta["start"].iloc[1] - meta["start"].iloc[0] == pd.Timedelta(minutes=180)
    assert meta["start"].iloc[0] == pd.Timestamp(T0, unit="s", tz="UTC")
    np.testing.assert_allclose(meta["log_return"], X[:, -1])
    np.testing.assert_allclose(meta["volatility"], np.diff(log_prices.reshape(5, 180), axis=1).std(axis=1))
    assert (meta["n_filled"] == 0).all()


def test_log_returns_windows_take_one_price_more(tmp_path):
    log_prices = np.log(3e4) + np.cumsum(np.random.default_rng(1).normal(0, 1e-3, 900))
    write_prices(tmp_path / "btc.csv", log_prices)
    X, meta = load_price_windows(tmp_path / "btc.csv", window=180, representation="log_returns")
    # 181 prices per window, windows 180 minutes apart: the fifth would need minute 900.
    assert X.shape == (4, 180)
    starts = np.arange(4) * 180
    expected = np.diff(log_prices[starts[:, None] + np.arange(181)], axis=1)
    np.testing.assert_allclose(X, expected, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(meta["volatility"], X.std(axis=1))
    np.testing.assert_allclose(meta["log_return"], X.sum(axis=1))
    assert (meta["end"] - meta["start"] == pd.Timedelta(minutes=180)).all()
    with pytest.raises(ValueError, match="representation must be one of"):
        load_price_windows(tmp_path / "btc.csv", representation="prices")


def test_gap_policy(tmp_path):
    log_prices = np.log(1e4) + np.linspace(0, 0.1, 900)
    # Window 0: 3 NaN minutes (no trades) -> filled. Window 1: 4 missing rows -> filled.
    # Window 3: 20 missing rows (an outage) -> dropped.
    write_prices(tmp_path / "gaps.csv", log_prices, nan=[10, 11, 12], drop=[200, 201, 202, 203, *range(600, 620)])
    X, meta = load_price_windows(tmp_path / "gaps.csv", window=180, max_gap=5)
    assert len(X) == 4
    assert meta["start"].tolist() == [pd.Timestamp(T0 + 60 * m, unit="s", tz="UTC") for m in (0, 180, 360, 720)]
    assert meta["n_filled"].tolist() == [3, 4, 0, 0]
    # Filled minutes repeat the last traded price (no trade: no move).
    assert X[0, 10] == X[0, 11] == X[0, 12] == X[0, 9]
    assert np.isfinite(X).all()
    X_overlap, _ = load_price_windows(tmp_path / "gaps.csv", window=180, stride=60)
    assert len(X_overlap) > len(X)


def test_price_bad_input(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        load_price_windows(tmp_path / "nope.csv")
    pd.DataFrame({"time": [1, 2], "Close": [1.0, 2.0]}).to_csv(tmp_path / "cols.csv", index=False)
    with pytest.raises(ValueError, match=r"cols.csv: missing column\(s\) \['Timestamp'\]"):
        load_price_windows(tmp_path / "cols.csv")
    pd.DataFrame({"Timestamp": [T0, T0 + 60], "Close": ["1.0", "x"]}).to_csv(tmp_path / "text.csv", index=False)
    with pytest.raises(ValueError, match="text.csv: non-numeric Timestamp or Close at line 3"):
        load_price_windows(tmp_path / "text.csv")
    pd.DataFrame({"Timestamp": [T0, T0 + 60], "Close": [1.0, -2.0]}).to_csv(tmp_path / "neg.csv", index=False)
    with pytest.raises(ValueError, match="must be positive"):
        load_price_windows(tmp_path / "neg.csv")
    write_prices(tmp_path / "short.csv", np.zeros(100))
    with pytest.raises(ValueError, match="fewer than one window of 180"):
        load_price_windows(tmp_path / "short.csv")
    write_prices(tmp_path / "holes.csv", np.zeros(400), drop=range(100, 120))
    with pytest.raises(ValueError, match="every window .* crosses a gap"):
        load_price_windows(tmp_path / "holes.csv", window=300)
    for kwargs in ({"window": 1}, {"max_gap": -1}, {"stride": 0}):
        with pytest.raises(ValueError, match=next(iter(kwargs))):
            load_price_windows(tmp_path / "short.csv", **kwargs)
