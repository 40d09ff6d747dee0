"""Single heartbeats from WFDB records (PTB Diagnostic ECG, MIT-BIH and alike)."""

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

from .._progress import progress
from ..exceptions import RecordError
from ..ecg._beats import beats_frame, check_cut_options, cut_leads
from ..ecg._quality import MIN_QUALITY
from ._records import (BEAT_SYMBOLS, LEAD_II_NAMES, annotated_peaks, check_lead_rate, lead_index, read_record,
                       record_paths)

__all__ = ["BEAT_SYMBOLS", "LEAD_II_NAMES", "load_wfdb_heartbeats"]

_RECORD_COLUMNS = ["record", "patient", "lead", "diagnosis", "label"]


def _read_leads(record_path, leads, allow_non_ecg):
    """The record and, for each of ``leads``: name, signal at its own rate, rate and units."""
    record, signals, rates = read_record(record_path)
    if callable(leads):  # the caller chooses from this record's own lead names
        chosen = leads(list(record.sig_name))
        leads = list(chosen) if isinstance(chosen, (list, tuple)) else [chosen]
        if not leads:
            raise RecordError(f"{record_path}: lead=... chose no lead from {list(record.sig_name)}.", record=record_path)
    indices = [lead_index(record, record_path, lead, allow_non_ecg=allow_non_ecg) for lead in leads]
    if len(set(indices)) < len(indices):
        raise RecordError(f"{record_path}: leads {list(leads)} name the same signal twice.", record=record_path)
    names = [record.sig_name[i] for i in indices]
    for i, name in zip(indices, names):
        check_lead_rate(record_path, name, rates[i])
        if np.isnan(signals[i]).all():
            raise RecordError(f"{record_path}: lead {name} holds only missing (NaN) samples.", record=record_path)
    units = [(record.units[i] if record.units else "") for i in indices]
    return record, names, [signals[i] for i in indices], [rates[i] for i in indices], units


def _diagnosis(comments):
    for line in comments:
        match = re.match(r"\s*reason for admission:\s*(.*)", line, flags=re.I)
        if match:
            return match.group(1).strip() or None
    return None


def _label(diagnosis):
    """1 for myocardial infarction, 0 for healthy control, NaN otherwise (PTB classes)."""
    if diagnosis is None:
        return np.nan
    text = diagnosis.lower()
    if "myocardial infarction" in text:
        return 1.0
    if "healthy control" in text:
        return 0.0
    return np.nan


# What each kind of notice says of the records it names, for the one warning
# that gathers them (a folder of 8,528 Challenge records once gave a warning per
# record: the same header-date warning 20 times for 20 records).
_NOTICE_KINDS = {
    "header": "had a base time or date in its header that wfdb cannot read; it was ignored",
    "dropped": "had stretches without usable ECG, which were dropped with their beats",
    "skipped": "gave no beat and was skipped",
}


def _one_warning_per_kind(notices, n_records, shown=3):
    """The warnings for ``notices`` ((kind, record name, text) triples): one per kind, however many records.

    A kind that concerns one record warns with its own text; several records
    give one warning that counts them, names the first few and quotes the first.
    """
    by_kind = {}
    for kind, name, text in notices:
        by_kind.setdefault(kind, []).append((name, text))
    for kind, items in by_kind.items():
        # Counted by record: one record may have several notices of a kind (flutter, then noise).
        names = list(dict.fromkeys(str(name) for name, _ in items))
        if len(names) == 1:
            yield " ".join(text for _, text in items)
            continue
        listed = ", ".join(names[:shown]) + (f" and {len(names) - shown} more" if len(names) > shown else "")
        yield (f"{len(names)} of {n_records} records each {_NOTICE_KINDS[kind]} ({listed}); the first: "
               f"{items[0][1]}")


def _record_beats(record_path, name, leads, fs, layout, window, annotations, heart_rate_range, min_quality,
                  allow_non_ecg, features=False, baseline="keep"):
    """Beats, metadata, notices and units of one record (``name``: how ``meta["record"]`` names it)."""
    record, lead_names, signals, rates, units = _read_leads(record_path, leads, allow_non_ecg)
    peaks = symbols = None
    if annotations:
        # R peaks come from the first lead named, at its own rate; every lead is cut at the same times.
        peaks, symbols = annotated_peaks(record_path, float(record.fs), rates[0])
        inside = (peaks >= 0) & (peaks < len(signals[0]))
        peaks, symbols = peaks[inside], symbols[inside]
    beats, meta, notices = cut_leads(signals, rates, units, lead_names, peaks=peaks, symbols=symbols, fs=fs,
                                     layout=layout, window=window, heart_rate_range=heart_rate_range,
                                     min_quality=min_quality, features=features, baseline=baseline,
                                     where=f"{record_path}: lead {lead_names[0]}", record=record_path)
    notices = [("dropped", notice) for notice in notices]
    if getattr(record, "header_notice", None):
        notices.insert(0, ("header", record.header_notice))
    diagnosis = _diagnosis(record.comments)
    patient = record_path.parent.name if record_path.parent.name.lower().startswith("patient") else record_path.name
    for position, (column, value) in enumerate(zip(_RECORD_COLUMNS, (name, patient, ",".join(lead_names), diagnosis,
                                                                      _label(diagnosis)))):
        meta.insert(position, column, value)
    meta["label"] = meta["label"].astype(float)
    return beats, meta, notices, units


