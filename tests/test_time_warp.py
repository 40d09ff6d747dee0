"""The rate warp: a named heart rate moves the next R of decoded beat windows (``rate_factor``)."""

import warnings

import numpy as np
import pandas as pd
import pytest
import torch

from conftest import FAST
from skbvae import BetaVAETransformer, io
from skbvae._time_warp import RateWarp, resample, warp_positions
from skbvae.datasets import make_heartbeats
from skbvae.ecg import measure_beat_windows

FS, START = 125.0, -0.25  # make_heartbeats' window: R at sample 31.25
NAMES = ["heart_rate", "r_amplitude"]


def _timed(X):
    frame = pd.DataFrame(X)
    frame.attrs["signal"] = {"fs": FS, "start": START, "units": "mV"}
    return frame


def _measured_rate(signals):
    return measure_beat_windows(signals, fs=FS, start=START)[["heart_rate"]]


@pytest.fixture(scope="module")
def data():
    X, factors = make_heartbeats(1200, random_state=0)
    return X, factors[NAMES]


@pytest.fixture(scope="module")
def warped(data):
    X, factors = data
    vae = BetaVAETransformer(latent_dim=4, hidden_layer_sizes=(64,), max_epochs=150, rate_factor="heart_rate",
                             random_state=0)
    return vae.fit(_timed(X[:1000]), factors=factors.iloc[:1000])


def test_positions_move_the_next_event_and_leave_the_beat_in_place():
    rates = torch.tensor([45.0, 60.0, 75.0, 100.0, 150.0])
    pos = warp_positions(rates, 200, fs=100.0, event_index=30.0, period=0.8)
    # The output sample of the next event (60 / rate s after it) reads the canonical next event.
    for row, rate in enumerate(rates.tolist()):
        at = 30.0 + 100.0 * 60.0 / rate
        read = np.interp(at, np.arange(200), pos[row].numpy())
        assert read == pytest.approx(30.0 + 80.0, abs=1e-3), rate
    # Before the stretch (the event's own wave) every sample reads itself; the map never runs back.
    assert torch.equal(pos[:, :40], torch.arange(40.0).expand(5, -1))
    assert (pos.diff(dim=1) >= 0).all()
    # At the canonical rate nothing moves.
    assert torch.allclose(warp_positions(torch.tensor([75.0]), 200, 100.0, 30.0, 0.8)[0], torch.arange(200.0))


def test_the_positions_gradient_is_the_derivative():
    rates = torch.tensor([50.0, 63.0, 80.0, 110.0, 140.0], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda r: warp_positions(r, 150, 125.0, 31.25, 0.85), (rates,))


def test_the_warp_draws_a_canonical_peak_at_each_rows_rate():
    n = 187
    canonical = torch.zeros(n)
    canonical[31 + round(0.8 * FS)] = 1.0  # the next R, 0.8 s after R
    warp = RateWarp(n, 1, latent=0, rate_center=75.0, rate_scale=10.0, fs=FS, event_index=31.0, period=0.8,
                    center=torch.full((n,), 0.5), scale=torch.full((n,), 2.0))
    z = torch.tensor([[-1.5], [0.0], [2.5]])  # 60, 75 and 100 bpm
    loc = ((canonical - 0.5) / 2.0).expand(3, -1)  # the decoder's output in scaled units
    variance = torch.ones(3, n)
    warped, warped_variance = warp(z, loc, variance)
    peaks = (warped * 2.0 + 0.5).argmax(dim=1).tolist()
    assert peaks == [31 + round(FS * 60 / rate) for rate in (60.0, 75.0, 100.0)]
    assert torch.allclose(warped_variance, variance)  # a flat variance stays flat


def test_the_warp_interpolates_in_float32_under_bfloat16():
    # precision="bfloat16" decodes in bfloat16, whose 8 bits hold only whole samples at positions of
    # 128-255: positions cast to it put a sine of 20 samples 0.148 off; in float32 the error is the
    # values' own rounding.
    n = 187
    warp = RateWarp(n, 1, latent=0, rate_center=75.0, rate_scale=10.0, fs=FS, event_index=31.25, period=0.8,
                    center=torch.zeros(n), scale=torch.ones(n))
    loc = torch.sin(torch.arange(n) * 2 * torch.pi / 20).expand(4, -1)
    z = torch.tensor([[-1.3], [0.4], [1.7], [2.2]])
    exact = warp(z, loc, None)[0]
    low = warp(z, loc.bfloat16(), None)[0]
    assert low.dtype == torch.bfloat16
    assert (low.float() - exact).abs().max() < 0.02


