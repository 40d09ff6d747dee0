"""P, QRS and T boundaries (skbvae.ecg.delineate_beats): on make_ecg's known waves and on LUDB."""

import warnings

import numpy as np
import pandas as pd
import pytest
import wfdb

from conftest import SHARED_LUDB, needs_ludb
from skbvae.datasets import make_ecg
from skbvae.ecg import BEAT_FEATURES, delineate_beats, measure_beat_features


def test_boundaries_come_in_the_order_of_the_waves():
    ecg, r_peaks = make_ecg(60.0, fs=360, random_state=0)
    b = delineate_beats(ecg, 360, r_peaks)
    inner = b.iloc[1:-1]
    assert inner.notna().all().all()
    order = ["p_on", "p_peak", "p_off", "qrs_on", "qrs_off", "t_peak", "t_off"]
    assert (np.diff(inner[order].to_numpy(), axis=1) > 0).all()
    assert ((inner["qrs_on"] < r_peaks[1:-1]) & (r_peaks[1:-1] < inner["qrs_off"])).all()
    features, boundaries = measure_beat_features(ecg, 360, r_peaks, return_boundaries=True)
    assert boundaries.equals(b) and list(features.columns) == [*BEAT_FEATURES, "paced"]


@pytest.mark.parametrize("p_delay", [0.0, 0.12, 0.2])
def test_a_long_pr_is_measured_up_to_first_degree_block(p_delay):
    # The P wave moves 120-200 ms earlier: PR from ~150 ms to ~270-350 ms (first-degree AV block).
    ecg, r_peaks = make_ecg(60.0, fs=360, heart_rate=60, p_delay=p_delay, random_state=0)
    pr = measure_beat_features(ecg, 360, r_peaks)["pr_interval"]
    assert pr.notna().mean() > 0.95
    assert pr.median() == pytest.approx(0.152 + p_delay, abs=0.012)


@pytest.mark.parametrize("remove_baseline", [True, False])
def test_baseline_wander_does_not_move_the_p_and_t_boundaries(remove_baseline, monkeypatch):
    # 0.3 mV of wander at 0.35 Hz (breathing, a Holter at rest): P and T boundaries sit on slopes of a few
    # mV/s and the wander adds ~0.7 mV/s; the delineator takes it out before the transform.
    import skbvae.ecg._delineation as delineation

    if not remove_baseline:  # the mechanism is what holds them: without it they move (the test can fail)
        monkeypatch.setattr(delineation, "_BASELINE_HZ", 1e-6)
    ecg, r_peaks = make_ecg(60.0, fs=360, heart_rate=60, random_state=0)
    wander = 0.3 * np.sin(2 * np.pi * 0.35 * np.arange(len(ecg)) / 360)
    clean = delineate_beats(ecg, 360, r_peaks)
    moved = delineate_beats(ecg + wander, 360, r_peaks)
    shift_ms = (moved - clean)[["p_on", "p_off", "t_off"]].abs().stack().quantile(0.9) * 1000 / 360
    # Seeds 0-2: 4-8 ms with the high-pass, 20-58 ms without.
    if remove_baseline:
        assert shift_ms <= 12
    else:
        assert shift_ms > 15


def test_beats_without_a_p_wave_have_no_pr_and_wide_beats_a_wide_qrs():
    ecg, r_peaks, kinds = make_ecg(120.0, fs=360, rhythm="ventricular_runs", random_state=0, return_kinds=True)
    features = measure_beat_features(ecg, 360, r_peaks)
    normal, ventricular = features[kinds == "N"], features[kinds == "V"]
    assert normal["pr_interval"].notna().mean() > 0.95 and ventricular["pr_interval"].isna().all()
    # make_ecg's ventricular beat has no ST segment (its discordant T begins under the QRS's tail), so some
    # of them measure past the 250 ms no QRS lasts and are left unmeasured (_QRS_RANGE); the rest are wide.
    assert ventricular["qrs_duration"].notna().mean() > 0.6
    assert ventricular["qrs_duration"].median() > max(0.14, 1.5 * normal["qrs_duration"].median())


