"""Reading WFDB records the way real databases lay them out, with errors that name the record.

- **Multi-frequency records** (``16x200``, ``516x4``) are read without wfdb's
  frame smoothing, which would average an ECG sampled 200 times per 1 s
  frame down to one value a second: each lead comes at its own rate,
  ``fs × samples per frame``.
- **Multi-segment records** are read once, through their master header,
  segment by segment (each at its own rates; gaps ``~`` and signals a
  variable layout's segment lacks become NaN);
  in a folder, the segment and layout headers a master header names are not
  records of their own.
- **Everything wfdb reads** (``.dat`` formats, ``.mat``, FLAC) goes through
  ``wfdb.rdrecord``; what wfdb accepts silently but is wrong is checked first:
  a sampling-rate field that is not a number (wfdb would take 250 Hz), a rate
  no ECG has, a signal file shorter than its header says.
- **Base times and dates wfdb refuses** (the PhysioNet/CinC Challenge 2017
  writes ``A00001 1 300 9000 2014-05-08 05:05:15``, ISO date before time;
  other datasets a year alone, or dashes) are left out: wfdb 4.3 cannot parse
  such a header at all (wfdb-python issues #128, #415), yet the date and time
  play no part in cutting beats. The record is read through a corrected copy
  of its header, and the record says what was ignored
  (``record.header_notice``), which the loader turns into one warning.

Every failure is a :class:`~skbvae.exceptions.RecordError` whose message
starts with the record's path and says what is wrong in plain words.
"""

import contextlib
import datetime
import os
import re
import shutil
import tempfile
from pathlib import Path
from types import SimpleNamespace

import warnings

import numpy as np


