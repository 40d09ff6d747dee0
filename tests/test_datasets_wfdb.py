"""WFDB heartbeat loading and R-peak detection on records the tests write, and on real ones."""

import warnings

import numpy as np
import pandas as pd
import pytest
import wfdb

from conftest import SHARED_WFDB, needs_wfdb
from skbvae.datasets import BEAT_SYMBOLS, load_wfdb_heartbeats, make_ecg
from skbvae.ecg import detect_r_peaks

META_COLUMNS = ["record", "patient", "lead", "diagnosis", "label", "r_peak", "fs", "rr", "heart_rate", "rr_pre",
                "rr_post", "rr_local", "rr_record", "quality", "shape"]


def write_record(folder, name, fs, *, fmt="16", leads=("ii",), duration=20.0, heart_rate=72.0,
                 comments=None, amplitude=1.0, seed=0, signal=None):
    """Write a WFDB record of synthetic ECG; return the true R peaks."""
    ecg, r_peaks = make_ecg(duration, fs=fs, heart_rate=heart_rate, amplitude=amplitude, random_state=seed)
    if signal is not None:
        ecg = signal
    p_signal = np.column_stack([ecg * (1 + 0.1 * i) for i in range(len(leads))])
    gain = 200.0 if fmt == "212" else 1000.0 / amplitude
    wfdb.wrsamp(name, fs=fs, units=["mV"] * len(leads), sig_name=list(leads), p_signal=p_signal,
                fmt=[fmt] * len(leads), adc_gain=[gain] * len(leads), baseline=[0] * len(leads),
                comments=comments or [], write_dir=str(folder))
    return r_peaks


@pytest.mark.parametrize("fs", [125, 250, 360, 500, 1000])
@pytest.mark.parametrize("amplitude", [0.01, 1.0, 100.0])
def test_detector_finds_every_beat_across_rates_and_scales(fs, amplitude):
    ecg, truth = make_ecg(30.0, fs=fs, heart_rate=75, amplitude=amplitude, random_state=1)
    found = detect_r_peaks(ecg, fs)
    assert len(found) == len(truth)
    assert np.max(np.abs(found - truth)) <= max(1, round(0.004 * fs))  # within 4 ms


def test_detector_handles_inverted_and_flat_signals():
    ecg, truth = make_ecg(20.0, fs=250, random_state=2)
    np.testing.assert_allclose(detect_r_peaks(-ecg, 250), truth, atol=3)
    assert len(detect_r_peaks(np.zeros(5000), 250)) == 0
    assert len(detect_r_peaks(np.ones(10), 250)) == 0


@pytest.mark.parametrize("fs, fmt", [(250, "16"), (360, "212"), (1000, "16"), (125, "212")])
def test_single_record_beats_and_metadata(tmp_path, fs, fmt):
    truth = write_record(tmp_path, "rec", fs, fmt=fmt)
    X, meta = load_wfdb_heartbeats(tmp_path / "rec")
    assert list(meta.columns) == META_COLUMNS
    # Every beat whose 0.25 s + 1.25 s window fits in the 20 s record.
    inside = truth[(truth - 0.25 * fs >= 0) & (truth + 1.25 * fs <= 20 * fs)]
    assert len(X) == len(meta) == len(inside)
    assert X.shape[1] == 187  # 1.5 s at 125 Hz
    assert np.max(np.abs(meta["r_peak"].to_numpy() - inside)) <= max(1, round(0.004 * fs))
    assert (meta["fs"] == fs).all() and (meta["lead"] == "ii").all()
    assert meta["heart_rate"].median() == pytest.approx(72, rel=0.05)
    assert meta["rr"].to_numpy() == pytest.approx(60 / meta["heart_rate"].to_numpy())
    # R sits at sample 31 (0.25 s at 125 Hz) of every beat.
    assert (np.abs(np.argmax(X[:, :60], axis=1) - 31) <= 1).all()


