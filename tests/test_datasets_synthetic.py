"""Synthetic generators: shapes, ranges, reproducibility, and that each factor does its one job."""

import numpy as np
import pandas as pd
import pytest

from skbvae.datasets import HEARTBEAT_FACTORS, PRICE_FACTORS, make_ecg, make_heartbeats, make_price_windows

FS = 125.0
T = (np.arange(187) - 31) / FS  # seconds from R


def test_heartbeat_shapes_ranges_reproducibility():
    X, factors = make_heartbeats(500, random_state=0)
    assert X.shape == (500, 187) and list(factors.columns) == list(HEARTBEAT_FACTORS)
    for name, (low, high) in HEARTBEAT_FACTORS.items():
        assert factors[name].between(low, high).all()
        assert factors[name].max() - factors[name].min() > 0.8 * (high - low)  # spread over the range
    # Independent draws: no pair of factors is correlated.
    corr = np.corrcoef(factors.to_numpy().T)
    assert np.abs(corr[np.triu_indices(7, 1)]).max() < 0.15
    X2, factors2 = make_heartbeats(500, random_state=0)
    np.testing.assert_array_equal(X, X2)
    assert factors.equals(factors2)
    assert not np.allclose(X, make_heartbeats(500, random_state=1)[0])
    assert make_heartbeats(10, fs=250, window=(0.5, 1.0))[0].shape == (10, 375)


def test_heartbeat_grid():
    X, factors = make_heartbeats(grid=3, factor_ranges={"noise": 0.0, "baseline": 0.0, "heart_rate": 70.0})
    assert len(X) == 3**7 and len(factors.drop_duplicates()) == 3**4
    assert sorted(factors["st_shift"].unique()) == pytest.approx([-0.2, 0.0, 0.2])


def beat(**changes):
    """One noise-free beat at the middle of every range, with some factors changed."""
    fixed = {name: (low + high) / 2 for name, (low, high) in HEARTBEAT_FACTORS.items()}
    fixed.update(noise=0.0, **changes)
    return make_heartbeats(1, factor_ranges=fixed, random_state=0)[0][0]


MID = {name: (low + high) / 2 for name, (low, high) in HEARTBEAT_FACTORS.items()}
QRS = np.abs(T) < 0.08
T_WAVE = (T > 0.2) & (T < 0.4)
BEFORE_QRS = (T > -0.2) & (T < -0.08)
ST = (T > 0.07) & (T < 0.15)


def test_baseline_shifts_the_whole_beat_equally():
    np.testing.assert_allclose(beat(baseline=0.2) - beat(baseline=0.0), 0.2, atol=1e-12)


def test_r_amplitude_changes_only_the_qrs_complexes():
    diff = np.abs(beat(r_amplitude=1.5) - beat(r_amplitude=0.7))
    assert diff[QRS].max() > 0.5
    assert diff[T_WAVE | BEFORE_QRS].max() < 1e-3


def test_qrs_width_changes_only_the_qrs_complexes():
    diff = np.abs(beat(qrs_width=0.12) - beat(qrs_width=0.06))
    assert diff[QRS].max() > 0.3
    assert diff[T_WAVE | BEFORE_QRS].max() < 0.03


def test_t_amplitude_changes_only_the_t_wave_including_inversion():
    up, inverted = beat(t_amplitude=0.5), beat(t_amplitude=-0.3)
    assert up[T_WAVE].max() > 0.4 and inverted[T_WAVE].min() < -0.2
    assert np.abs(up - inverted)[QRS | BEFORE_QRS].max() < 1e-3


def test_st_shift_moves_the_st_segment_only():
    diff = beat(st_shift=0.2) - beat(st_shift=-0.2)
    np.testing.assert_allclose(diff[ST], 0.4, atol=0.05)
    assert np.abs(diff[BEFORE_QRS]).max() < 1e-3


def test_heart_rate_moves_the_next_beat():
    slow, fast = beat(heart_rate=55.0), beat(heart_rate=105.0)
    next_r = lambda x: T[np.argmax(np.where(T > 0.3, x, -np.inf))]  # noqa: E731
    assert next_r(slow) == pytest.approx(60 / 55, abs=0.02)
    assert next_r(fast) == pytest.approx(60 / 105, abs=0.02)
    assert np.abs(slow - fast)[np.abs(T) < 0.05].max() < 0.02


def test_noise_adds_white_noise_of_that_size():
    X, _ = make_heartbeats(200, factor_ranges={**MID, "noise": 0.05}, random_state=0)
    clean, _ = make_heartbeats(1, factor_ranges={**MID, "noise": 0.0}, random_state=0)
    assert np.std(X - clean) == pytest.approx(0.05, rel=0.05)


