"""Beats cut from arrays and records alike: RR features, labels, pauses (skbvae.ecg._beats)."""

import warnings

import numpy as np
import pytest
import wfdb

from conftest import SHARED_MITDB, needs_mitdb
from skbvae.datasets import load_wfdb_heartbeats, make_ecg
from skbvae.ecg import AAMI_CLASSES, cut_heartbeats
from skbvae.ecg._beats import MAX_PAUSE_S, rr_features


def _write(folder, name, signal, fs, names=("II",), kinds=None, r_peaks=None):
    signal = np.asarray(signal, dtype=float).reshape(len(signal), -1)
    wfdb.wrsamp(name, fs=fs, units=["mV"] * signal.shape[1], sig_name=list(names), p_signal=signal,
                fmt=["16"] * signal.shape[1], adc_gain=[1000.0] * signal.shape[1], baseline=[0] * signal.shape[1],
                write_dir=str(folder))
    if kinds is not None:
        wfdb.wrann(name, "atr", np.asarray(r_peaks), symbol=list(kinds), write_dir=str(folder))
    return folder / name


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


@pytest.mark.parametrize("annotations", [False, True])
@pytest.mark.parametrize("n_leads", [1, 2])
def test_beats_cut_from_an_array_equal_the_loaders(tmp_path, annotations, n_leads):
    ecg, r_peaks, kinds = make_ecg(60.0, fs=360, rhythm="bigeminy", random_state=0, return_kinds=True)
    signal = np.column_stack([ecg, 0.5 * ecg + 0.1])[:, :n_leads]
    names = ["MLII", "V1"][:n_leads]
    path = _write(tmp_path, "rec", signal, 360, names, kinds, r_peaks)
    X, meta = _quiet(load_wfdb_heartbeats, path, lead=names, annotations=annotations, features=True)
    digital = wfdb.rdrecord(str(path)).p_signal  # what the loader reads: the signal at the file's resolution
    given = dict(r_peaks=r_peaks, symbols=kinds) if annotations else {}
    X_array, meta_array = _quiet(cut_heartbeats, digital if n_leads > 1 else digital[:, 0], 360, lead_names=names,
                                 features=True, **given)
    np.testing.assert_array_equal(X_array, X)
    shared = [column for column in meta_array.columns if column in meta.columns]
    assert len(shared) == len(meta_array.columns)  # every column of the array's meta is one of the loader's
    assert meta_array[shared].equals(meta[shared])
    assert meta["record"].eq("rec").all()  # the record's name, not its path


def test_annotation_symbols_and_aami_classes(tmp_path):
    ecg, r_peaks, kinds = make_ecg(60.0, fs=250, rhythm="bigeminy", random_state=1, return_kinds=True)
    kinds = kinds.astype(object)
    kinds[3], kinds[7], kinds[11], kinds[13] = "A", "F", "/", "L"  # one of each other class
    path = _write(tmp_path, "rec", ecg, 250, kinds=kinds, r_peaks=r_peaks)
    X, meta = _quiet(load_wfdb_heartbeats, path, annotations=True)
    inside = (r_peaks >= 0.25 * 250) & (r_peaks + 1.25 * 250 <= len(ecg))
    assert meta["symbol"].tolist() == list(kinds[inside])
    assert meta["aami"].tolist() == [AAMI_CLASSES[k] for k in kinds[inside]]
    assert set(meta["aami"]) == {"N", "S", "V", "F", "Q"}
    # Detected beats carry no label.
    _, detected = _quiet(load_wfdb_heartbeats, path)
    assert "symbol" not in detected.columns and "aami" not in detected.columns


def test_aami_mapping_is_the_standard_one():
    assert {s for s, c in AAMI_CLASSES.items() if c == "N"} >= set("NLRej")
    assert {s for s, c in AAMI_CLASSES.items() if c == "S"} == set("AaJS")
    assert {s for s, c in AAMI_CLASSES.items() if c == "V"} >= set("VE")
    assert {s for s, c in AAMI_CLASSES.items() if c == "F"} == {"F"}
    assert {s for s, c in AAMI_CLASSES.items() if c == "Q"} >= set("/fQ")  # paced records are Q