def _record_names(path, records):
    """How ``meta["record"]`` names each record: its path from the folder or database root given, or its name."""
    path = Path(path)
    root = path if path.is_dir() else None
    names = []
    for record in records:
        try:
            names.append(record.relative_to(root).as_posix() if root is not None else record.name)
        except ValueError:  # a RECORDS entry outside the root
            names.append(str(record))
    return names


def load_wfdb_heartbeats(path, *, lead=None, fs=125.0, layout="window", window=(0.25, 1.25),
                         annotations=False, heart_rate_range=(30.0, 200.0), min_quality=MIN_QUALITY,
                         baseline="keep", allow_non_ecg=False, features=False, errors="raise", n_jobs=None,
                         verbose=0, as_frame=False):
    """Cut single heartbeats out of WFDB ECG records.

    For each record: read the lead at its own rate (multi-frequency records
    are not frame-averaged; a multi-segment record is read once through its
    master header), fill NaN samples, find R peaks (:func:`detect_r_peaks`,
    or the record's ``.atr`` beat annotations), drop the beats of stretches
    without usable ECG (noise, flat line, saturation, dropouts) and those with
    implausible heart rates, resample to ``fs`` and cut one row per beat.
    :func:`~skbvae.ecg.cut_heartbeats` does the same for a signal
    already in memory.

    Parameters
    ----------
    path : str or path-like
        A record without extension (``.../s0010_re``) or one of its files
        (``s0010_re.hea``, ``.dat``, ``.mat``), a folder of records, or a
        database root with a ``RECORDS`` file (the PTB layout
        ``patientNNN/sNNNN_re``).
    lead : str, int, None, list of them or callable, default=None
        Lead name (case-insensitive: ``"ii"``, ``"MLII"``, ``"V5"``...) or
        index. None takes lead II under any of its usual names
        (:data:`LEAD_II_NAMES`). A list (``["i", "ii", "v1"]``) cuts every
        lead at the same R peaks, found on the *first* lead of the list (put
        the lead with the clearest QRS first), and returns channel-major
        rows ``[lead 1 samples | lead 2 samples | ...]`` for
        ``BetaVAETransformer(n_channels=len(lead))``. A function chooses for
        each record from its lead names (a list of str) and returns what
        ``lead`` takes: ``lambda names: ["MLII", next(n for n in names if n
        != "MLII")]`` gives MIT-BIH's MLII and each record's other lead (V1,
        V2, V4 or V5). It must choose the same number of leads everywhere.
    fs : float, default=125.0
        Sampling rate of the returned beats in Hz (``layout="window"``).
    layout : {"window", "kachuee"}, default="window"
        ``"window"``: ``window`` seconds around R, in the record's units.
        ``"kachuee"``: the Kaggle PTB/MIT-BIH CSV layout of Kachuee et al.
        (2018): 125 Hz, each 10 s stretch scaled to [0, 1], beats of 1.2 × the
        stretch's median RR starting at R, zero-padded to 187 samples. Fit
        such beats with ``BetaVAETransformer(scaling="global")``: per-feature
        standardization inflates the mostly-zero padded columns.
    window : (float, float), default=(0.25, 1.25)
        Seconds before and after R (``layout="window"``); beats whose window
        leaves the record are dropped.
    annotations : bool, default=False
        Use the record's ``.atr`` beat annotations instead of detection: every
        annotated beat whose window lies in the record is kept (they are the
        reference), and ``meta`` gains each beat's annotation ``symbol`` and
        its AAMI class ``aami`` (N, S, V, F, Q;
        :data:`~skbvae.ecg.AAMI_CLASSES`), the labels of the
        inter-patient benchmark (de Chazal et al., 2004).
    heart_rate_range : (float, float), default=(30, 200)
        Detected beats whose instantaneous heart rate (bpm, from the RR
        interval to the next beat) is above the range are dropped (a double
        detection), and those below it unless the long interval is a pause:
        at most :data:`~skbvae.ecg._beats.MAX_PAUSE_S` (6 s) after a beat
        at a rate within the range (a sinus pause or a block), where the beat
        before the pause is kept.
    min_quality : float, default=0.5
        Beats whose quality (correlation with the nearest of the record's
        beat shapes, the best over ±100 ms shifts; ECG beats score 0.9-1,
        beats found in noise 0.1-0.4) is lower are dropped, with the stretch
        of signal they stand for. The shapes are the median beat and those
        that recur among the beats it would reject (ventricular or escape
        beats, in bigeminy or in runs), so clean beats of another shape are
        kept and noise, which does not recur, is not. Flat, saturated and missing stretches are dropped too; a warning
        names the record and the seconds dropped. A lead where fewer than half
        the beats reach ``min_quality`` holds no usable ECG and is an error.
        With ``annotations=True`` every annotated beat is kept (the quality is
        still reported).
    baseline : {"keep", "record", "median"}, default="keep"
        The level the windows are given in. ``"keep"``: the record's, its
        recorder's DC offset and slow baseline wander included. ``"record"``:
        every window minus its lead's median over the whole record (mostly
        isoelectric), so that records of different recorders start from
        0 mV while each beat keeps its level against its neighbours.
        ``"median"``: each lead's window minus its own median, which also
        takes out the wander under each beat. The first lead's subtracted
        level is kept in ``meta["baseline_offset"]`` (in its units). Models
        that will meet records of another database need one of them: MIT-BIH
        DS1's MLII windows sit a median 0.35 mV below LUDB's lead II, which put
        most DS1 beats outside what a β-VAE fitted on LUDB had seen
        (``benchmarks/README.md``). Layout ``"window"`` only.
    allow_non_ecg : bool, default=False
        Cut beats from a signal that is not an ECG by its name (PLETH, ABP,
        RESP, ...) or units (mmHg, NU, Ohm, ...), which is otherwise refused.
    errors : {"raise", "warn"}, default="raise"
        What a bad record does: raise a :class:`~skbvae.exceptions.RecordError`
        naming the record and what is wrong, or warn and be skipped (the
        others load).
    n_jobs : int or None, default=None
        Records read in parallel with joblib (None: one process).
    verbose : int, default=0
        0 is silent. 1 shows progress over the records: a bar on a terminal
        (records done of the total, time left), else a line on standard
        error every 10 s and one at the end.
    features : bool, default=False
        Add the measured beat features of
        :func:`~skbvae.ecg.measure_beat_features` to ``meta``:
        ``r_amplitude``, ``qrs_duration``, ``st_level``, ``t_amplitude``
        and ``pr_interval`` (``heart_rate`` is always there), measured on the
        continuous first lead at its own rate. They are the factors of real
        beats, for the disentanglement metrics and
        :func:`~skbvae.plotting.plot_latent_vs_factor`.
    as_frame : bool, default=False
        Return ``X`` as a DataFrame whose columns name lead and sample
        (``ii_t042``: lead ii, sample 42 of the beat), which a fitted
        estimator keeps as ``feature_names_in_`` (plots then label leads).
        Its ``attrs["signal"]`` holds the beats' rate (``fs``), the time of
        their first sample from R (``start``, s) and their units; an
        estimator fitted on it keeps them as ``signal_info_``, and the
        plots of :mod:`skbvae.plotting` then draw seconds from R and mV.

    Returns
    -------
    X : ndarray or DataFrame of shape (n_beats, n_leads * n_samples)
        One heartbeat per row (all leads, channel-major).
    meta : pandas.DataFrame of shape (n_beats, 15 or more)
        ``record`` (the record's name; in a folder or database its path from
        there, e.g. ``patient001/s0010_re``), ``patient`` (PTB folder name,
        else the record name),
        ``lead`` (lead names as the record spells them, comma-separated
        when several), ``diagnosis`` (PTB's ``Reason for admission:``), ``label``
        (1 myocardial infarction, 0 healthy control, NaN otherwise),
        ``r_peak`` (sample index at the first lead's own rate), ``fs`` (that
        rate, Hz: ``fs × samples per frame`` of a multi-frequency record),
        ``rr`` (s, to the next beat; the previous one for the last), ``heart_rate``
        (bpm, from ``rr``), the RR features of the heartbeat-classification
        literature in seconds: ``rr_pre`` and ``rr_post`` (from the previous
        beat and to the next; NaN at the ends and across lost signal),
        ``rr_local`` (the mean of ``rr_pre`` over the 10 beats around) and
        ``rr_record`` (the record's mean RR); ``quality`` (the beat's
        correlation with the nearest of the record's beat shapes) and
        ``shape`` (which shape: 0 the median beat, 1, 2, ... other shapes
        that recur in the record, such as ventricular beats, -1 a lone beat
        of its own shape); with ``baseline`` other than ``"keep"``,
        ``baseline_offset``; with ``annotations=True``, ``symbol`` and
        ``aami``; with ``features=True`` five more columns of measured beat
        features.

    Raises
    ------
    FileNotFoundError
        If ``path`` names no record or folder of records.
    skbvae.exceptions.RecordError
        A ``ValueError`` for a record that cannot be read or gives no usable
        beat (``errors="raise"``, or when every record fails), naming the
        record and what is wrong: a missing or truncated signal file, a
        sampling rate that is not a number or no ECG's, a missing or non-ECG
        lead (with the leads that exist), no usable ECG.

    Warns
    -----
    RuntimeWarning
        One warning per kind of event, however many records it concerns
        (counting them and naming the first few): the seconds of records
        dropped as unusable, the records skipped under ``errors="warn"``, and
        the records whose header's base time or date is not in WFDB's form (``2014-05-08 05:05:15``, as
        the PhysioNet/CinC Challenge 2017 writes it; a year alone): wfdb cannot
        parse such a header, so it is read without those fields, which play
        no part in cutting beats.

    Examples
    --------
    >>> import tempfile, wfdb
    >>> from skbvae.datasets import make_ecg, load_wfdb_heartbeats
    >>> ecg, _ = make_ecg(20.0, fs=250, heart_rate=75, rr_jitter=0, random_state=0)
    >>> folder = tempfile.mkdtemp()
    >>> wfdb.wrsamp("rec1", fs=250, units=["mV"], sig_name=["II"], p_signal=ecg[:, None], fmt=["16"],
    ...             adc_gain=[1000.0], baseline=[0], write_dir=folder)
    >>> beats, meta = load_wfdb_heartbeats(f"{folder}/rec1")
    >>> beats.shape[1], int(round(meta["heart_rate"].median()))
    (187, 75)
    """
    check_cut_options(fs=fs, layout=layout, window=window, min_quality=min_quality,
                      heart_rate_range=heart_rate_range, baseline=baseline)
    if errors not in ("raise", "warn"):
        raise ValueError(f"errors must be 'raise' or 'warn'; got {errors!r}.")
    leads = lead if callable(lead) else list(lead) if isinstance(lead, (list, tuple)) else [lead]
    if not callable(leads) and not leads:
        raise ValueError("lead must name at least one lead; got an empty list.")
    records = record_paths(path)
    names = _record_names(path, records)

    def load_one(record_path, name):
        try:
            return _record_beats(record_path, name, leads, fs, layout, window, annotations, heart_rate_range,
                                 min_quality, allow_non_ecg, features, baseline)
        except RecordError as exc:
            failure = exc
        except Exception as exc:  # noqa: BLE001 - any failure of one record names that record
            failure = RecordError(f"{record_path}: failed while cutting beats ({type(exc).__name__}: {exc}).",
                                  record=record_path)
            failure.__cause__ = exc
        if errors == "raise":
            raise failure
        return failure

    # In order, as each record is done (joblib's generator), so that progress is seen as it happens.
    results = list(progress(Parallel(n_jobs=n_jobs, return_as="generator")(
        delayed(load_one)(r, n) for r, n in zip(records, names)),
        total=len(records), what="records", verbose=verbose, name="load_wfdb_heartbeats"))
    # Warnings are given here, not in the workers, so that they reach the caller under n_jobs too.
    loaded, notices = [], []
    for name, result in zip(names, results):
        if isinstance(result, RecordError):
            notices.append(("skipped", name, f"skipped {result}"))
            continue
        beats, meta, record_notices, units = result
        notices.extend((kind, name, text) for kind, text in record_notices)
        loaded.append((beats, meta, units))
    for message in _one_warning_per_kind(notices, len(records)):
        warnings.warn(message, RuntimeWarning, stacklevel=2)
    if not loaded:
        raise RecordError(f"{path}: none of its {len(records)} record(s) gave a heartbeat (see the warnings).")
    chosen = {m["record"].iloc[0]: len(m["lead"].iloc[0].split(",")) for _, m, _ in loaded if len(m)}
    if len(set(chosen.values())) > 1:  # only a lead chooser can give records different numbers of leads
        fewest = min(chosen, key=chosen.get)
        raise ValueError(f"lead=... chose {sorted(set(chosen.values()))} leads in different records ({fewest}: "
                         f"{chosen[fewest]}; {max(chosen, key=chosen.get)}: {max(chosen.values())}); every record's "
                         "beats must have the same leads: return the same number of leads for each record.")
    X = np.concatenate([beats for beats, _, _ in loaded])
    # Columns that only some records have (symbols of annotated beats) are NaN in the others.
    meta = pd.concat([m for _, m, _ in loaded], ignore_index=True)
    if as_frame:
        # What plots need to draw seconds from R and the signal's units; a
        # BetaVAETransformer fitted on this frame keeps it (signal_info_).
        units = {tuple(u) for _, _, u in loaded}
        X = beats_frame(X, meta["lead"].iloc[0].split(","), fs=fs, window=window, layout=layout,
                        units=", ".join(next(iter(units))) if len(units) == 1 else None)
    return X, meta
