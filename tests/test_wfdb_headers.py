"""Records whose header wfdb refuses for its base time or date (PhysioNet/CinC Challenge 2017 and alike)."""

import warnings

import numpy as np
import pytest
import wfdb

from skbvae import RecordError
from skbvae.datasets import load_wfdb_heartbeats, make_ecg
from skbvae.datasets._records import read_record, unreadable_base_time

# What real datasets write after the record line's length, and what is ignored.
VARIANTS = {
    "iso date before time": ("2014-05-08 05:05:15", "base time and date"),  # Challenge 2017
    "year-only date": ("05:05:15 2006", "base date"),
    "date with dashes": ("05:05:15 08-05-2014", "base date"),
    "date without time": ("08/05/2014", "base time"),
    "iso date alone": ("2014-05-08", "base time"),
}


def _as_challenge_mat(path):
    """Rewrite a format-16 record as the Challenge ships its records: a MATLAB v4 ``.mat`` file
    (a 24-byte header, then the int16 matrix ``val`` column-major, i.e. frames interleaved) read
    as format 16 with a 24-byte offset (``A00001.mat 16+24 1000/mV ...``)."""
    digital = wfdb.rdrecord(str(path), physical=False).d_signal.astype("<i2")
    n_samples, n_leads = digital.shape
    header = np.array([30, n_leads, n_samples, 0, 4], dtype="<i4").tobytes() + b"val\0"  # type 30: int16
    assert len(header) == 24
    path.with_suffix(".mat").write_bytes(header + digital.tobytes())  # row-major (n, leads) = frames
    path.with_suffix(".dat").unlink()
    hea = path.with_name(path.name + ".hea")
    lines = hea.read_text().splitlines()
    lines[1:] = [line.replace(f"{path.name}.dat 16", f"{path.name}.mat 16+24") for line in lines[1:]]
    hea.write_text("\n".join(lines) + "\n")
    return path


def _record(folder, n_leads, container, fs=300, name="rec", seed=0):
    """A 30 s record (``.dat``, or the Challenge's ``.mat`` in format 16 with a 24-byte offset)."""
    ecg, _ = make_ecg(30.0, fs=fs, random_state=seed)
    signal = np.column_stack([ecg * (1.0 - 0.2 * k) for k in range(n_leads)])
    names = ["II", "V1", "V5"][:n_leads] if n_leads > 1 else ["ECG"]
    wfdb.wrsamp(name, fs=fs, units=["mV"] * n_leads, sig_name=names, p_signal=signal, fmt=["16"] * n_leads,
                adc_gain=[1000.0] * n_leads, baseline=[0] * n_leads, write_dir=str(folder))
    return _as_challenge_mat(folder / name) if container == "mat" else folder / name


def _with_record_line_tail(path, tail):
    """Rewrite the header's record line to its first four fields followed by ``tail``."""
    header = path.with_name(path.name + ".hea")
    lines = header.read_text().splitlines()
    lines[0] = " ".join(lines[0].split()[:4] + tail.split())
    header.write_text("\n".join(lines) + "\n")


def _load(path, lead=0):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        X, meta = load_wfdb_heartbeats(path, lead=lead)
    return X, meta, [str(w.message) for w in caught]


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("container", ["dat", "mat"])
@pytest.mark.parametrize("n_leads", [1, 2])
def test_a_header_wfdb_refuses_for_its_date_loads_with_one_warning(tmp_path, variant, container, n_leads):
    path = _record(tmp_path, n_leads, container)
    leads = 0 if n_leads == 1 else ["II", "V1"]
    reference, reference_meta, quiet = _load(path, lead=leads)
    assert quiet == []
    tail, ignored = VARIANTS[variant]
    _with_record_line_tail(path, tail)
    with pytest.raises(Exception):  # what the user met before: wfdb refuses the whole header
        wfdb.rdheader(str(path))
    X, meta, said = _load(path, lead=leads)
    np.testing.assert_array_equal(X, reference)
    assert meta["r_peak"].tolist() == reference_meta["r_peak"].tolist()
    assert len(said) == 1, said
    assert f"ignored the {ignored} of its header" in said[0] and path.name in said[0], said[0]
    assert "HH:MM:SS DD/MM/YYYY" in said[0]


def test_a_challenge_2017_record_loads_as_with_a_standard_header(tmp_path):
    # A00001.hea of the Challenge: "A00001 1 300 9000 2014-05-08 05:05:15", then
    # "A00001.mat 16+24 1000/mV 16 0 -127 0 0 ECG".
    path = _record(tmp_path, 1, "mat", name="A00001", seed=1)
    standard, _, quiet = _load(path)
    header = (tmp_path / "A00001.hea").read_text().splitlines()
    assert header[1].startswith("A00001.mat 16+24 ")
    header[0] = "A00001 1 300 9000 2014-05-08 05:05:15"
    (tmp_path / "A00001.hea").write_text("\n".join(header) + "\n")
    X, meta, said = _load(tmp_path / "A00001.mat")  # the .mat file names its record too
    np.testing.assert_array_equal(X, standard)
    assert quiet == [] and len(said) == 1 and "'2014-05-08 05:05:15'" in said[0]
    assert len(X) >= 30