def test_heartbeat_bad_arguments():
    with pytest.raises(ValueError, match="unknown factor 'pulse'"):
        make_heartbeats(5, factor_ranges={"pulse": (1, 2)})
    with pytest.raises(ValueError, match="low <= high"):
        make_heartbeats(5, factor_ranges={"noise": (0.1, 0.0)})
    with pytest.raises(ValueError, match="n_samples"):
        make_heartbeats(0)
    with pytest.raises(ValueError, match="grid"):
        make_heartbeats(grid=0)
    with pytest.raises(ValueError, match="fs"):
        make_heartbeats(5, fs=-1)


def test_make_ecg_knows_its_r_peaks():
    ecg, r_peaks = make_ecg(30.0, fs=500, heart_rate=90, rr_jitter=0.0, noise=0.0, random_state=0)
    assert len(ecg) == 15000
    np.testing.assert_allclose(np.diff(r_peaks), 500 * 60 / 90, atol=1)
    for r in r_peaks:
        window = ecg[max(0, r - 50):r + 50]
        assert window.max() == ecg[r]


@pytest.mark.parametrize("model", sorted(PRICE_FACTORS))
def test_price_window_shapes_and_reproducibility(model):
    X, factors = make_price_windows(300, model=model, random_state=0)
    assert X.shape == (300, 180) and np.isfinite(X).all()
    np.testing.assert_allclose(X[:, 0], 0.0)
    assert list(factors.columns) == [*PRICE_FACTORS[model], "start_price"]
    for name, (low, high) in PRICE_FACTORS[model].items():
        assert factors[name].between(low, high).all()
    np.testing.assert_array_equal(X, make_price_windows(300, model=model, random_state=0)[0])


@pytest.mark.parametrize("model", sorted(PRICE_FACTORS))
def test_volatility_is_the_minute_return_spread(model):
    X, factors = make_price_windows(400, model=model, random_state=0)
    realised = np.diff(X, axis=1).std(axis=1)
    if model == "garch":
        assert np.corrcoef(realised, factors["volatility"])[0, 1] > 0.9
    else:
        np.testing.assert_allclose(realised, factors["volatility"], rtol=0.25)


def test_drift_is_the_trend_and_not_the_volatility():
    up, _ = make_price_windows(500, factor_ranges={"drift": 1e-4, "volatility": 5e-4}, random_state=0)
    down, _ = make_price_windows(500, factor_ranges={"drift": -1e-4, "volatility": 5e-4}, random_state=0)
    assert np.mean(up[:, -1] - down[:, -1]) == pytest.approx(2e-4 * 179, rel=1e-6)
    np.testing.assert_allclose(np.diff(up, axis=1).std(axis=1), np.diff(down, axis=1).std(axis=1))


def test_mean_reversion_pulls_back_to_the_level():
    fast, _ = make_price_windows(300, model="ou", factor_ranges={"mean_reversion": 0.1, "start_deviation": 0.01,
                                                                  "volatility": 2e-4}, random_state=0)
    slow, _ = make_price_windows(300, model="ou", factor_ranges={"mean_reversion": 0.005, "start_deviation": 0.01,
                                                                  "volatility": 2e-4}, random_state=0)
    # Starting 1 % above the level, a fast-reverting price falls the whole 1 %.
    assert fast[:, -1].mean() == pytest.approx(-0.01, abs=1e-3)
    assert -0.01 < slow[:, -1].mean() < -0.003


def test_price_bad_arguments():
    with pytest.raises(ValueError, match="model"):
        make_price_windows(5, model="heston")
    with pytest.raises(ValueError, match="window"):
        make_price_windows(5, window=1)


@pytest.mark.parametrize("model", sorted(PRICE_FACTORS))
def test_log_returns_are_the_steps_of_a_path_one_price_longer(model):
    returns, factors = make_price_windows(50, window=60, model=model, representation="log_returns", random_state=3)
    path, path_factors = make_price_windows(50, window=61, model=model, random_state=3)
    assert returns.shape == (50, 60)
    np.testing.assert_allclose(returns, np.diff(path, axis=1), atol=1e-15)
    pd.testing.assert_frame_equal(factors, path_factors)
    with pytest.raises(ValueError, match="representation must be one of"):
        make_price_windows(5, representation="returns")