def test_a_heart_rate_edit_moves_the_next_r_with_the_warp_and_not_without(data, warped):
    # Measured on 2 cores (150 epochs, 1,000 beats, seeds 0-2): the decoded next R found in 91-95 % of the
    # held-out windows (tall enough for measure_beat_windows; 42-56 % before the rate was located),
    # measured edits of +-1 SD 1.00 of the change asked, open loop 0.47-1.12; without the warp the next
    # R is a blur found in none.
    X, factors = data
    beats = X[1000:1100]
    sd = float(factors["heart_rate"].std())
    assert warped.rate_factor_ == "heart_rate"
    decoded = _measured_rate(warped.inverse_transform(warped.transform(beats)))["heart_rate"]
    assert decoded.notna().mean() > 0.7
    # The rate's units are the warp's own map, not a line fitted through the read-out (which beats whose
    # next R the window does not show flatten: 0.37 as steep on MIT-BIH DS1, and edits overshot 2.7x).
    rate_warp = warped.net_.module_.rate_warp
    assert (warped.factor_intercept_[0], warped.factor_slope_[0]) == (rate_warp.rate_center, rate_warp.rate_scale)
    plain = BetaVAETransformer(**{**warped.get_params(), "rate_factor": None}).fit(X[:1000],
                                                                                   factors=factors.iloc[:1000])
    assert plain.rate_factor_ is None
    assert _measured_rate(plain.inverse_transform(plain.transform(beats)))["heart_rate"].notna().mean() < 0.1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the unwarped model's edit warns that it falls short
        for sign in (1.0, -1.0):
            moved = warped.edit(beats, measure=_measured_rate, heart_rate=sign * sd)[1]["heart_rate"].median()
            assert 0.8 < moved / (sign * sd) < 1.2, sign
            open_loop = _measured_rate(warped.edit(beats, heart_rate=sign * sd))["heart_rate"].median()
            assert 0.3 < (open_loop - decoded.median()) / (sign * sd) < 1.5, sign
            unwarped = plain.edit(beats, measure=_measured_rate, heart_rate=sign * sd)[1]["heart_rate"].median()
            assert not (0.8 < unwarped / (sign * sd) < 1.2), sign


def test_a_warped_model_round_trips_and_continues_with_its_warp(data, warped, tmp_path):
    X, factors = data
    loaded = io.load(io.dump(warped, tmp_path / "warped.skbvae"))
    assert loaded.rate_factor_ == "heart_rate"
    np.testing.assert_allclose(loaded.inverse_transform(loaded.transform(X[1000:1050])),
                               warped.inverse_transform(warped.transform(X[1000:1050])), atol=1e-5)
    # A warm fit on rows without their timing keeps the warp the network was built with.
    more = BetaVAETransformer(**{**warped.get_params(), "warm_start": True, "max_epochs": 2})
    more.fit(_timed(X[:300]), factors=factors.iloc[:300])
    more.fit(X[300:600])
    assert more.rate_factor_ == "heart_rate" and more.net_.module_.rate_warp is not None


@pytest.mark.filterwarnings("ignore:groups")
def test_the_warp_works_with_channels_groups_and_a_gaussian_decoder(data):
    X, factors = data
    two = np.hstack([X[:400], 0.5 * X[:400]])
    vae = BetaVAETransformer(**{**FAST, "latent_dim": 4}, n_channels=2, likelihood="gaussian",
                             rate_factor="heart_rate")
    groups = np.repeat(np.arange(8), 50)
    vae.fit(_timed(two), factors=factors.iloc[:400], groups=groups)
    assert vae.rate_factor_ == "heart_rate"
    assert np.isfinite(vae.inverse_transform(vae.transform(two[:20]))).all()


@pytest.mark.parametrize("change, match", [
    (dict(rate_factor="pulse"), "rate_factor='pulse' is not one of the factors' columns"),
    (dict(timing=None), "needs the rows' timing"),
    (dict(timing={"fs": FS, "start": 2.0}), "is not inside the 187-sample window"),
    (dict(timing={"fs": FS, "start": -1.3}), "the window ends 0.19 s after the event, before any next event"),
])
def test_a_rate_factor_that_cannot_warp_is_named(data, change, match):
    X, factors = data
    frame = _timed(X[:100])
    if "timing" in change:
        frame.attrs["signal"] = change["timing"]
    vae = BetaVAETransformer(**FAST, rate_factor=change.get("rate_factor", "heart_rate"))
    with pytest.raises(ValueError, match=match):
        vae.fit(frame, factors=factors.iloc[:100])