def test_rr_features_on_known_intervals():
    peaks = np.array([0, 100, 200, 350, 450, 550])  # at 100 Hz: 1.0, 1.0, 1.5, 1.0, 1.0 s
    rr = rr_features(peaks, 100.0)
    np.testing.assert_allclose(rr["rr_pre"], [np.nan, 1.0, 1.0, 1.5, 1.0, 1.0])
    np.testing.assert_allclose(rr["rr_post"], [1.0, 1.0, 1.5, 1.0, 1.0, np.nan])
    np.testing.assert_allclose(rr["rr_record"], np.full(6, 5.5 / 5))
    # Ten beats centred on each (i - 5 to i + 4): all six but, for the first, the last one.
    np.testing.assert_allclose(rr["rr_local"], [4.5 / 4, *np.full(5, 5.5 / 5)])
    unusable = np.zeros(600, dtype=bool)
    unusable[260:280] = True  # lost signal between beats 2 and 3: not an RR interval
    lost = rr_features(peaks, 100.0, unusable)
    assert np.isnan(lost["rr_post"][2]) and np.isnan(lost["rr_pre"][3])
    assert lost["rr_record"][0] == pytest.approx(1.0)


@pytest.mark.parametrize("annotations", [False, True])
def test_pauses_are_a_rhythm_not_a_bad_beat(tmp_path, annotations):
    ecg, r_peaks = make_ecg(180.0, fs=250, rhythm="pauses", random_state=0)
    intervals = np.diff(r_peaks) / 250
    assert (intervals > 2.0).sum() >= 5 and intervals.max() <= MAX_PAUSE_S  # pauses of 2-6 s
    path = _write(tmp_path, "rec", ecg, 250, kinds=["N"] * len(r_peaks) if annotations else None, r_peaks=r_peaks)
    X, meta = _quiet(load_wfdb_heartbeats, path, annotations=annotations)
    inside = r_peaks[(r_peaks >= 0.25 * 250) & (r_peaks + 1.25 * 250 <= len(ecg))]
    found = meta["r_peak"].to_numpy()
    kept = np.abs(found[None, :] - inside[:, None]).min(axis=1) <= 0.15 * 250
    assert kept.all(), f"{(~kept).sum()} beats lost, before pauses: {np.isin(np.flatnonzero(~kept), np.flatnonzero(intervals > 2))}"
    before_pause = meta["rr_post"] > 2.0
    assert before_pause.sum() == ((intervals > 2.0) & np.isin(r_peaks[:-1], inside)).sum()
    assert (meta.loc[before_pause, "heart_rate"] < 30).all()  # reported as it is


def test_a_long_gap_after_an_implausible_rate_is_not_a_pause():
    # Two beats 8 s apart with nothing around them: longer than any pause, so not kept as one.
    ecg, r_peaks = make_ecg(60.0, fs=250, heart_rate=60, rr_jitter=0, random_state=0)
    ecg[int(20.6 * 250):int(28.6 * 250)] = np.random.default_rng(0).normal(0, 0.01, int(8 * 250))  # 8 s flat-ish
    _, meta = _quiet(cut_heartbeats, ecg, 250)
    assert not ((meta["rr_post"] > MAX_PAUSE_S) & (meta["heart_rate"] < 30)).any()


def test_cut_heartbeats_names_what_is_wrong():
    ecg, r_peaks = make_ecg(20.0, fs=250, random_state=0)
    with pytest.raises(ValueError, match="ecg must be an array of shape"):
        cut_heartbeats(np.zeros((3, 3, 3)), 250)
    with pytest.raises(ValueError, match="fs=5.0 Hz is outside"):
        cut_heartbeats(ecg, 5)
    with pytest.raises(ValueError, match="r_peaks must be a 1-D array of integer"):
        cut_heartbeats(ecg, 250, r_peaks.astype(float))
    with pytest.raises(ValueError, match="r_peaks must be increasing sample indices within ecg"):
        cut_heartbeats(ecg, 250, r_peaks[::-1])
    with pytest.raises(ValueError, match="symbols has 2 entries for"):
        cut_heartbeats(ecg, 250, r_peaks, symbols=["N", "V"])
    with pytest.raises(ValueError, match="symbols label given r_peaks"):
        cut_heartbeats(ecg, 250, symbols=["N"])
    with pytest.raises(ValueError, match="lead_names has 2 names for 1 lead"):
        cut_heartbeats(ecg, 250, lead_names=["a", "b"])
    with pytest.raises(ValueError, match="no usable ECG|fewer than two beats"):
        cut_heartbeats(np.random.default_rng(0).normal(size=5000), 250)