def test_a_records_own_file_names_the_record(tmp_path):
    write_record(tmp_path, "rec", 250)
    X, meta = load_wfdb_heartbeats(tmp_path / "rec")
    for name in ("rec.hea", "rec.dat"):
        X_file, meta_file = load_wfdb_heartbeats(tmp_path / name)
        np.testing.assert_array_equal(X_file, X)
        assert meta_file["record"].iloc[0] == "rec"  # its name, not its path
    with pytest.raises(FileNotFoundError, match=r"other\.hea not found"):
        load_wfdb_heartbeats(tmp_path / "other.hea")


def test_output_rate_and_window(tmp_path):
    write_record(tmp_path, "rec", 500)
    X, _ = load_wfdb_heartbeats(tmp_path / "rec", fs=250, window=(0.2, 0.4))
    assert X.shape[1] == 150


def test_lead_selection(tmp_path):
    write_record(tmp_path, "mit", 360, fmt="212", leads=("MLII", "V5"))
    _, meta = load_wfdb_heartbeats(tmp_path / "mit")
    assert (meta["lead"] == "MLII").all()
    X_v5, meta_v5 = load_wfdb_heartbeats(tmp_path / "mit", lead="v5")
    X_1, _ = load_wfdb_heartbeats(tmp_path / "mit", lead=1)
    assert (meta_v5["lead"] == "V5").all()
    np.testing.assert_array_equal(X_v5, X_1)
    with pytest.raises(ValueError, match=r"no lead named 'avf'; available leads: \['MLII', 'V5'\]"):
        load_wfdb_heartbeats(tmp_path / "mit", lead="avf")
    with pytest.raises(ValueError, match="lead index 5 out of range"):
        load_wfdb_heartbeats(tmp_path / "mit", lead=5)
    write_record(tmp_path, "chest", 250, leads=("V1", "V2"))
    with pytest.raises(ValueError, match="no lead II among its leads"):
        load_wfdb_heartbeats(tmp_path / "chest")


@pytest.fixture
def ptb_root(tmp_path):
    """A PTB-style database: RECORDS, patient folders, diagnosis comments."""
    layout = {
        "patient001/s0010_re": "Myocardial infarction",
        "patient002/s0020_re": "Healthy control",
        "patient003/s0030_re": "Cardiomyopathy",
    }
    for i, (name, reason) in enumerate(layout.items()):
        folder = tmp_path / name.split("/")[0]
        folder.mkdir()
        write_record(folder, name.split("/")[1], 1000, leads=("i", "ii", "v1"), seed=i, heart_rate=60 + 10 * i,
                     comments=["age: 60", "sex: male", f"Reason for admission: {reason}"])
    (tmp_path / "RECORDS").write_text("\n".join(layout) + "\n")
    return tmp_path


def test_ptb_database_root(ptb_root):
    X, meta = load_wfdb_heartbeats(ptb_root)
    assert list(meta["patient"].unique()) == ["patient001", "patient002", "patient003"]
    by_patient = meta.groupby("patient").first()
    assert by_patient["diagnosis"].tolist() == ["Myocardial infarction", "Healthy control", "Cardiomyopathy"]
    assert by_patient["label"].iloc[:2].tolist() == [1.0, 0.0] and pd.isna(by_patient["label"].iloc[2])
    assert meta["label"].dtype == float
    assert by_patient["heart_rate"].round(-1).tolist() == [60, 70, 80]
    assert len(X) == len(meta)
    X_parallel, meta_parallel = load_wfdb_heartbeats(ptb_root, n_jobs=2)
    np.testing.assert_array_equal(X_parallel, X)
    assert meta_parallel.equals(meta)


def test_folder_without_records_file(ptb_root):
    (ptb_root / "RECORDS").unlink()
    _, meta = load_wfdb_heartbeats(ptb_root)
    assert meta["patient"].nunique() == 3