def test_a_rate_factor_without_factors_warns_and_fits_unwarped(data):
    X, _ = data
    vae = BetaVAETransformer(**FAST, rate_factor="heart_rate")
    with pytest.warns(UserWarning, match="this fit has no factors"):
        vae.fit(_timed(X[:100]))
    assert vae.rate_factor_ is None and vae.net_.module_.rate_warp is None


@pytest.mark.parametrize("case, expected", [
    ("timed", "heart_rate"),  # the default warps by the package's heart rate when it can
    ("no heart rate", None),
    ("short window", None),  # windows for intervals: no next event to move, nothing said
    ("no timing", None),  # warns
])
def test_the_default_rate_factor_warps_by_heart_rate_where_it_can(data, case, expected):
    X, factors = data
    rows = X[:100] if case != "short window" else X[:100, :120]  # 0.71 s after R: the next R of fast beats only
    frame = _timed(rows)
    names = NAMES if case != "no heart rate" else ["r_amplitude"]
    vae = BetaVAETransformer(**FAST)
    assert vae.rate_factor == "auto"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        vae.fit(rows if case == "no timing" else frame, factors=factors[names].iloc[:100])
    said = [str(w.message) for w in caught if "carries no timing" in str(w.message)]
    assert vae.rate_factor_ == expected
    assert (vae.net_.module_.rate_warp is not None) == (expected is not None)
    assert len(said) == (case == "no timing")


def test_the_rate_is_read_from_where_the_next_event_is_whatever_the_beat_looks_like(data, warped):
    # The rate latent's mean is a soft arg-max over the window after R of a learned filter's energy:
    # the same filter at every position, and an energy that does not see polarity. Beats turned upside
    # down, which no MLP saw, are read at their rate. Seeds 0-2: the inverted read-out equals the upright
    # one (0.00 bpm), which is 0.79-1.00 bpm from the measured rate in the median; without the locator
    # the inverted read was 31 bpm off.
    X, factors = data
    held_out = X[1000:1200]
    upright = warped.predict_factors(held_out)["heart_rate"].to_numpy()
    inverted = warped.predict_factors(-held_out)["heart_rate"].to_numpy()
    measured = factors["heart_rate"].iloc[1000:1200].to_numpy()
    assert np.median(np.abs(upright - measured)) < 2.0
    assert np.median(np.abs(inverted - upright)) < 1.0


def _spike_locator(n, temperature=1e-2):
    """A warp whose locator has an identity filter and a cold soft arg-max (rate 75 + 10 * code)."""
    warp = RateWarp(n, 1, latent=0, rate_center=75.0, rate_scale=10.0, fs=FS, event_index=31.0, period=0.8,
                    center=torch.zeros(n), scale=torch.ones(n))
    with torch.no_grad():
        warp.locator.zero_()
        warp.locator[0, 0, 4] = 1.0
        warp.log_temperature.fill_(np.log(temperature))
    return warp


def test_the_locator_finds_a_spike_by_its_position():
    n = 187
    warp = _spike_locator(n, temperature=1e-3)  # the largest sample after R
    x = torch.zeros(3, n)
    x[:, 31] = 1.0
    for row, rate in enumerate((60.0, 90.0, 150.0)):
        x[row, 31 + round(FS * 60 / rate)] = -0.8  # the next R, pointing down
    rates = 75.0 + 10.0 * warp.located(x).detach()
    expected = [60 * FS / round(FS * 60 / rate) for rate in (60.0, 90.0, 150.0)]
    assert np.allclose(rates.numpy(), expected, atol=0.1)