@contextlib.contextmanager
def _quiet_wfdb():
    """Silence what wfdb 4.3 makes pandas 3 say (``Pandas4Warning``: ``inplace=True`` is deprecated).

    It comes from wfdb's own calls to pandas, at import and in every
    ``rdheader``/``rdann``, and is nothing a user of skbvae can act on.
    Shown only under ``-W default``: Python hides a ``DeprecationWarning``
    raised outside ``__main__``.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"wfdb(\.|$)")
        yield


with _quiet_wfdb():
    import wfdb

from ..exceptions import RecordError
from ..ecg._rpeaks import FS_RANGE

#: Names of lead II across databases, tried in order when ``lead=None``.
LEAD_II_NAMES = ("ii", "mlii", "ecg lead ii", "lead ii", "ecg ii", "ecg")
#: WFDB annotation symbols that mark a beat (PhysioNet's beat annotation codes).
BEAT_SYMBOLS = frozenset("NLRBAaJSVrFejnE/fQ?")
# Signals that are not an ECG, by name (pulse oximetry, pressures, respiration,
# uterine contraction, brain and muscle activity, gases, temperature) ...
_NOT_ECG_NAME = re.compile(
    r"^(pleth|ppg|pulse|spo2|sao2|abp|art|ap|bp|nbp|pap|cvp|icp|lap|rap|uap|resp|rsp|resp\w*|uc|toco|"
    r"eeg\w*|emg\w*|eog\w*|co2|etco2|temp\w*|flow|press\w*)$", re.I)
# ... and by units (physical units no ECG is recorded in).
_NOT_ECG_UNITS = {"mmhg", "cmh2o", "kpa", "%", "bpm", "ohm", "nu", "degc", "c", "l/min", "ml", "mmol/l"}
# Bits per sample of the WFDB formats whose file size follows from the header.
_BITS = {"8": 8, "16": 16, "24": 24, "32": 32, "61": 16, "80": 8, "160": 16, "212": 12, "310": 32 / 3, "311": 32 / 3}


# Files of a record that a user may name instead of the record itself.
_RECORD_FILE_SUFFIXES = {".hea", ".dat", ".mat", ".xyz", ".atr"}


def record_paths(path):
    """Record paths (without extension) named by a record, a folder or a database root.

    A record's own file (``rec.hea``, ``rec.dat``, ``rec.mat``, ...) names the
    record. In a folder without a ``RECORDS`` file, the segments (and layout
    header) of a multi-segment record are loaded through their master header
    only.
    """
    path = Path(path)
    if path.with_name(path.name + ".hea").is_file():
        return [path]
    if path.suffix.lower() in _RECORD_FILE_SUFFIXES and path.with_suffix(".hea").is_file():
        return [path.with_suffix("")]
    if path.is_dir():
        listing = path / "RECORDS"
        if listing.is_file():
            names = [line.strip() for line in listing.read_text().splitlines() if line.strip()]
            return [path / name for name in names]
        headers = sorted(p.with_suffix("") for p in path.rglob("*.hea"))
        if headers:
            segments = set()
            for header in headers:
                segments.update(header.parent / name for name in _segment_names(header))
            return [header for header in headers if header not in segments]
        raise FileNotFoundError(f"{path}: no WFDB header (.hea) files and no RECORDS file in this folder.")
    if path.suffix.lower() in _RECORD_FILE_SUFFIXES:
        raise FileNotFoundError(f"{path}: no such WFDB record ({path.with_suffix('.hea')} not found).")
    if path.is_file():
        hint = {".csv": " A CSV of beats in the Kaggle layout reads with load_ptbdb_csv; minute prices with "
                        "load_price_windows."}.get(path.suffix.lower(), "")
        raise RecordError(f"{path}: this file is not a WFDB record, which is a header ({path.stem}.hea) with its "
                          f"signal files (.dat or .mat), and no header {path.stem}.hea lies beside it.{hint}",
                          record=path)
    raise FileNotFoundError(f"{path}: no such WFDB record ({path}.hea) or folder.")


def _header_lines(header_path):
    """The non-comment lines of a header, split into fields (the record line first)."""
    return [line.split() for line in Path(header_path).read_text(errors="replace").splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def _record_line(header_path):
    lines = _header_lines(header_path)
    return lines[0] if lines else []


def _segment_names(record_path):
    """Segment and layout names listed by a multi-segment master header (none for a single-segment one)."""
    try:
        lines = _header_lines(record_path.with_name(record_path.name + ".hea"))
        if not lines or "/" not in lines[0][0]:
            return []
        n_segments = int(lines[0][0].split("/")[1])
    except (OSError, ValueError):
        return []
    return [fields[0] for fields in lines[1:1 + n_segments] if fields[0] != "~"]


def _number(text):
    try:
        return float(text)
    except ValueError:
        return float("nan")


def _check_sampling_rate(record_path):
    """Refuse a header whose sampling-rate field wfdb would silently replace by 250 Hz."""
    header = record_path.with_name(record_path.name + ".hea")
    try:
        fields = _record_line(header)
    except OSError as exc:
        raise RecordError(f"{record_path}: the header {header} cannot be read ({exc}).", record=record_path) from exc
    if len(fields) < 2 or not fields[1].isdigit():
        raise RecordError(f"{record_path}: its header cannot be parsed: the record line {' '.join(fields)!r} does "
                          "not start with the record name and its number of signals.", record=record_path)
    if len(fields) < 3:
        return  # no rate given: WFDB's documented default of 250 Hz applies
    token = fields[2]
    # fs[/counter_frequency[(base_counter)]]
    match = re.fullmatch(r"([0-9.eE+-]+)(/[0-9.eE+-]+(\([0-9.eE+-]+\))?)?", token)
    if match is None or not np.isfinite(_number(match.group(1))):
        raise RecordError(
            f"{record_path}: the sampling-rate field of its header is {token!r}, not a number in Hz "
            f"(the record line is {' '.join(fields)!r}).", record=record_path)


def _check_signal_files(record_path, header):
    """Compare each signal file's size with what the header promises (sample counts in the message)."""
    if getattr(header, "file_name", None) is None or not header.sig_len:
        return
    files = {}
    for name, fmt, frame, offset in zip(header.file_name, header.fmt, header.samps_per_frame,
                                        header.byte_offset or [None] * header.n_sig):
        info = files.setdefault(name, {"fmts": set(), "frame": 0, "offset": offset or 0})
        info["fmts"].add(fmt)
        info["frame"] += frame
    for name, info in files.items():
        file = record_path.parent / name
        if not file.is_file():
            raise RecordError(f"{record_path}: its signal file {name} is missing.", record=record_path)
        if len(info["fmts"]) != 1 or next(iter(info["fmts"])) not in _BITS:
            continue  # compressed or mixed formats: wfdb's own check decides
        bits = _BITS[next(iter(info["fmts"]))]
        expected = header.sig_len * info["frame"]
        found = int((file.stat().st_size - info["offset"]) * 8 // bits)
        if found < expected:
            raise RecordError(
                f"{record_path}: the signal file {name} is truncated: its header promises {header.sig_len} "
                f"frames ({expected} samples over its signals), the file holds {found} samples.", record=record_path)


def _is_wfdb_time(text):
    """Whether wfdb reads ``text`` as a base time: SS, MM:SS or HH:MM:SS, with optional fractions."""
    formats = {0: "%S", 1: "%M:%S", 2: "%H:%M:%S"}
    fmt = formats.get(text.count(":"))
    if fmt is None or not re.fullmatch(r"[0-9:]+(\.[0-9]{1,6})?", text):
        return False
    try:
        datetime.datetime.strptime(text, fmt + (".%f" if "." in text else ""))
    except ValueError:
        return False
    return True


def _is_wfdb_date(text):
    """Whether wfdb reads ``text`` as a base date: DD/MM/YYYY."""
    try:
        datetime.datetime.strptime(text, "%d/%m/%Y")
    except ValueError:
        return False
    return bool(re.fullmatch(r"[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}", text))


def unreadable_base_time(fields):
    """How many leading fields of a record line wfdb can read, and a description of the rest.

    The record line is ``name[/segments] signals [fs [length [time [date]]]]``.
    Returns ``(n_fields, None)`` when every field is readable, else the
    number of fields to keep (the time too, when only the date is off) and
    what the ignored ones are called, for the warning.
    """
    if len(fields) <= 4:
        return len(fields), None
    if not _is_wfdb_time(fields[4]):
        return 4, "base time and date" if len(fields) > 5 else "base time"
    if len(fields) > 5 and not _is_wfdb_date(fields[5]):
        return 5, "base date"
    if len(fields) > 6:
        return 6, "fields after the base date"
    return len(fields), None


@contextlib.contextmanager
def _readable_by_wfdb(record_path):
    """The path wfdb reads ``record_path`` through, and a notice of what of its header was left out.

    A record line whose base time or date wfdb cannot parse makes
    ``wfdb.rdheader`` fail on the whole record. Such a record is read through
    a temporary folder holding its header with that line trimmed and links
    to (or, where links are not allowed, copies of) the files it names.
    """
    header = record_path.with_name(record_path.name + ".hea")
    try:
        text = header.read_text(errors="replace")
    except OSError:  # wfdb's own error names the missing file
        yield record_path, None
        return
    lines = text.splitlines()
    index = next((i for i, line in enumerate(lines) if line.strip() and not line.lstrip().startswith("#")), None)
    fields = [] if index is None else lines[index].split()
    keep, ignored = unreadable_base_time(fields)
    if ignored is None:
        yield record_path, None
        return
    notice = (f"{record_path}: ignored the {ignored} of its header ({' '.join(fields[keep:])!r}), which wfdb "
              "cannot read (the WFDB format is 'HH:MM:SS DD/MM/YYYY'); the date and time play no part in "
              "cutting beats.")
    lines[index] = " ".join(fields[:keep])
    folder = Path(tempfile.mkdtemp(prefix="skbvae-header-"))
    try:
        (folder / header.name).write_text("\n".join(lines) + "\n")
        # The files the other lines name: signal files, or segment headers.
        for line in lines[index + 1:]:
            name = line.split()[0] if line.strip() and not line.lstrip().startswith("#") else None
            source = record_path.parent / name if name else None
            for path in (source, None if source is None else source.with_name(source.name + ".hea")):
                if path is not None and path.is_file() and not (folder / path.name).exists():
                    try:
                        os.symlink(path.resolve(), folder / path.name)
                    except OSError:  # no symbolic links here (Windows without the privilege)
                        shutil.copyfile(path, folder / path.name)
        yield folder / record_path.name, notice
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def read_record(record_path):
    """The record, each signal at its own rate (a list of 1-D arrays) and each signal's rate in Hz.

    The record carries ``header_notice``: None, or what of its header was left
    out because wfdb cannot read it (see the module docstring).
    """
    record_path = Path(record_path)
    _check_sampling_rate(record_path)
    with _readable_by_wfdb(record_path) as (readable, notice):
        try:
            with _quiet_wfdb():
                header = wfdb.rdheader(str(readable))
        except FileNotFoundError as exc:
            raise RecordError(f"{record_path}: missing file ({exc.filename or exc}).", record=record_path) from exc
        except Exception as exc:  # wfdb raises many types for a malformed header
            raise RecordError(f"{record_path}: its header cannot be parsed ({exc}).", record=record_path) from exc
        if isinstance(header, wfdb.MultiRecord):
            record, signals, rates, segment_notices = _read_segments(record_path, header)
            record.header_notice = _one_notice([notice, *segment_notices])
            return record, signals, rates
        _check_signal_files(record_path, header)
        try:
            with _quiet_wfdb():
                record = wfdb.rdrecord(str(readable), smooth_frames=False)
        except FileNotFoundError as exc:
            raise RecordError(f"{record_path}: missing file ({exc.filename or exc}).", record=record_path) from exc
        except Exception as exc:  # wfdb raises many types for corrupt or truncated files
            raise RecordError(f"{record_path}: could not be read as a WFDB record ({exc}).",
                              record=record_path) from exc
    record.header_notice = notice
    if record.e_p_signal is None:
        return record, [np.asarray(s, dtype=float) for s in record.p_signal.T], [float(record.fs)] * record.n_sig
    frames = record.samps_per_frame or [1] * record.n_sig
    rates = [float(record.fs) * spf for spf in frames]
    signals = [np.asarray(s, dtype=float) for s in record.e_p_signal]
    return record, signals, rates


def _one_notice(notices):
    """The first of ``notices`` (None where there are none), saying how many more headers had one."""
    given = [notice for notice in notices if notice]
    if len(given) > 1:
        return f"{given[0]} (The same in {len(given) - 1} more of its segment headers.)"
    return given[0] if given else None


def _read_segments(record_path, header):
    """A multi-segment record joined signal by signal: gaps (``~``) and absent signals become NaN.

    wfdb's own join (``m2s``) cannot keep each signal's samples per frame and
    fails on gap segments, so the segments are read one by one, each at its
    own rates, and placed end to end by name. A variable layout's first
    segment (length 0, ``*_layout``) names the signals. Returns the joined
    record, its signals and rates, and each segment header's notice.
    """
    segments, layouts = [], []
    for name, length in zip(header.seg_name, header.seg_len):
        if name == "~":
            segments.append((None, int(length)))
        elif int(length) == 0:  # a variable layout's header: signal names, no samples
            with _readable_by_wfdb(record_path.parent / name) as (readable, notice):
                with _quiet_wfdb():
                    layout = wfdb.rdheader(str(readable))
            layout.header_notice = notice
            rates = [float(layout.fs) * spf for spf in (layout.samps_per_frame or [1] * layout.n_sig)]
            layouts.append((layout, None, rates))
        else:
            segments.append((read_record(record_path.parent / name), int(length)))
    known = layouts + [part for part, _ in segments if part is not None]
    if len(known) == len(layouts):
        raise RecordError(f"{record_path}: its segments hold no signal (only gaps).", record=record_path)
    names, units, spf, comments = [], [], {}, []
    for segment, _, rates in known:
        comments.extend(segment.comments or [])
        for i, name in enumerate(segment.sig_name):
            if name not in names:
                names.append(name)
                units.append(segment.units[i] if segment.units else "")
                spf[name] = int(round(rates[i] / float(header.fs)))
    joined = {name: [] for name in names}
    for part, length in segments:
        present = {}
        if part is not None:
            segment, signals, _ = part
            present = {name: signal for name, signal in zip(segment.sig_name, signals)}
        for name in names:
            # A segment that lacks the signal (or a gap) holds NaN for its length.
            block = present.get(name)
            if block is None or len(block) != length * spf[name]:
                block = np.full(length * spf[name], np.nan) if block is None else block[:length * spf[name]]
            joined[name].append(np.asarray(block, dtype=float))
    record = SimpleNamespace(record_name=header.record_name, fs=float(header.fs), n_sig=len(names),
                             sig_name=names, units=units, comments=comments or list(header.comments or []),
                             samps_per_frame=[spf[name] for name in names])
    return (record, [np.concatenate(joined[name]) for name in names], [float(header.fs) * spf[name] for name in names],
            [segment.header_notice for segment, _, _ in known])


def is_ecg(name, units):
    """False for a signal that is not an ECG by its name or its units."""
    return not (_NOT_ECG_NAME.match(name.strip()) or (units or "").strip().lower() in _NOT_ECG_UNITS)


def lead_index(record, record_path, lead, *, allow_non_ecg=False):
    """Index of ``lead`` (name, index or None for lead II) in the record; refuses non-ECG signals."""
    names = [name.strip().lower() for name in record.sig_name]
    if lead is None:
        index = next((names.index(name) for name in LEAD_II_NAMES if name in names), None)
        if index is None:
            raise RecordError(f"{record_path}: no lead II among its leads {record.sig_name}; pass lead=NAME or INDEX.",
                              record=record_path)
    elif isinstance(lead, (int, np.integer)):
        if not 0 <= lead < len(names):
            raise RecordError(f"{record_path}: lead index {lead} out of range; leads are {record.sig_name}.",
                              record=record_path)
        index = int(lead)
    elif str(lead).strip().lower() in names:
        index = names.index(str(lead).strip().lower())
    else:
        raise RecordError(f"{record_path}: no lead named {lead!r}; available leads: {record.sig_name}.",
                          record=record_path)
    units = record.units[index] if record.units else ""
    if not allow_non_ecg and not is_ecg(record.sig_name[index], units):
        raise RecordError(
            f"{record_path}: signal {record.sig_name[index]!r} (units {units!r}) is not an ECG lead; "
            f"its ECG leads are {[n for n, u in zip(record.sig_name, record.units or []) if is_ecg(n, u)]}. "
            "Pass allow_non_ecg=True to cut it anyway.", record=record_path)
    return index


def annotated_peaks(record_path, fs_annotation, fs_lead):
    """Beat annotations of ``record_path.atr``: sample indices at the lead's rate, and their symbols.

    Only beat annotations (:data:`BEAT_SYMBOLS`) count; rhythm changes, noise
    and comments do not.
    """
    try:
        with _quiet_wfdb():
            annotation = wfdb.rdann(str(record_path), "atr")
    except FileNotFoundError as exc:
        raise RecordError(f"{record_path}: annotations=True but there is no {record_path}.atr file.",
                          record=record_path) from exc
    symbols = np.asarray(annotation.symbol)
    beat = np.isin(symbols, list(BEAT_SYMBOLS))
    samples = np.asarray(annotation.sample)[beat]
    return np.round(samples * fs_lead / fs_annotation).astype(int), symbols[beat]


def check_lead_rate(record_path, name, rate):
    if not FS_RANGE[0] <= rate <= FS_RANGE[1]:
        raise RecordError(
            f"{record_path}: lead {name} is sampled at {rate:g} Hz, which no ECG is "
            f"(supported: {FS_RANGE[0]:g}-{FS_RANGE[1]:g} Hz); check the header's sampling rate.", record=record_path)