def test_annotations_instead_of_detection(tmp_path):
    truth = write_record(tmp_path, "ann", 360, leads=("MLII",))
    samples = np.sort(np.append(truth, truth[3] + 50))
    symbols = ["N"] * len(samples)
    symbols[list(samples).index(truth[3] + 50)] = "+"  # a rhythm change, not a beat
    symbols[5] = "V"
    wfdb.wrann("ann", "atr", samples, symbol=symbols, write_dir=str(tmp_path))
    _, meta = load_wfdb_heartbeats(tmp_path / "ann", annotations=True)
    beats = samples[np.isin(symbols, list(BEAT_SYMBOLS))]
    np.testing.assert_array_equal(meta["r_peak"], beats[(beats >= 0.25 * 360) & (beats + 1.25 * 360 <= 20 * 360)])
    with pytest.raises(ValueError, match=r"annotations=True but there is no .*nothing\.atr"):
        write_record(tmp_path, "nothing", 360)
        load_wfdb_heartbeats(tmp_path / "nothing", annotations=True)


def test_kachuee_layout(tmp_path):
    write_record(tmp_path, "rec", 1000, duration=30.0, heart_rate=75)
    X, meta = load_wfdb_heartbeats(tmp_path / "rec", layout="kachuee")
    assert X.shape[1] == 187 and len(X) == len(meta) >= 30
    assert X.min() >= 0 and X.max() <= 1
    # Beats start at R (the 10 s stretch's maximum region) and are 1.2 × RR long, then zeros.
    assert (X[:, 0] > 0.8).mean() > 0.9
    span = int(round(1.2 * 0.8 * 125))
    assert np.all(X[:, span + 1:] == 0)


def test_implausible_heart_rates_dropped(tmp_path):
    write_record(tmp_path, "rec", 250, heart_rate=72)
    with pytest.raises(ValueError, match=r"median 7\d bpm at fs=250 Hz, outside heart_rate_range \(100-200 bpm\)"):
        load_wfdb_heartbeats(tmp_path / "rec", heart_rate_range=(100, 200))


def test_nan_samples_are_skipped_not_propagated(tmp_path):
    ecg, truth = make_ecg(20.0, fs=250, random_state=0)
    ecg[2000:2100] = np.nan
    write_record(tmp_path, "gappy", 250, signal=ecg)
    with pytest.warns(RuntimeWarning, match=r"gappy: lead ii: dropped 0.4 s without usable ECG \(missing"):
        X, meta = load_wfdb_heartbeats(tmp_path / "gappy")
    assert np.isfinite(X).all()
    assert not ((meta["r_peak"] > 2000 - 40) & (meta["r_peak"] < 2100 + 40)).any()
    assert len(X) >= len(truth) - 5


@pytest.mark.parametrize(
    "damage, match",
    [
        (lambda d: (d / "bad.dat").unlink(), r"bad: its signal file bad.dat is missing"),
        (lambda d: open(d / "bad.dat", "r+b").truncate(1001),
         r"bad: the signal file bad.dat is truncated: its header promises 5000 frames \(5000 samples over its "
         r"signals\), the file holds 500 samples"),
        (lambda d: (d / "bad.hea").write_text("not a header\n"), r"bad: its header cannot be parsed"),
    ],
    ids=["header-without-dat", "truncated-dat", "corrupt-header"],
)
def test_damaged_records_name_the_file(tmp_path, damage, match):
    write_record(tmp_path, "bad", 250)
    damage(tmp_path)
    with pytest.raises(ValueError, match=match):
        load_wfdb_heartbeats(tmp_path / "bad")


def test_short_flat_and_missing_records(tmp_path):
    write_record(tmp_path, "short", 250, duration=1.0)
    with pytest.raises(ValueError, match="short: lead ii: fewer than two beats"):
        load_wfdb_heartbeats(tmp_path / "short")
    write_record(tmp_path, "flat", 250, signal=np.zeros(5000))
    with pytest.raises(ValueError, match="flat: lead ii: fewer than two beats"):
        load_wfdb_heartbeats(tmp_path / "flat")
    with pytest.raises(FileNotFoundError, match="nowhere"):
        load_wfdb_heartbeats(tmp_path / "nowhere")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match="no WFDB header"):
        load_wfdb_heartbeats(empty)