def test_readable_times_and_dates_are_kept_and_say_nothing(tmp_path):
    path = _record(tmp_path, 1, "dat")
    _with_record_line_tail(path, "10:30:00.5 08/05/2014")
    record, _, _ = read_record(path)
    assert record.header_notice is None and str(record.base_date) == "2014-05-08"
    _, _, said = _load(path)
    assert said == []


def test_a_date_with_a_readable_time_keeps_the_time(tmp_path):
    path = _record(tmp_path, 1, "dat")
    _with_record_line_tail(path, "10:30:00 2006")
    record, _, _ = read_record(path)
    assert str(record.base_time) == "10:30:00" and record.base_date is None
    assert "base date" in record.header_notice and "'2006'" in record.header_notice


def test_other_header_faults_stay_errors_that_name_the_record(tmp_path):
    path = _record(tmp_path, 1, "dat")
    lines = (tmp_path / "rec.hea").read_text().splitlines()
    lines[0] = " ".join(lines[0].split()[:4] + ["2014-05-08", "05:05:15"])
    lines[1] = "rec.dat sixteen 1000/mV"  # a signal line wfdb cannot parse
    (tmp_path / "rec.hea").write_text("\n".join(lines) + "\n")
    with pytest.raises(RecordError, match=r"rec: its header cannot be parsed"):
        load_wfdb_heartbeats(path)


def test_a_multi_segment_record_with_such_dates_warns_once(tmp_path):
    for k in range(2):
        ecg, _ = make_ecg(20.0, fs=250, random_state=k)
        wfdb.wrsamp(f"seg_{k + 1}", fs=250, units=["mV"], sig_name=["II"], p_signal=ecg[:, None], fmt=["16"],
                    adc_gain=[1000.0], baseline=[0], write_dir=str(tmp_path))
        _with_record_line_tail(tmp_path / f"seg_{k + 1}", "2014-05-08 05:05:15")
    (tmp_path / "master.hea").write_text("master/2 1 250 10000 2014-05-08 05:05:15\nseg_1 5000\nseg_2 5000\n")
    X, meta, said = _load(tmp_path / "master")
    assert len(said) == 1 and "master: ignored the base time and date" in said[0]
    assert "2 more of its segment headers" in said[0]
    assert 40 <= len(X) <= 50


@pytest.mark.parametrize("fields, expected", [
    (["rec", "1"], (2, None)),
    (["rec", "1", "250", "1000"], (4, None)),
    (["rec", "1", "250", "1000", "10:00:00", "01/02/2003"], (6, None)),
    (["rec", "1", "250", "1000", "45"], (5, None)),  # SS alone is a WFDB time
    (["rec", "1", "250", "1000", "2014-05-08", "05:05:15"], (4, "base time and date")),
    (["rec", "1", "250", "1000", "25:61:00"], (4, "base time")),
    (["rec", "1", "250", "1000", "10:00:00", "31/02/2003"], (5, "base date")),
    (["rec", "1", "250", "1000", "10:00:00", "01/02/2003", "UTC"], (6, "fields after the base date")),
])
def test_which_record_line_fields_wfdb_can_read(fields, expected):
    assert unreadable_base_time(fields) == expected


def test_loading_says_nothing_of_wfdbs_own_pandas_deprecations(tmp_path):
    # wfdb 4.3 calls pandas with inplace=True, which pandas 3 deprecates: visible under -W default,
    # at import and in every header or annotation read, and nothing a user can act on.
    import subprocess
    import sys

    path = _record(tmp_path, 1, "dat")
    wfdb.wrann("rec", "atr", np.array([100, 400]), symbol=["N", "N"], write_dir=str(tmp_path))
    code = ("import skbvae.datasets as d; import skbvae.datasets._records as r; "
            f"r.read_record(__import__('pathlib').Path({str(path)!r})); r.annotated_peaks(__import__('pathlib').Path("
            f"{str(path)!r}), 300.0, 300.0)")
    result = subprocess.run([sys.executable, "-W", "default", "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Warning" not in result.stderr, result.stderr[-2000:]


def test_a_folder_of_such_records_gives_one_warning_that_counts_them(tmp_path):
    # 20 Challenge 2017 records once gave 20 identical warnings; the full set has 8,528.
    for k in range(6):
        _with_record_line_tail(_record(tmp_path, 1, "mat", name=f"A{k:05d}", seed=k), "2014-05-08 05:05:15")
    X, meta, caught = _load(tmp_path)
    assert meta["record"].nunique() == 6
    said = caught
    assert len(said) == 1, said
    assert said[0].startswith("6 of 6 records each had a base time or date in its header that wfdb cannot read; "
                              "it was ignored (A00000, A00001, A00002 and 3 more); the first: "), said[0]
