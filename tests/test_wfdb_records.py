"""Messy WFDB records: signal quality, non-ECG leads, every layout, and errors that name the record."""

import pickle
import warnings

import numpy as np
import pytest
import wfdb
from wfdb.io.convert.matlab import wfdb_to_mat

from conftest import SHARED_WFDB, needs_wfdb
from skbvae import RecordError
from skbvae.datasets import load_wfdb_heartbeats, make_ecg
from skbvae.datasets._artefacts import readable_mask


def write(folder, name, signal, fs=250, *, units=("mV",), names=("II",), gain=1000.0, fmt="16"):
    signal = np.asarray(signal, dtype=float).reshape(len(signal), -1)
    wfdb.wrsamp(name, fs=fs, units=list(units), sig_name=list(names), p_signal=signal, fmt=[fmt] * len(names),
                adc_gain=[gain] * len(names), baseline=[0] * len(names), write_dir=str(folder))
    return folder / name


def quiet_load(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_wfdb_heartbeats(*args, **kwargs)


# ------------------------------------------------------------------ signal quality
def test_quality_column_is_high_on_a_clean_record(tmp_path):
    ecg, _ = make_ecg(30.0, fs=250, random_state=0)
    _, meta = load_wfdb_heartbeats(write(tmp_path, "clean", ecg))
    assert meta["quality"].min() > 0.9


@pytest.mark.parametrize("seed", [0, 1])
def test_white_noise_gives_no_beats_but_an_error(tmp_path, seed):
    noise = np.random.default_rng(seed).standard_normal(60 * 250)
    with pytest.raises(RecordError, match="noise: lead II holds no usable ECG: .* look like noise"):
        load_wfdb_heartbeats(write(tmp_path, "noise", noise))


def test_noise_at_quantisation_level_gives_no_beats(tmp_path):
    tiny = 1e-3 * np.random.default_rng(0).standard_normal(30 * 250)  # 1 µV: under the 0.05 mV floor
    with pytest.raises(RecordError, match=r"fewer than two beats found: no ECG in it .*under 0.05 mV"):
        load_wfdb_heartbeats(write(tmp_path, "tiny", tiny, gain=1e5))


def test_errors_warn_skips_a_lead_without_ecg(tmp_path):
    ecg, _ = make_ecg(30.0, fs=250, random_state=0)
    write(tmp_path, "good", ecg)
    write(tmp_path, "noise", np.random.default_rng(0).standard_normal(30 * 250))
    with pytest.warns(RuntimeWarning, match=r"skipped .*noise: lead II holds no usable ECG"):
        _, meta = load_wfdb_heartbeats(tmp_path, errors="warn")
    assert meta["record"].str.endswith("good").all()


@pytest.mark.parametrize("kind, reason", [("noise_bursts", "noise"), ("dropouts", "flat")])
def test_unusable_stretches_are_dropped_with_a_warning_naming_the_seconds(tmp_path, kind, reason):
    ecg, r_peaks, events = make_ecg(120.0, fs=250, random_state=0, return_events=True, **{kind: 3})
    path = write(tmp_path, "messy", ecg)
    with pytest.warns(RuntimeWarning, match=rf"messy: lead II: dropped [0-9.]+ s without usable ECG \(.*{reason}"):
        _, meta = load_wfdb_heartbeats(path)
    found_peaks = meta["r_peak"].to_numpy()
    # Beats kept are real R peaks (a few in a burst may be: the ECG goes on under the noise).
    assert np.mean(np.abs(found_peaks[:, None] - r_peaks[None, :]).min(axis=1) <= 5) >= 0.99
    for row in events.itertuples():
        inside = found_peaks[(found_peaks > row.start) & (found_peaks < row.stop)]
        assert kind == "noise_bursts" or len(inside) == 0
    outside = np.ones(len(ecg), dtype=bool)
    for row in events.itertuples():
        outside[max(0, row.start - 125):row.stop + 125] = False
    kept = r_peaks[(r_peaks > 125) & (r_peaks < len(ecg) - 400)]
    kept = kept[outside[kept]]
    found = np.abs(kept[:, None] - meta["r_peak"].to_numpy()[None, :]).min(axis=1) <= 37
    assert found.mean() >= 0.995


def test_rr_across_a_dropout_is_not_a_slow_heart_rate(tmp_path):
    ecg, r_peaks, events = make_ecg(60.0, fs=250, heart_rate=72, random_state=0, return_events=True, dropouts=4)
    _, meta = quiet_load(write(tmp_path, "rec", ecg))
    assert meta["heart_rate"].between(60, 85).all()
    before = [r_peaks[r_peaks < row.start - 60].max() for row in events.itertuples() if row.start > 500]
    for peak in before:  # the last beat before each dropout is kept
        assert np.abs(meta["r_peak"].to_numpy() - peak).min() <= 2


def test_a_lone_ectopic_beat_is_kept_but_noise_is_not(tmp_path):
    ecg, r_peaks = make_ecg(60.0, fs=250, random_state=0)
    pvc = r_peaks[30]
    ecg[pvc - 25:pvc + 75] *= -1.5  # a beat unlike the others (correlation ~ -1), amid clean ones
    _, meta = load_wfdb_heartbeats(write(tmp_path, "rec", ecg))
    row = meta[np.abs(meta["r_peak"] - pvc) <= 5]
    assert len(row) == 1 and row["quality"].iloc[0] < 0.5


def test_saturation_is_dropped(tmp_path):
    ecg, _ = make_ecg(60.0, fs=250, random_state=0)
    ecg[5000:6000] = 3.0  # the amplifier held at its rail for 4 s
    ecg = np.minimum(ecg, 3.0)
    path = write(tmp_path, "rail", ecg)  # outside pytest.warns, which shows wfdb's own warnings again
    with pytest.warns(RuntimeWarning, match=r"saturated|flat"):
        _, meta = load_wfdb_heartbeats(path)
    assert not ((meta["r_peak"] > 5000) & (meta["r_peak"] < 6000)).any()


def test_min_quality_and_annotations_keep_beats(tmp_path):
    ecg, _, events = make_ecg(60.0, fs=250, random_state=0, return_events=True, noise_bursts=3)
    path = write(tmp_path, "messy", ecg)
    _, default = quiet_load(path)
    _, everything = quiet_load(path, min_quality=-1.0)
    assert len(everything) > len(default)
    with pytest.raises(ValueError, match="min_quality must be a correlation"):
        load_wfdb_heartbeats(path, min_quality=2)


# ------------------------------------------------------------------ rhythms: clean beats of other shapes
def _kept(meta, r_peaks, fs, tolerance_s=0.15):
    """For each true beat, whether the loader kept a beat within the tolerance; and +P of the kept beats."""
    found = meta["r_peak"].to_numpy()
    distance = np.abs(r_peaks[:, None] - found[None, :])
    return distance.min(axis=1) <= tolerance_s * fs, np.mean(distance.min(axis=0) <= tolerance_s * fs)


def _cut_beats(r_peaks, n, fs):
    """Beats whose default window (0.25 s before R, 1.25 s after) fits in the record."""
    return (r_peaks >= 0.25 * fs) & (r_peaks + 1.25 * fs < n)


@pytest.mark.parametrize("rhythm", ["bigeminy", "trigeminy", "ventricular_runs", "escape", "bundle_branch_episode"])
@pytest.mark.parametrize("fs", [250, 500])
def test_clean_beats_of_other_shapes_are_kept_and_shown_as_shapes(tmp_path, rhythm, fs):
    ecg, r_peaks, kinds = make_ecg(120.0, fs=fs, rhythm=rhythm, random_state=1, return_kinds=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # nothing is dropped, so nothing is said
        _, meta = load_wfdb_heartbeats(write(tmp_path, rhythm, ecg, fs=fs))
    cut = _cut_beats(r_peaks, len(ecg), fs)
    kept, positive = _kept(meta, r_peaks[cut], fs)
    assert kept.mean() >= 0.99 and positive >= 0.995
    for kind in set(kinds) - {"N"}:  # every kind is kept, not only most beats
        assert kept[kinds[cut] == kind].mean() >= 0.99, kind
    # The shape column separates the ventricular kinds: normal beats are shape 0, V and E beats
    # another shape. Bundle branch block beats resemble the median beat enough (0.5-0.85) to pass
    # with it, and no shape is learned from beats that pass: they stay shape 0.
    nearest = np.abs(meta["r_peak"].to_numpy()[:, None] - r_peaks[None, :]).argmin(axis=1)
    kind_of_row = kinds[nearest]
    assert (meta["shape"][kind_of_row == "N"] == 0).mean() >= 0.95
    ventricular = np.isin(kind_of_row, ["V", "E"])
    assert rhythm == "bundle_branch_episode" or (meta["shape"][ventricular] > 0).mean() >= 0.95


def test_noise_bursts_inside_a_run_of_wide_beats_are_dropped_as_noise(tmp_path):
    ecg, r_peaks, events, kinds = make_ecg(240.0, fs=250, rhythm="ventricular_runs", noise_bursts=3,
                                           random_state=0, return_events=True, return_kinds=True)
    path = write(tmp_path, "runs", ecg)
    with pytest.warns(RuntimeWarning, match=r"dropped [0-9.]+ s without usable ECG \(noise"):
        _, meta = load_wfdb_heartbeats(path)
    readable = readable_mask(len(ecg), events, int(0.2 * 250)) & _cut_beats(np.arange(len(ecg)), len(ecg), 250)
    kept, positive = _kept(meta, r_peaks[readable[r_peaks]], 250)
    assert kept.mean() >= 0.99
    assert kept[kinds[readable[r_peaks]] == "V"].mean() >= 0.99
    # Kept beats are real R peaks; the bursts' "beats" are gone (a few real ones under the noise may stay).
    _, positive_all = _kept(meta, r_peaks, 250)
    assert positive_all >= 0.99
    in_bursts = sum(((meta["r_peak"] > row.start) & (meta["r_peak"] < row.stop)).sum() for row in events.itertuples())
    beats_in_bursts = sum(((r_peaks > row.start) & (r_peaks < row.stop)).sum() for row in events.itertuples())
    assert in_bursts < 0.5 * beats_in_bursts


def test_a_burst_of_noise_does_not_become_a_beat_shape(tmp_path):
    ecg, r_peaks, events = make_ecg(240.0, fs=250, noise_bursts=6, random_state=2, return_events=True)
    _, meta = quiet_load(write(tmp_path, "bursts", ecg))
    assert set(meta["shape"]) <= {0, -1}


# ------------------------------------------------------------------ non-ECG leads
@pytest.mark.parametrize("name, units", [("PLETH", "NU"), ("ABP", "mmHg"), ("Resp", "Ohm"), ("signal", "mmHg")])
def test_signals_that_are_not_ecg_are_refused_unless_asked(tmp_path, name, units):
    ecg, _ = make_ecg(30.0, fs=250, random_state=0)
    path = write(tmp_path, "icu", np.column_stack([ecg, ecg]), units=("mV", units), names=("II", name))
    with pytest.raises(RecordError, match=rf"signal '{name}' \(units '{units}'\) is not an ECG lead; "
                                          r"its ECG leads are \['II'\]. Pass allow_non_ecg=True"):
        load_wfdb_heartbeats(path, lead=name)
    X, meta = load_wfdb_heartbeats(path, lead=name, allow_non_ecg=True)
    assert len(X) > 0 and (meta["lead"] == name).all()


# ------------------------------------------------------------------ layouts
def test_multi_frequency_record_is_read_at_the_ecg_rate(tmp_path):
    # Like test_generator_2: 1 frame per second, the ECG 250 samples per frame, a slow signal 1.
    ecg, r_peaks = make_ecg(60.0, fs=250, heart_rate=60, rr_jitter=0, random_state=0)
    slow = np.linspace(0, 1, 60)
    wfdb.wrsamp("multi", fs=1, units=["mV", "NU"], sig_name=["ECG", "slow"], e_p_signal=[ecg, slow],
                samps_per_frame=[250, 1], fmt=["16", "16"], adc_gain=[1000.0, 1000.0], baseline=[0, 0],
                write_dir=str(tmp_path))
    X, meta = quiet_load(tmp_path / "multi", lead="ECG")
    assert (meta["fs"] == 250).all() and 56 <= len(X) <= 60
    assert np.abs(meta["r_peak"].to_numpy()[:, None] - r_peaks[None, :]).min(axis=1).max() <= 2
    assert meta["heart_rate"].median() == pytest.approx(60, abs=1)


def test_multi_segment_record_is_loaded_once_through_its_master_header(tmp_path):
    parts = []
    for k in range(3):
        ecg, _ = make_ecg(20.0, fs=250, random_state=k)
        write(tmp_path, f"seg_{k + 1}", ecg)
        parts.append(ecg)
    (tmp_path / "master.hea").write_text("master/3 1 250 15000\nseg_1 5000\nseg_2 5000\nseg_3 5000\n")
    X, meta = quiet_load(tmp_path)  # the folder: master, segments and all
    single, _ = quiet_load(tmp_path / "master")
    assert set(meta["record"].str.rsplit("/", n=1).str[-1]) == {"master"}
    assert len(X) == len(single)
    # about 3 x 20 s of beats at 72 bpm, each once
    assert 60 <= len(X) <= 75
    assert meta["r_peak"].max() > 10000 and meta["r_peak"].is_unique


def test_multi_segment_gaps_and_variable_layout_become_nan(tmp_path):
    # A variable layout: a layout header naming II and V, a segment with II only, a gap, one with both.
    ecg, r_peaks = make_ecg(50.0, fs=250, heart_rate=60, rr_jitter=0, random_state=0)
    write(tmp_path, "rec_1", ecg[:5000])
    write(tmp_path, "rec_2", np.column_stack([ecg[7500:], ecg[7500:]]), names=("II", "V"), units=("mV", "mV"))
    write(tmp_path, "rec_layout", np.zeros((1, 2)), names=("II", "V"), units=("mV", "mV"))
    layout = (tmp_path / "rec_layout.hea").read_text().splitlines()
    (tmp_path / "rec_layout.hea").write_text("\n".join(["rec_layout 2 250 0"] + layout[1:]) + "\n")
    (tmp_path / "rec.hea").write_text("rec/4 2 250 12500\nrec_layout 0\nrec_1 5000\n~ 2500\nrec_2 5000\n")
    from skbvae.datasets._records import read_record

    record, signals, rates = read_record(tmp_path / "rec")
    assert record.sig_name == ["II", "V"] and rates == [250.0, 250.0]
    ii, v = signals
    np.testing.assert_allclose(ii[:5000], ecg[:5000], atol=1e-3)
    assert np.isnan(ii[5000:7500]).all() and np.isnan(v[:7500]).all()
    np.testing.assert_allclose(v[7500:], ecg[7500:], atol=1e-3)
    X, meta = quiet_load(tmp_path)  # the folder: one record, the master
    assert set(meta["record"].str.rsplit("/", n=1).str[-1]) == {"rec"}
    truth = r_peaks[(r_peaks < 4900) | (r_peaks > 7600)]
    found = meta["r_peak"].to_numpy()
    assert not ((found > 5000) & (found < 7500)).any()
    assert len(found) >= len(truth) - 4  # the beats at the gap's edges lose their windows


def test_mat_records_are_read(tmp_path, monkeypatch):
    ecg, _ = make_ecg(20.0, fs=250, random_state=0)
    write(tmp_path, "rec", ecg)
    monkeypatch.chdir(tmp_path)
    wfdb_to_mat("rec")  # writes recm.mat and recm.hea
    X, meta = load_wfdb_heartbeats(tmp_path / "recm")
    reference, _ = load_wfdb_heartbeats(tmp_path / "rec")
    np.testing.assert_allclose(X, reference, atol=1e-3)


# ------------------------------------------------------------------ errors that name the record
def test_sampling_rate_garbage_and_implausible(tmp_path):
    ecg, _ = make_ecg(20.0, fs=250, random_state=0)
    path = write(tmp_path, "rec", ecg)
    header = (tmp_path / "rec.hea").read_text().splitlines()
    fields = header[0].split()
    (tmp_path / "rec.hea").write_text("\n".join([" ".join(fields[:2] + ["2S0"] + fields[3:])] + header[1:]) + "\n")
    with pytest.raises(RecordError, match=r"rec: the sampling-rate field of its header is '2S0', not a number in Hz"):
        load_wfdb_heartbeats(path)
    (tmp_path / "rec.hea").write_text("\n".join([" ".join(fields[:2] + ["5"] + fields[3:])] + header[1:]) + "\n")
    with pytest.raises(RecordError, match=r"rec: lead II is sampled at 5 Hz, which no ECG is"):
        load_wfdb_heartbeats(path)


def test_scipy_failures_are_record_errors_and_warn_skips_them(tmp_path, monkeypatch):
    ecg, _ = make_ecg(20.0, fs=250, random_state=0)
    write(tmp_path, "a", ecg)
    write(tmp_path, "b", ecg)
    import skbvae.ecg._beats as loader

    original = loader._detect

    def fails_on_b(signal, fs, *args, **kwargs):
        if len(calls) == 1:
            raise np.linalg.LinAlgError("boom")
        calls.append(1)
        return original(signal, fs, *args, **kwargs)

    calls = []
    monkeypatch.setattr(loader, "_detect", fails_on_b)
    with pytest.warns(RuntimeWarning, match=r"skipped .*b: failed while cutting beats \(LinAlgError: boom\)"):
        _, meta = load_wfdb_heartbeats(tmp_path, errors="warn")
    assert meta["record"].str.endswith("a").all()


def test_missing_lead_lists_the_leads_and_record_error_is_a_value_error(tmp_path):
    ecg, _ = make_ecg(20.0, fs=250, random_state=0)
    path = write(tmp_path, "rec", ecg)
    with pytest.raises(ValueError, match=r"rec: no lead named 'v9'; available leads: \['II'\]") as info:
        load_wfdb_heartbeats(path, lead="v9")
    assert isinstance(info.value, RecordError) and info.value.record == path
    again = pickle.loads(pickle.dumps(info.value))  # crosses joblib's process boundary intact
    assert str(again) == str(info.value) and again.record == path


def test_all_nan_lead(tmp_path):
    path = write(tmp_path, "rec", np.full(5000, np.nan))
    with pytest.raises(RecordError, match="lead II holds only missing"):
        load_wfdb_heartbeats(path)


# ------------------------------------------------------------------ the shared messy records
def shared(name):
    path = SHARED_WFDB / name
    return pytest.param(path, marks=needs_wfdb(f"{name}.hea"))


@pytest.mark.parametrize("path", [shared("v102s")])
def test_tall_t_waves_v102s_give_the_true_rate(path):
    X, meta = quiet_load(path)
    assert 470 <= len(X) <= 520 and 95 <= meta["heart_rate"].median() <= 105


@pytest.mark.parametrize("path", [shared("v102s")])
def test_v102s_lead_v_peaks_sit_on_its_narrow_qrs(path):
    # Its QRS is a train of 10 ms spikes; in 5-15 Hz the P wave outweighed it and
    # peaks landed ~100 ms early, so the quality check dropped 111 s of beats.
    X, meta = quiet_load(path, lead="V")
    assert len(X) >= 470 and 95 <= meta["heart_rate"].median() <= 105


@pytest.mark.parametrize("path", [shared("multi-segment/fixed1/v102s")])
def test_multi_segment_fixed1_gives_each_beat_once(path):
    X, _ = quiet_load(path.parent)
    single, _ = quiet_load(path.parents[2] / "v102s")
    assert len(X) == pytest.approx(3 * len(single), abs=15)


@pytest.mark.parametrize("path", [shared("p10143")])
def test_p10143_fecg_has_no_ecg(path):
    with pytest.raises(RecordError, match="lead FECG holds no usable ECG"):
        load_wfdb_heartbeats(path, lead="FECG")


@pytest.mark.parametrize("path", [shared("test_generator_2")])
def test_test_generator_2_is_read_at_200_hz(path):
    X, meta = quiet_load(path)
    assert 590 <= len(X) <= 600 and (meta["fs"] == 200).all()
    assert meta["heart_rate"].median() == pytest.approx(60, abs=1)


@pytest.mark.parametrize("path", [shared("100")])
def test_mitbih_100_keeps_its_pvc_and_every_annotated_beat(path):
    annotation = wfdb.rdann(str(path), "atr")
    pvc = annotation.sample[np.asarray(annotation.symbol) == "V"]
    _, meta = quiet_load(path)
    assert np.abs(meta["r_peak"].to_numpy() - pvc[0]).min() <= 0.15 * 360
    assert len(meta) == 2270
    _, annotated = quiet_load(path, annotations=True)
    assert len(annotated) == 2270


@pytest.mark.parametrize("path", [shared("v102s")])
def test_pleth_is_refused(path):
    with pytest.raises(RecordError, match="'PLETH' .* is not an ECG lead"):
        load_wfdb_heartbeats(path, lead="PLETH")


@pytest.mark.parametrize("path", [shared("mixedsignals")])
def test_mixedsignals_ecg_at_its_own_rate(path):
    X, meta = quiet_load(path)
    assert meta["fs"].iloc[0] == pytest.approx(249.89, abs=0.01) and 370 <= len(X) <= 395


def test_records_skipped_in_a_folder_are_counted_in_one_warning(tmp_path):
    import wfdb as _wfdb

    rng = np.random.default_rng(0)
    for k in range(4):  # four records of noise, and one of ECG
        _wfdb.wrsamp(f"noise{k}", fs=250, units=["mV"], sig_name=["II"], p_signal=rng.normal(size=(2500, 1)),
                     fmt=["16"], adc_gain=[1000.0], baseline=[0], write_dir=str(tmp_path))
    ecg, _ = make_ecg(20.0, fs=250, random_state=0)
    _wfdb.wrsamp("ecg", fs=250, units=["mV"], sig_name=["II"], p_signal=ecg[:, None], fmt=["16"],
                 adc_gain=[1000.0], baseline=[0], write_dir=str(tmp_path))
    with pytest.warns(RuntimeWarning) as caught:
        X, meta = load_wfdb_heartbeats(tmp_path, errors="warn")
    said = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    assert set(meta["record"]) == {"ecg"}
    assert len(said) == 1 and said[0].startswith("4 of 5 records each gave no beat and was skipped "
                                                 "(noise0, noise1, noise2 and 1 more); the first: skipped "), said