def test_errors_warn_skips_bad_records(tmp_path):
    write_record(tmp_path, "good", 250)
    write_record(tmp_path, "flat", 250, signal=np.zeros(5000))
    with pytest.raises(ValueError, match="flat"):
        load_wfdb_heartbeats(tmp_path)
    with pytest.warns(RuntimeWarning, match="skipped .*flat: lead ii: fewer than two beats"):
        X, meta = load_wfdb_heartbeats(tmp_path, errors="warn")
    assert len(X) > 0 and meta["record"].str.endswith("good").all()
    (tmp_path / "good.dat").unlink()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="none of its 2 record"):
            load_wfdb_heartbeats(tmp_path, errors="warn")


def test_flutter_is_named_and_one_record_counted_once(tmp_path):
    # 10 s of 4 Hz flutter (no baseline, no QRS) in 60 s of sinus rhythm: no beats there, and a warning that
    # says so; the record's two notices (flutter, then the noise the quality check drops) are one record's.
    from test_rpeaks import _with_flutter
    ecg, _, (a, b) = _with_flutter()
    write_record(tmp_path, "vfl", 250, signal=ecg, duration=60.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        X, meta = load_wfdb_heartbeats(tmp_path / "vfl")
    messages = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    assert len(messages) == 1 and "ventricular flutter or fibrillation" in messages[0]
    assert "records each" not in messages[0]  # one record: its own words, not "2 of 1 records"
    assert not ((meta["r_peak"] > a + 250) & (meta["r_peak"] < b - 250)).any()
    assert len(X) >= 50


@pytest.mark.parametrize("kwargs, match", [({"layout": "grid"}, "layout"), ({"errors": "ignore"}, "errors"),
                                           ({"fs": 0}, "fs"), ({"window": (0.2, 0)}, "window")])
def test_invalid_arguments(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        load_wfdb_heartbeats(tmp_path, **kwargs)


# ----------------------------------------------------------------- real records
@needs_wfdb("s0010_re.hea", "s0010_re.dat")
def test_real_ptb_record_s0010_re():
    X, meta = load_wfdb_heartbeats(SHARED_WFDB / "s0010_re", lead="ii")
    assert 50 <= len(X) <= 53
    assert (meta["diagnosis"] == "Myocardial infarction").all() and (meta["label"] == 1).all()
    assert meta["heart_rate"].between(60, 100).all()


@needs_wfdb("100.hea", "100.dat", "100.atr")
def test_real_mitbih_record_100_matches_annotations():
    record = wfdb.rdrecord(str(SHARED_WFDB / "100"))
    annotation = wfdb.rdann(str(SHARED_WFDB / "100"), "atr")
    reference = annotation.sample[np.isin(annotation.symbol, list(BEAT_SYMBOLS))]
    found = detect_r_peaks(record.p_signal[:, record.sig_name.index("MLII")], record.fs)
    tolerance = int(0.150 * record.fs)
    true_positive = sum(np.min(np.abs(found - r)) <= tolerance for r in reference)
    false_positive = sum(np.min(np.abs(reference - f)) > tolerance for f in found)
    assert true_positive / len(reference) >= 0.995
    assert (len(found) - false_positive) / len(found) >= 0.995
    X, meta = load_wfdb_heartbeats(SHARED_WFDB / "100")
    assert len(X) >= 0.99 * len(reference) and (meta["lead"] == "MLII").all()


def test_a_folder_loads_silently_unless_verbose(tmp_path, capsys, monkeypatch):
    from skbvae import _progress

    for k in range(3):
        write_record(tmp_path, f"rec{k}", 250, seed=k)
    load_wfdb_heartbeats(tmp_path)
    assert capsys.readouterr().err == ""
    monkeypatch.setattr(_progress, "LOG_INTERVAL_S", 0.0)  # a line after every record, not every 10 s
    X, meta = load_wfdb_heartbeats(tmp_path, verbose=1)
    said = capsys.readouterr().err.splitlines()
    assert said[:2] == [line for line in said if "/3 records" in line][:2] and said[0].startswith(
        "load_wfdb_heartbeats: 1/3 records (33%)"), said
    assert said[-1].startswith("load_wfdb_heartbeats: 3 records in"), said
    assert meta["record"].nunique() == 3