# --------------------------------------------------------- beats in records
def test_make_heartbeats_records_groups_and_spread():
    X, factors, groups = make_heartbeats(600, n_records=20, random_state=0)
    assert X.shape == (600, 187) and len(factors) == 600
    assert np.bincount(groups).tolist() == [30] * 20
    assert np.all(np.diff(groups) >= 0)  # beats of a record are consecutive rows
    within = factors.groupby(groups).std().mean()
    overall = factors.std()
    # every factor varies less within a record than across records
    assert (within < 0.6 * overall).all(), (within / overall).round(2).to_dict()
    for name, (low, high) in HEARTBEAT_FACTORS.items():
        assert factors[name].between(low, high).all()


def test_make_heartbeats_records_spread_is_factor_specific():
    _, factors, groups = make_heartbeats(4000, n_records=40, record_spread=(0.0, 0.3), random_state=1)
    spread = factors.groupby(groups).std() / (factors.max() - factors.min())
    # spreads differ between records of one factor and between factors of one record
    assert spread["heart_rate"].std() > 0.03
    assert spread.std(axis=1).mean() > 0.03


def test_make_heartbeats_records_reproducible_and_default_unchanged():
    a = make_heartbeats(100, n_records=5, random_state=0)
    b = make_heartbeats(100, n_records=5, random_state=0)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[2], b[2])
    assert len(make_heartbeats(10, random_state=0)) == 2  # no groups without n_records


@pytest.mark.parametrize("kwargs, match", [
    ({"n_records": 0}, "n_records"),
    ({"n_records": 11}, "n_records"),
    ({"n_records": 2.5}, "n_records"),
    ({"n_records": 2, "record_spread": (0.3, 0.1)}, "record_spread"),
    ({"n_records": 2, "grid": 2}, "grid and n_records"),
])
def test_make_heartbeats_records_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_heartbeats(10, **kwargs)


def _runs_of(kinds, kind):
    """Lengths of the runs of ``kind`` in a sequence of beat symbols."""
    padded = np.concatenate([[False], kinds == kind, [False]]).astype(int)
    edges = np.flatnonzero(np.diff(padded))
    return edges[1::2] - edges[::2]


def test_make_ecg_rhythms_have_known_beats_kinds_and_timing():
    fs = 250
    for rhythm, pattern in [("bigeminy", "NV"), ("trigeminy", "NNV")]:
        ecg, r_peaks, kinds = make_ecg(60.0, fs=fs, rhythm=rhythm, random_state=0, return_kinds=True)
        assert "".join(kinds).startswith(pattern * 10)
        rr = np.diff(r_peaks) / fs
        premature = rr[np.flatnonzero(kinds[1:] == "V")]  # the interval before each PVC
        assert np.allclose(premature, 0.6 * 60 / 72, rtol=0.15)
    _, r_peaks, kinds = make_ecg(300.0, fs=fs, rhythm="ventricular_runs", random_state=0, return_kinds=True)
    runs = _runs_of(kinds, "V")
    assert len(runs) >= 8 and runs.min() >= 3 and runs.max() <= 8
    _, r_peaks, kinds = make_ecg(300.0, fs=fs, rhythm="escape", random_state=0, return_kinds=True)
    escape_rr = np.diff(r_peaks)[(kinds[1:] == "E") & (kinds[:-1] == "E")] / fs
    assert np.allclose(60 / escape_rr, 40, atol=1)
    _, r_peaks, kinds = make_ecg(300.0, fs=fs, rhythm="bundle_branch_episode", random_state=0, return_kinds=True)
    assert np.array_equal(kinds == "R", (r_peaks >= 100 * fs) & (r_peaks < 200 * fs))


def test_make_ecg_wide_beats_look_unlike_normal_ones_and_have_no_shape_factors():
    ecg, r_peaks, factors, kinds = make_ecg(30.0, fs=250, rhythm="bigeminy", noise=0.0, rr_jitter=0.0,
                                            random_state=0, return_factors=True, return_kinds=True)
    normal, ventricular = (np.stack([ecg[p - 25:p + 50] for p in r_peaks[kinds == k][1:4]]) for k in ("N", "V"))
    assert np.corrcoef(normal[0], ventricular[0])[0, 1] < 0.3
    assert ventricular.min() < -1.0  # the wide QRS points down, deeper than R is tall
    assert factors.loc[kinds == "V", "qrs_width"].isna().all()
    assert factors.loc[kinds == "N", "qrs_width"].notna().all()


def test_make_ecg_sinus_is_the_default_and_unknown_rhythms_are_refused():
    default = make_ecg(20.0, random_state=3)
    sinus = make_ecg(20.0, rhythm="sinus", random_state=3, return_kinds=True)
    np.testing.assert_array_equal(default[0], sinus[0])
    assert set(sinus[2]) == {"N"}
    with pytest.raises(ValueError, match="rhythm must be one of"):
        make_ecg(10.0, rhythm="afib")