def test_a_bundle_branch_block_qrs_ends_after_its_second_r():
    # rSR': r at 0, S at +35 ms, R' at +75 ms (sd 20 ms): the QRS ends after R', not at the S nadir.
    ecg, r_peaks, kinds = make_ecg(120.0, fs=500, rhythm="bundle_branch_episode", random_state=0, return_kinds=True)
    b = delineate_beats(ecg, 500, r_peaks)
    block = kinds == "R"
    after_r = (b["qrs_off"][block] - r_peaks[block]) / 500
    assert (after_r > 0.12).mean() > 0.95  # the S nadir is at 35 ms, R' peaks at 75 ms
    qrs = (b["qrs_off"] - b["qrs_on"]) / 500
    assert qrs[block].median() > 0.14 and qrs[kinds == "N"].median() < 0.13


@pytest.mark.parametrize("rule", [True, False])
def test_an_inverted_t_wave_after_a_small_st_hump_ends_where_it_returns(rule, monkeypatch):
    # Sums of Gaussians at 500 Hz: R, S, a 0.06 mV ST hump 140 ms after R and a -0.3 mV T wave
    # (sd 45 ms) 300 ms after R. The hump's slopes and the T's first slope make a small wave of their
    # own; taken as the T wave it ended the T at its trough or left it unmeasured (LUDB 28, 54).
    import skbvae.ecg._delineation as delineation

    if not rule:  # without the rule the T is lost: the test can fail
        monkeypatch.setattr(delineation, "_T_SLOPES_APART_S", 0.0)
    fs = 500
    t = np.arange(20 * fs) / fs
    r_peaks = np.arange(fs // 2, len(t) - fs, int(0.9 * fs))

    def waves(delay, sd, height):
        return height * np.exp(-0.5 * ((t[:, None] - r_peaks[None] / fs - delay) / sd) ** 2).sum(axis=1)

    ecg = (waves(-0.16, 0.02, 0.12) + waves(0, 0.012, 1.0) + waves(0.03, 0.008, -0.2) + waves(0.14, 0.025, 0.06)
           + waves(0.30, 0.045, -0.3) + np.random.default_rng(0).normal(0, 0.005, len(t)))
    b = delineate_beats(ecg, fs, r_peaks).iloc[1:-1]
    after_trough_ms = (b["t_off"] - r_peaks[1:-1]) / fs * 1000 - 300
    if rule:
        assert b["t_off"].notna().all()
        assert (((b["t_peak"] - r_peaks[1:-1]) / fs * 1000 - 300).abs() <= 10).all()
        assert after_trough_ms.between(60, 130).all()  # 2-3 SDs of the wave past its trough
    else:
        assert after_trough_ms.between(60, 130).mean() <= 0.5


def test_a_t_end_that_gives_an_impossible_qtc_is_left_unmeasured(monkeypatch):
    import skbvae.ecg._delineation as delineation

    ecg, r_peaks = make_ecg(30.0, fs=360, heart_rate=60, random_state=0)
    qt = measure_beat_features(ecg, 360, r_peaks)["qt_interval"]
    assert qt.notna().mean() > 0.9 and 0.30 < qt.median() < 0.70  # make_ecg's QT at 60 bpm: QTc = QT
    # The same T ends with the accepted range moved far above them: every one is taken away, with its peak.
    monkeypatch.setattr(delineation, "_QTC_RANGE", (2.0, 3.0))
    b = delineate_beats(ecg, 360, r_peaks)
    assert b["t_off"].isna().all() and b["t_peak"].isna().all() and b["qrs_off"].notna().all()


def test_a_qrs_no_heart_has_is_left_unmeasured(monkeypatch):
    import skbvae.ecg._delineation as delineation

    ecg, r_peaks = make_ecg(30.0, fs=360, heart_rate=60, random_state=0)
    qrs = measure_beat_features(ecg, 360, r_peaks)["qrs_duration"]
    assert qrs.notna().all() and 0.04 < qrs.min() and qrs.max() < 0.25
    # The same complexes with the accepted durations moved far above them: each QRS is taken away (both
    # boundaries, so PR and QT with them), and the P and T waves stay.
    monkeypatch.setattr(delineation, "_QRS_RANGE", (0.5, 1.0))
    b = delineate_beats(ecg, 360, r_peaks)
    assert b[["qrs_on", "qrs_off"]].isna().all().all() and b[["p_on", "t_off"]].notna().mean().min() > 0.9


def test_a_beat_whose_own_qrs_strays_from_its_neighbours_keeps_their_template(monkeypatch):
    import skbvae.ecg._delineation as delineation

    ecg, r_peaks = make_ecg(30.0, fs=360, heart_rate=60, rr_jitter=0, random_state=0)
    # A notch on one beat's upstroke (a plateau from 40 to 15 ms before R): the samples before it, where the
    # QRS starts, are untouched, but the beat's own slope search stops at the plateau.
    notched = ecg.copy()
    start, stop = r_peaks[10] - int(0.04 * 360), r_peaks[10] - int(0.015 * 360)
    notched[start:stop] = notched[start]

    def qrs_ms():
        b = delineate_beats(notched, 360, r_peaks)
        return 1000 * (b["qrs_off"] - b["qrs_on"]).to_numpy() / 360

    kept = qrs_ms()
    assert abs(kept[10] - np.median(kept)) <= 8
    # Without the rule the beat's own boundaries are taken, and its QRS comes out >20 ms short.
    monkeypatch.setattr(delineation, "_QRS_BEAT_AGREES_S", 1.0)
    own = qrs_ms()
    assert np.median(own) - own[10] > 20


def test_qt_follows_the_rate_and_qtc_is_named_and_computed_as_said():
    qt = {}
    for heart_rate in (60, 100):
        ecg, r_peaks = make_ecg(60.0, fs=360, heart_rate=heart_rate, rr_jitter=0, random_state=0)
        features = measure_beat_features(ecg, 360, r_peaks)
        assert features["qt_interval"].notna().mean() > 0.95
        rr = np.diff(r_peaks) / 360
        np.testing.assert_allclose(features["qtc_bazett"].iloc[1:], features["qt_interval"].iloc[1:] / np.sqrt(rr))
        np.testing.assert_allclose(features["qtc_fridericia"].iloc[1:], features["qt_interval"].iloc[1:] / np.cbrt(rr))
        qt[heart_rate] = features["qt_interval"].median()
    # make_ecg's T wave sits at 0.30 √RR (width 0.05 √RR): ~0.09-0.10 s earlier at 100 bpm than at 60.
    assert 0.07 < qt[60] - qt[100] < 0.12 and 0.40 < qt[60] < 0.52


def test_atrial_fibrillation_like_rhythm_reports_no_p_wave():
    # Irregularly irregular RR (40 % jitter): the P waves of make_ecg's beats are still drawn, but a
    # rhythm this irregular is read as fibrillation, whose beats have no P wave to measure.
    ecg, r_peaks = make_ecg(60.0, fs=360, rr_jitter=0.25, random_state=0)
    assert delineate_beats(ecg, 360, r_peaks)["p_on"].isna().mean() > 0.8
    regular, r_regular = make_ecg(60.0, fs=360, rr_jitter=0.03, random_state=0)
    assert delineate_beats(regular, 360, r_regular)["p_on"].notna().mean() > 0.95


def test_several_leads_take_the_median_boundary_and_keep_what_few_leads_show_out():
    ecg, r_peaks = make_ecg(60.0, fs=360, random_state=0)
    noise = np.random.default_rng(0).normal(0, 0.01, len(ecg))
    leads = np.column_stack([ecg, 0.8 * ecg + noise, 1.2 * ecg])
    together = delineate_beats(leads, 360, r_peaks)
    each = np.stack([delineate_beats(lead, 360, r_peaks).to_numpy() for lead in leads.T])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        np.testing.assert_allclose(together.to_numpy(), np.nanmedian(each, axis=0))
    features = measure_beat_features(leads, 360, r_peaks)  # amplitudes from the first lead
    np.testing.assert_allclose(features["r_amplitude"], measure_beat_features(ecg, 360, r_peaks)["r_amplitude"])


def _with_t_delayed(ecg, r_peaks, fs, seconds):
    """``ecg`` with every T wave (R + 150-600 ms) moved ``seconds`` later, as another lead might show it."""
    out, shift = ecg.copy(), int(round(seconds * fs))
    for r in r_peaks:
        lo, hi = r + int(0.15 * fs), r + int(0.6 * fs)
        if hi + shift < len(ecg):
            out[lo + shift:hi + shift] = ecg[lo:hi]
            out[lo:lo + shift] = ecg[lo]
    return out


@pytest.mark.parametrize("delay, unmeasured", [(0.1, True), (0.03, False)])
def test_two_leads_that_disagree_on_a_boundary_leave_it_unmeasured(delay, unmeasured):
    # The second lead's T ends `delay` later: 100 ms is more than leads of one heart differ by (60 ms), so
    # one lead is on the wrong wave and the T end is NaN, not the midpoint; 30 ms is the median of the two.
    fs = 360
    ecg, r_peaks = make_ecg(30.0, fs=fs, heart_rate=60, rr_jitter=0, t_amplitude=0.3, random_state=0)
    other = _with_t_delayed(ecg, r_peaks, fs, delay)
    alone, moved = delineate_beats(ecg, fs, r_peaks), delineate_beats(other, fs, r_peaks)
    assert np.allclose(moved["t_off"] - alone["t_off"], delay * fs, atol=2)  # the fixture moves the T end
    together = delineate_beats(np.column_stack([ecg, other]), fs, r_peaks)
    assert together[["qrs_on", "qrs_off", "p_on"]].notna().all().all()
    if unmeasured:
        assert together[["t_peak", "t_off"]].isna().all().all()
    else:
        np.testing.assert_allclose(together["t_off"], (alone["t_off"] + moved["t_off"]) / 2)
    # With a third lead that agrees with the first, the one lead apart does not count: the median stays.
    three = delineate_beats(np.column_stack([ecg, 0.8 * ecg, other]), fs, r_peaks)
    np.testing.assert_allclose(three["t_off"], alone["t_off"], atol=1)


def _built_qrs(t, r):
    """The QRS of the built beats below: an R of 1 mV at ``r`` (s) and a small S 30 ms after it, on times ``t``."""
    return np.exp(-0.5 * ((t - r) / 0.010) ** 2) - 0.2 * np.exp(-0.5 * ((t - r - 0.03) / 0.008) ** 2)


def _two_leads(t_peak, wave_after, seed=0, fs=250.0, n_beats=30, rr=0.8):
    """Lead A: R, S and a T wave peaking ``t_peak`` after R, no P. Lead B: the same QRS, no T wave, and
    a narrow wave ``wave_after`` after each R, after B's T search window (R + 0.49 s at this rate)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int((n_beats + 1) * rr * fs)) / fs
    a, b = 0.01 * rng.standard_normal(len(t)), 0.01 * rng.standard_normal(len(t))
    r_peaks = np.arange(1, n_beats + 1) * rr
    for r in r_peaks:
        qrs = _built_qrs(t, r)
        a += qrs + 0.25 * np.exp(-0.5 * ((t - r - t_peak) / 0.045) ** 2)
        b += qrs + 0.12 * np.exp(-0.5 * ((t - r - wave_after) / 0.02) ** 2)
    return np.column_stack([a, b]), np.round(r_peaks * fs).astype(int)


@pytest.mark.parametrize("t_peak, wave_after, kept", [(0.42, 0.50, False), (0.36, 0.54, True)])
def test_a_p_wave_that_starts_before_another_leads_t_end_is_not_a_p_wave(t_peak, wave_after, kept):
    # Lead B shows no T wave of its own to start its P search after, so the wave after its beats is its
    # P. Where lead A's T wave is still going on there (its end 0.52 s after R, the wave's start 0.45 s),
    # the wave is not the next beat's P (LUDB 116's V6 in ambulatory noise took its T's downslope for a P).
    # Where A's T has ended (0.46 s against 0.50 s) it is.
    ecg, r_peaks = _two_leads(t_peak, wave_after)
    a, b = (delineate_beats(lead, 250, r_peaks) for lead in ecg.T)
    assert a["p_on"].isna().all() and b["t_off"].isna().all() and b["p_on"].notna().all()
    together = delineate_beats(ecg, 250, r_peaks)
    later = together.iloc[1:]  # the first beat has no beat before it
    if kept:
        np.testing.assert_allclose(later["p_on"], b["p_on"].iloc[1:])
    else:
        assert later[["p_on", "p_peak", "p_off"]].isna().all().all()
        assert (b["p_on"].iloc[1:].to_numpy() < a["t_off"].iloc[:-1].to_numpy()).all()
    np.testing.assert_allclose(together["t_off"], a["t_off"])


@pytest.mark.parametrize("t_amplitude, noise, measured", [(0.05, 0.01, True), (0.05, 0.03, False), (0.3, 0.05, True)])
def test_a_t_wave_that_does_not_stand_clear_of_the_noise_is_left_unmeasured(t_amplitude, noise, measured):
    # A 0.05 mV T wave is measured in 0.01 mV of noise and not in 0.03 mV (under 4 noise SDs); a 0.3 mV one
    # stands clear of 0.05 mV. Without the rule every T end of these records is "found".
    ecg, r_peaks = make_ecg(30.0, fs=360, heart_rate=60, rr_jitter=0, t_amplitude=t_amplitude, noise=noise,
                            random_state=0)
    share = delineate_beats(ecg, 360, r_peaks)["t_off"].notna().mean()
    assert share > 0.9 if measured else share < 0.3


def test_a_t_end_that_runs_into_the_next_beat_is_left_unmeasured(monkeypatch):
    import skbvae.ecg._delineation as delineation

    ecg, r_peaks = make_ecg(30.0, fs=360, heart_rate=60, rr_jitter=0, random_state=0)
    assert delineate_beats(ecg, 360, r_peaks)["t_off"].notna().mean() > 0.9
    # The same T ends with the next R taken to be within 0.9 s of them: each T end but the last is too close.
    monkeypatch.setattr(delineation, "_T_CLEAR_OF_NEXT_R_S", 0.9)
    b = delineate_beats(ecg, 360, r_peaks)
    assert b["t_off"].iloc[:-1].isna().all() and b["t_peak"].iloc[:-1].isna().all()
    assert b["qrs_off"].notna().all()


def test_missing_samples_leave_the_waves_they_touch_unmeasured():
    ecg, r_peaks = make_ecg(30.0, fs=250, heart_rate=60, rr_jitter=0, random_state=0)
    gappy = ecg.copy()
    gappy[r_peaks[10] - 5:r_peaks[10] + 5] = np.nan  # inside the 11th QRS
    b = delineate_beats(gappy, 250, r_peaks)
    assert b.loc[10, ["qrs_on", "qrs_off", "t_peak", "t_off"]].isna().all()
    assert b.drop(index=[0, 10, len(r_peaks) - 1])[["qrs_on", "qrs_off"]].notna().all().all()


@needs_ludb(*(f"{record}.{ext}" for record in range(1, 41) for ext in ("hea", "dat", "ii")))
def test_ludb_lead_ii_against_the_cardiologists():
    # 40 patients (the full 200 are in benchmarks/bench_delineation.py). Measured on these:
    # QRS -3 +- 13 ms, PR 0 +- 13 ms, QT +6 +- 29 ms; margins for other CPUs and versions.
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from bench_delineation import reference, scores

    found, truth = [], []
    for record in range(1, 41):
        ref = reference(SHARED_LUDB, record, "ii")
        signal = wfdb.rdrecord(str(SHARED_LUDB / str(record)), channel_names=["ii"]).p_signal[:, 0]
        found.append(delineate_beats(signal, 500, ref.r.to_numpy()))
        truth.append(ref)
    import pandas as pd

    table = scores(pd.concat(found, ignore_index=True), pd.concat(truth, ignore_index=True)).set_index("quantity")
    for interval in ("QRS", "PR", "QT"):
        assert abs(table.loc[interval, "bias ms"]) < 10, table
        assert table.loc[interval, "measured"] > 0.85, table
    assert table.loc["QRS", "SD ms"] < 25 and table.loc["PR", "SD ms"] < 25 and table.loc["QT", "SD ms"] < 45, table


@pytest.mark.parametrize("seed", [0, 1])
def test_a_noisy_record_is_low_passed_before_it_is_delineated(seed, monkeypatch):
    # Noise above 40 Hz (muscle noise) moves the QRS boundaries, which sit on the slopes; a record that
    # holds much of it is low-passed first. A clean record is delineated as before.
    import skbvae.ecg._delineation as delineation
    from scipy import signal

    ecg, r_peaks = make_ecg(30.0, fs=500, random_state=seed)
    clean = delineate_beats(ecg, 500, r_peaks)
    muscle = signal.sosfiltfilt(signal.butter(4, [60, 120], btype="band", fs=500, output="sos"),
                                np.random.default_rng(seed).normal(size=len(ecg)))
    noisy = ecg + 0.2 * muscle / muscle.std()
    columns = ["qrs_on", "qrs_off"]
    moved, low_passed = {}, delineation._NOISY_SHARE
    for share in (low_passed, np.inf):  # inf: never low-pass
        monkeypatch.setattr(delineation, "_NOISY_SHARE", share)
        moved[share] = float(np.nanmean(np.abs(delineate_beats(noisy, 500, r_peaks)[columns] - clean[columns]))) * 2
        pd.testing.assert_frame_equal(delineate_beats(ecg, 500, r_peaks), clean)
    # Measured (ms, seeds 0-4): 0.2-0.8 low-passed, 4-6 without.
    assert moved[low_passed] < 2.0 < 3.0 < moved[np.inf]


@pytest.mark.parametrize("lobe_floor", [0.0, 0.18])
def test_a_slope_lobe_under_the_noise_floor_does_not_join_the_complex(lobe_floor):
    # An R, an S, then a 30 Hz ripple in the ST segment (muscle noise left in a template) whose slope
    # maxima (~0.14 of the R's) pass the 8 % a lobe needs to belong to the complex: chained to it, they
    # carried the QRS offset 150 ms past R. Under a floor set above them (a noisy record's slope noise)
    # they do not, and the offset is the S wave's.
    from skbvae.ecg._delineation import _WORK_FS, _qrs, wavelet_scales

    t = np.arange(int(_WORK_FS)) / _WORK_FS
    r = int(0.4 * _WORK_FS)
    x = np.exp(-0.5 * ((t - 0.40) / 0.010) ** 2) - 0.25 * np.exp(-0.5 * ((t - 0.43) / 0.008) ** 2)
    x += 0.08 * np.sin(2 * np.pi * 30 * (t - 0.46)) * ((t > 0.46) & (t < 0.56))
    w2 = wavelet_scales(x, 2)[1]
    onset, offset = _qrs(w2, r, r - 40, r + 50, x=x, lobe_floor=lobe_floor * np.abs(w2).max())
    offset_ms = (offset - r) / _WORK_FS * 1000
    # Measured: 152 ms without the floor, 64 ms with it (the S wave's Gaussian ends ~55 ms after R).
    if lobe_floor:
        assert 50 <= offset_ms <= 80
    else:
        assert offset_ms > 120
    assert (r - onset) / _WORK_FS * 1000 < 60


@needs_ludb(*(f"{record}.{ext}" for record in range(1, 201) for ext in ("hea", "dat", "ii")))
def test_walking_level_noise_leaves_the_qrs_sd_within_1_3_times_the_clean_one(monkeypatch):
    # Issue 36's noise target on LUDB lead II (all 200 records, bench_delineation.py --noise's "strong"
    # level: 0.6 mV of wander, 0.05 mV RMS of muscle noise). Measured: QRS SD 17.3 ms clean, 20.6 ms
    # with noise (26.5 ms without the lobe floor of noisy records).
    import sys
    from pathlib import Path

    import skbvae.ecg._delineation as delineation

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from bench_delineation import run, scores

    sd = {}
    for name, noise, lobe_floor in (("clean", None, 1.0), ("noisy", "strong", 1.0), ("no floor", "strong", 0.0)):
        monkeypatch.setattr(delineation, "_QRS_LOBE_FLOOR", lobe_floor)
        found, truth, _ = run(SHARED_LUDB, range(1, 201), delineate_beats, noise=noise)
        sd[name] = scores(found, truth).set_index("quantity").loc["QRS", "SD ms"]
    assert sd["noisy"] < 1.3 * sd["clean"], sd
    assert sd["noisy"] < 0.9 * sd["no floor"], sd


def _ludb_pr_gross_and_measured(leads, records=range(1, 41)):
    """PR errors over 50 ms, and PR intervals measured, on ``leads`` of LUDB's ``records``, each lead alone
    against its own annotation."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from bench_delineation import reference

    gross = measured = 0
    for lead in leads:
        for record in records:
            ref = reference(SHARED_LUDB, record, lead)
            signal = wfdb.rdrecord(str(SHARED_LUDB / str(record)), channel_names=[lead]).p_signal[:, 0]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                found = delineate_beats(signal, 500, ref.r.to_numpy())
            error = ((found.qrs_on - found.p_on).to_numpy() - (ref.qrs_on - ref.p_on).to_numpy()) * 2
            gross += int(np.sum(np.abs(error) > 50))
            measured += int(np.sum(np.isfinite(error)))
    return gross, measured


@needs_ludb(*(f"{record}.{ext}" for record in range(1, 41) for ext in ("hea", "dat", "v2", "v3", "avl")))
def test_a_wave_cut_by_the_p_windows_start_is_not_a_p_wave(monkeypatch):
    # Where a lead's P wave is flat (V2, V3, aVL), the tail of the previous T wave at the P search
    # window's start was taken for it, its onset walked back out of the window: PR 90-160 ms too long.
    # Measured on these 40 patients' V2, V3 and aVL: 64 PR errors over 50 ms of 668 measured without
    # the rule, 42 of 646 with it; since the P-duration rule (_P_LONGEST_S) 44 of 648 and 22 of 626.
    import skbvae.ecg._delineation as delineation

    with_rule = _ludb_pr_gross_and_measured(("v2", "v3", "avl"))
    monkeypatch.setattr(delineation, "_P_INSIDE_WINDOW_S", -0.05)  # as before the rule: 50 ms before the window
    without = _ludb_pr_gross_and_measured(("v2", "v3", "avl"))
    assert with_rule[0] < 0.8 * without[0], (with_rule, without)
    assert with_rule[1] > 0.95 * without[1], (with_rule, without)


def _beats_with_a_p_of_width(p_sd, p_before, seed=0, fs=250.0, n_beats=30, rr=1.0):
    """A regular rhythm of built beats whose P wave is a Gaussian of SD ``p_sd`` peaking ``p_before`` before R."""
    rng = np.random.default_rng(seed)
    t = np.arange(int((n_beats + 1) * rr * fs)) / fs
    ecg, r_peaks = 0.005 * rng.standard_normal(len(t)), np.arange(1, n_beats + 1) * rr
    for r in r_peaks:
        ecg += (_built_qrs(t, r) + 0.25 * np.exp(-0.5 * ((t - r - 0.3) / 0.045) ** 2)
                + 0.1 * np.exp(-0.5 * ((t - r + p_before) / p_sd) ** 2))
    return ecg, np.round(r_peaks * fs).astype(int)


@pytest.mark.parametrize("p_sd, p_before, measured", [(0.05, 0.25, True), (0.06, 0.28, False)])
def test_a_wave_longer_than_any_p_wave_is_not_a_p_wave(p_sd, p_before, measured, monkeypatch):
    # A Gaussian "P" of SD 50 ms measures ~185 ms from onset to end and is reported; one of 60 ms measures
    # ~210 ms, longer than a P wave lasts (LUDB's annotated P waves: 0.1 % over 200 ms), and is not.
    import skbvae.ecg._delineation as delineation

    ecg, r_peaks = _beats_with_a_p_of_width(p_sd, p_before)
    found = delineate_beats(ecg, 250, r_peaks)
    assert found["p_on"].notna().all() if measured else found[["p_on", "p_peak", "p_off"]].isna().all().all()
    if measured:
        assert ((found["p_off"] - found["p_on"]) / 250).median() < delineation._P_LONGEST_S
    monkeypatch.setattr(delineation, "_P_LONGEST_S", 10.0)  # without the rule every one is reported
    assert delineate_beats(ecg, 250, r_peaks)["p_on"].notna().all()


@needs_ludb(*(f"{record}.{ext}" for record in range(1, 41) for ext in ("hea", "dat", "v2", "v3")))
def test_a_p_onset_walked_back_along_the_baseline_is_not_reported(monkeypatch):
    # Where a chest lead's P wave is flat, its onset walked back along a slowly rising baseline to the
    # previous T wave's end, a "P wave" of 210-290 ms and a PR 100-250 ms too long (LUDB 11 and 56 on V3,
    # 14 and 65 on V2). Measured on these 40 patients' V2 and V3: 22 PR errors over 50 ms of 423 measured
    # without the rule, 3 of 404 with it.
    import skbvae.ecg._delineation as delineation

    with_rule = _ludb_pr_gross_and_measured(("v2", "v3"))
    monkeypatch.setattr(delineation, "_P_LONGEST_S", 10.0)
    without = _ludb_pr_gross_and_measured(("v2", "v3"))
    assert with_rule[0] < 0.8 * without[0], (with_rule, without)
    assert with_rule[1] > 0.95 * without[1], (with_rule, without)


def _regular_beats_with(atrial, seed, fs=250.0, n_beats=40, rr=0.8):
    """A regular rhythm of built beats (R, S, T) with a P wave locked to each QRS (``atrial="p"``) or
    fibrillation waves that are not (``"f"``), and its R peaks."""
    rng = np.random.default_rng(seed)
    t = np.arange(int((n_beats + 1) * rr * fs)) / fs
    ecg, r_peaks = 0.01 * rng.standard_normal(len(t)), []
    for k in range(1, n_beats + 1):
        r = k * rr
        r_peaks.append(int(round(r * fs)))
        ecg += _built_qrs(t, r) + 0.25 * np.exp(-0.5 * ((t - r - 0.3) / 0.045) ** 2)
        if atrial == "p":
            ecg += 0.12 * np.exp(-0.5 * ((t - r + 0.16) / 0.02) ** 2)
    if atrial == "f":  # irregular waves of 4-9 Hz (240-540 a minute), 0.05 mV RMS
        from scipy import signal

        band = signal.butter(2, [4, 9], btype="band", fs=fs, output="sos")
        waves = signal.sosfiltfilt(band, rng.standard_normal(len(t)))
        ecg += 0.05 * waves / waves.std()
    return ecg, np.array(r_peaks)


def test_fibrillation_waves_in_a_regular_rhythm_are_not_reported_as_p_waves(monkeypatch):
    # A regular ventricular rhythm (paced fibrillation) escapes the RR-irregularity rule, and a bump of
    # fibrillation waves survives in a template of a few beats. A P wave is locked to its QRS, they are
    # not: each beat's own P segment must follow its template's. Measured over seeds 0-11 (share of
    # beats with a P): locked P 1.00 on every seed with the rule; fibrillation waves 0.05 in the mean
    # with it (0-0.33), 0.32 without (0-0.6).
    import skbvae.ecg._delineation as delineation

    locked = [_regular_beats_with("p", seed) for seed in range(12)]
    fibrillation = [_regular_beats_with("f", seed) for seed in range(12)]
    locked = [delineate_beats(ecg, 250.0, r)["p_on"].notna().mean() for ecg, r in locked]
    with_rule = np.mean([delineate_beats(ecg, 250.0, r)["p_on"].notna().mean() for ecg, r in fibrillation])
    monkeypatch.setattr(delineation, "_P_LOCKED", -np.inf)
    without = np.mean([delineate_beats(ecg, 250.0, r)["p_on"].notna().mean() for ecg, r in fibrillation])
    assert min(locked) > 0.95
    assert with_rule < 0.15 and without > 0.2 and without > 3 * with_rule, (with_rule, without)


def test_the_p_lock_needs_neighbours_to_judge_a_beat():
    # The P lock judges a beat with its neighbours; measure_beat_windows delineates one window (a beat
    # and the start of the next), which has none to follow: a P there stays as it was found. Beats
    # whose own P segments run against their template's lose it once three or more of them show a P.
    from skbvae.ecg._delineation import BOUNDARIES, _drop_unlocked_p

    before, length = 100, 300
    t = np.arange(length)
    bump = np.exp(-0.5 * ((t - 60) / 5.0) ** 2)
    row = np.full(len(BOUNDARIES), np.nan)
    row[[BOUNDARIES.index("p_on"), BOUNDARIES.index("p_peak"), BOUNDARIES.index("p_off")]] = [50, 60, 70]
    for n_beats, kept in ((2, True), (3, False), (8, False)):
        peaks = np.full(n_beats, before)  # each beat's R at column `before` of its own window
        boundaries = np.tile(row, (n_beats, 1))
        windows = np.tile(-bump, (n_beats, 1))  # each beat's P runs against its template's
        _drop_unlocked_p(boundaries, windows, bump[None], np.zeros(n_beats, dtype=int), peaks, before)
        assert np.isfinite(boundaries[:, BOUNDARIES.index("p_on")]).all() == kept, n_beats