def test_the_locator_takes_the_first_of_two_next_events():
    # At 120 per minute a 1.25 s window holds two next R peaks of the same height; the rate is the first's.
    n = 187
    warp = _spike_locator(n)
    x = torch.zeros(2, n)
    x[:, 31] = 1.0
    x[:, 31 + 62] = x[:, 31 + 124] = 1.0
    x[1, 31 + 124] = 2.0  # the second taller: read against the event's energy, it counts no more than a full one
    rates = (75.0 + 10.0 * warp.located(x).detach()).numpy()
    assert np.allclose(rates, 60 * FS / 62, atol=0.5)
    with torch.no_grad():  # without the preference for earlier peaks, the rate falls between or on the second
        warp.earliness.zero_()
    rates = (75.0 + 10.0 * warp.located(x).detach()).numpy()
    assert (rates < 60 * FS / 62 - 20).all()


def test_a_warp_saved_without_earliness_loads_with_none():
    # Files written before the locator preferred earlier peaks have no `earliness` (nor `canonical_input`):
    # they load as they were.
    n = 187
    state = _spike_locator(n).state_dict()
    for name in ("earliness", "canonical_input", "event_relative", "beyond_score", "beyond_log_samples"):
        del state[name]
    warp = _spike_locator(n)
    warp.load_state_dict(state, strict=True)
    assert warp.earliness.item() == 0.0
    assert not warp.reads_canonical  # nor did their encoders read the rows in canonical time
    assert not warp.reads_relative  # nor their locators read the energy against the event's
    x = torch.zeros(1, n)
    x[0, 31], x[0, 31 + 62], x[0, 31 + 124] = 1.0, 0.5, 1.0
    with torch.no_grad():  # as before: the largest energy in the window wins
        assert 75.0 + 10.0 * warp.located(x).item() == pytest.approx(60 * FS / 124, abs=0.5)


def _beat_without_its_next(n):
    """A window whose next event lies past its end (under 48 per minute): a spike, then a T wave only."""
    t = torch.arange(n, dtype=torch.float32)
    x = torch.exp(-0.5 * ((t - 31 - 0.3 * FS) / 6.0) ** 2)[None] * 0.4  # a T wave 0.3 s after the event
    x[0, 31] += 1.0
    return x


def test_the_locator_reads_a_window_without_its_next_event_as_slow():
    # A slow beat's window holds its T wave and no next R. Read against the window's own largest energy,
    # the T wave was taken for the next R (MIT-BIH 114's ventricular beats at 36-46 bpm read at 160-208);
    # read against the event's, it is weak, and "none in the window" places the next event past the end.
    n = 187
    warp = _spike_locator(n)
    x = _beat_without_its_next(n)
    reach = 60 * FS / (n - 1 - 31)  # the slowest rate whose next event the window shows: 48 per minute
    with torch.no_grad():
        assert 75.0 + 10.0 * warp.located(x).item() < reach
        warp.event_relative.fill_(False)
        warp.reads_relative = False  # as the files saved before read it
        assert 75.0 + 10.0 * warp.located(x).item() > 150.0


def test_the_locator_measures_the_interval_from_where_the_event_is():
    # The window's R is where a detector put it; the located rate is the interval between the filter's
    # own positions of the two events, so a beat whose R lies 2 samples off reads the same rate.
    n = 187
    warp = _spike_locator(n)
    x = torch.zeros(2, n)
    x[0, 31], x[0, 31 + 62] = 1.0, 1.0
    x[1, 33], x[1, 33 + 62] = 1.0, 1.0
    with torch.no_grad():
        rates = (75.0 + 10.0 * warp.located(x)).numpy()
    assert np.allclose(rates, 60 * FS / 62, atol=0.2)


def test_canonical_time_undoes_the_warp():
    # The encoder reads the rows in canonical time: a window warped to 60, 75 and 95 per minute reads back
    # with its next event one canonical period (0.8 s) after the event.
    n = 187
    warp = _spike_locator(n)
    canonical = torch.zeros(3, n)
    canonical[:, 31] = 1.0
    canonical[:, 131] = torch.linspace(0.5, 1.0, 3)
    codes = torch.tensor([-1.5, 0.0, 2.0])  # 60, 75, 95 per minute
    positions = warp_positions(75.0 + 10.0 * codes, n, FS, 31.0, 0.8)
    (signal,) = resample(positions, canonical)
    assert (signal[:, 60:].argmax(dim=1) + 60).tolist() == [156, 131, 110]  # 60 / rate s after the event
    read = warp.canonical(signal, codes)
    assert (read[:, 60:].argmax(dim=1) + 60).tolist() == [131, 131, 131]
    assert torch.allclose(read[:2], canonical[:2], atol=1e-5)  # whole samples: exactly back