def test_cut_heartbeats_as_frame_carries_the_time_axis():
    ecg, _ = make_ecg(20.0, fs=250, random_state=0)
    X, _ = cut_heartbeats(ecg, 250, as_frame=True, beat_fs=100, window=(0.2, 0.6))
    assert X.shape[1] == 80 and X.columns[0] == "ecg_t000"
    assert X.attrs["signal"] == {"fs": 100.0, "start": -0.2, "units": "mV"}


@pytest.mark.parametrize("n_leads", [1, 2])
def test_baseline_median_takes_out_the_recorders_offset_and_keeps_it(n_leads):
    ecg, _ = make_ecg(30.0, fs=250, heart_rate=70, random_state=3)
    clean = np.column_stack([ecg, -0.6 * ecg])[:, :n_leads]
    t = np.arange(len(ecg)) / 250
    # A recorder's DC offset, different per lead, and slow wander under the beats.
    offset = np.array([-0.8, 0.5])[:n_leads] + 0.15 * np.sin(2 * np.pi * 0.1 * t)[:, None]
    X_kept, _ = cut_heartbeats(clean + offset, 250)
    X_clean, meta_clean = cut_heartbeats(clean, 250, baseline="median")
    X, meta = cut_heartbeats(clean + offset, 250, baseline="median")
    assert X.shape == X_kept.shape == X_clean.shape
    length = X.shape[1] // n_leads
    for lead in range(n_leads):
        window = slice(lead * length, (lead + 1) * length)
        np.testing.assert_allclose(np.median(X[:, window], axis=1), 0.0, atol=1e-12)
        # The offset is gone: the beats are the clean record's, but for the wander's slope within a window
        # (at most 0.15 * 2 pi * 0.1 = 0.094 mV/s, over 0.75 s either side of the window's middle: 0.07 mV).
        np.testing.assert_allclose(X[:, window], X_clean[:, window], atol=0.1)
        assert np.abs(X_kept[:, window] - X_clean[:, window]).max() > 0.3
    # Nothing lost: the first lead's level is in meta, and adding it back gives the kept windows.
    np.testing.assert_allclose(X_kept[:, :length] - meta["baseline_offset"].to_numpy()[:, None], X[:, :length])
    # What was taken out beyond the clean record's own level is the offset at the window's middle (R + 0.5 s).
    middle = meta["r_peak"].to_numpy() + int(0.5 * 250)
    np.testing.assert_allclose(meta["baseline_offset"] - meta_clean["baseline_offset"], offset[middle, 0], atol=0.05)
    assert "baseline_offset" not in cut_heartbeats(clean, 250)[1].columns


def test_baseline_record_takes_out_one_level_per_lead_and_keeps_the_beats_shapes():
    ecg, _ = make_ecg(30.0, fs=250, heart_rate=70, random_state=3)
    clean = np.column_stack([ecg, -0.6 * ecg])
    X_kept, _ = cut_heartbeats(clean + [-0.8, 0.5], 250)
    X_clean, _ = cut_heartbeats(clean, 250, baseline="record")
    X, meta = cut_heartbeats(clean + [-0.8, 0.5], 250, baseline="record")
    np.testing.assert_allclose(X, X_clean, atol=1e-9)  # a constant offset is gone exactly, lead by lead
    offset = meta["baseline_offset"].to_numpy()
    assert np.ptp(offset) == 0 and offset[0] == pytest.approx(-0.8 + np.median(ecg), abs=1e-9)
    np.testing.assert_allclose(X_kept[:, :187] - offset[:, None], X[:, :187])
    # Unlike "median", the beats keep their level against each other: slow wander stays in the windows.
    t = np.arange(len(ecg)) / 250
    wandering, _ = cut_heartbeats(ecg + 0.3 * np.sin(2 * np.pi * 0.05 * t), 250, baseline="record")
    assert np.ptp(np.median(wandering, axis=1)) > 0.4


def test_the_loader_centres_windows_as_cut_heartbeats_does(tmp_path):
    ecg, _ = make_ecg(30.0, fs=360, random_state=0)
    path = _write(tmp_path, "rec", ecg - 0.35, 360, ["MLII"])
    X, meta = load_wfdb_heartbeats(path, baseline="median")
    X_array, meta_array = cut_heartbeats(wfdb.rdrecord(str(path)).p_signal[:, 0], 360, baseline="median")
    np.testing.assert_array_equal(X, X_array)
    np.testing.assert_array_equal(meta["baseline_offset"], meta_array["baseline_offset"])
    assert np.median(meta["baseline_offset"]) < -0.3


def test_baseline_names_what_it_takes():
    ecg, _ = make_ecg(20.0, fs=250, random_state=0)
    with pytest.raises(ValueError, match="baseline must be one of 'keep', 'record', 'median'; got 'mean'"):
        cut_heartbeats(ecg, 250, baseline="mean")
    with pytest.raises(ValueError, match="baseline='median' applies to layout='window'"):
        load_wfdb_heartbeats("no/such/record", layout="kachuee", baseline="median")


#: MIT-BIH DS1, the inter-patient training records (de Chazal et al. 2004).
DS1 = "101 106 108 109 112 114 115 116 118 119 122 124 201 203 205 207 208 209 215 220 223 230".split()


@needs_mitdb("208.hea", "208.dat", "208.atr")
def test_mitbih_ds1_labels_are_the_cardiologists():
    # Record 208: normal beats, ~990 ventricular, ~370 fusion and a few supraventricular ones.
    X, meta = _quiet(load_wfdb_heartbeats, SHARED_MITDB / "208", annotations=True)
    annotation = wfdb.rdann(str(SHARED_MITDB / "208"), "atr")
    symbols = np.array(annotation.symbol)
    beats = np.isin(symbols, list(AAMI_CLASSES))
    counts = {c: sum(AAMI_CLASSES[s] == c for s in symbols[beats]) for c in "NSVFQ"}
    found = meta["aami"].value_counts().to_dict()
    # Every annotated beat but those within a window of the record's ends.
    for cls, n in counts.items():
        assert n - 2 <= found.get(cls, 0) <= n, (cls, n, found)
    assert meta["record"].eq("208").all() and found["V"] > 900 and found["F"] > 300
    assert meta["rr_record"].nunique() == 1 and 0.5 < meta["rr_record"].iloc[0] < 1.2


@needs_mitdb("RECORDS", *(f"{record}.{ext}" for record in DS1 for ext in ("hea", "dat", "atr")))
def test_mitbih_ds1_folder_names_records_by_name():
    _, meta = _quiet(load_wfdb_heartbeats, SHARED_MITDB, annotations=True, n_jobs=2)
    assert sorted(meta["record"].unique()) == sorted((SHARED_MITDB / "RECORDS").read_text().split())
    # de Chazal et al. (2004), DS1: N 45,866, S 944, V 3,788, F 415, Q 8 (51,021 beats).
    counts = meta["aami"].value_counts()
    assert counts["V"] == 3788 and abs(counts["N"] - 45866) < 60 and abs(counts["S"] - 944) < 5
    assert abs(counts["F"] - 415) < 3 and counts["Q"] == 8


def test_atrial_premature_beats_are_early_normal_beats_labelled_s(tmp_path):
    ecg, r_peaks, kinds = make_ecg(120.0, fs=250, rhythm="atrial_premature", random_state=0, return_kinds=True)
    early = kinds == "A"
    assert 0.1 < early.mean() < 0.2
    rr_before = np.diff(r_peaks, prepend=r_peaks[0]) / 250
    assert np.median(rr_before[early]) < 0.75 * np.median(rr_before[~early][1:])
    X, meta = _quiet(cut_heartbeats, ecg, 250)  # detected: every beat kept, normal shape
    assert len(X) >= len(r_peaks) - 3 and (meta["shape"] == 0).mean() > 0.95
    _, labelled = _quiet(cut_heartbeats, ecg, 250, r_peaks, symbols=kinds)
    assert set(labelled["aami"]) == {"N", "S"} and (labelled.loc[labelled["aami"] == "S", "rr_pre"] < 0.6).all()
