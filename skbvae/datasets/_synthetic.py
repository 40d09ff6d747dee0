"""Synthetic heartbeats and price windows whose generating factors are known."""

import itertools
import numbers

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state

from ._artefacts import add_artefacts
from ..ecg._rpeaks import rr_intervals

#: Factors of :func:`make_heartbeats` and their default (low, high) ranges.
HEARTBEAT_FACTORS = {
    "heart_rate": (50.0, 110.0),    # beats per minute: where the next beat and the T wave fall
    "qrs_width": (0.06, 0.12),      # seconds: duration of the Q-R-S complex
    "r_amplitude": (0.6, 1.6),      # mV: height of R (Q and S depths scale with it)
    "t_amplitude": (-0.3, 0.5),     # mV: negative values are T-wave inversions
    "st_shift": (-0.2, 0.2),        # mV: ST elevation/depression, the infarction-like factor
    "baseline": (-0.3, 0.3),        # mV: constant offset (baseline wander within a beat)
    "noise": (0.005, 0.05),         # mV: standard deviation of white measurement noise
}

# Fixed waves relative to the R peak: (centre in s, width in s, amplitude in mV).
_P_WAVE = (-0.16, 0.025, 0.15)


def _gauss(t, centre, width):
    return np.exp(-0.5 * ((t - centre) / width) ** 2)


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _one_beat(t, f, p_delay=0.0):
    """Noise-free beat with R at t = 0; ``f`` holds factor columns shaped (n, 1).

    ``p_delay``: seconds the P wave comes earlier than :data:`_P_WAVE` places it.
    """
    rr = 60.0 / f["heart_rate"]
    qrs = f["qrs_width"]
    r = f["r_amplitude"]
    # Bazett: the QT interval, hence the T wave's position and width, scales with √RR.
    t_centre, t_width = 0.30 * np.sqrt(rr), 0.05 * np.sqrt(rr)
    beat = _P_WAVE[2] * _gauss(t, _P_WAVE[0] - p_delay, _P_WAVE[1])
    beat = beat - 0.15 * r * _gauss(t, -qrs / 3, qrs / 10)
    beat = beat + r * _gauss(t, 0.0, qrs / 7)
    beat = beat - 0.25 * r * _gauss(t, qrs / 3, qrs / 10)
    # ST plateau: rises after the S wave, falls back under the T wave.
    plateau = _sigmoid((t - qrs / 2) / 0.008) - _sigmoid((t - t_centre) / 0.02)
    beat = beat + f["st_shift"] * plateau
    return beat + f["t_amplitude"] * _gauss(t, t_centre, t_width)


def _sample_factors(n_samples, ranges, grid, rng):
    if grid is None:
        return pd.DataFrame(
            {name: rng.uniform(low, high, n_samples) for name, (low, high) in ranges.items()}
        )
    levels = [np.linspace(low, high, grid) for low, high in ranges.values()]
    return pd.DataFrame(list(itertools.product(*levels)), columns=list(ranges))


def _check_ranges(factor_ranges, defaults):
    ranges = dict(defaults)
    for name, bounds in (factor_ranges or {}).items():
        if name not in defaults:
            raise ValueError(
                f"factor_ranges has unknown factor {name!r}; known factors: {sorted(defaults)}."
            )
        low, high = (bounds, bounds) if np.isscalar(bounds) else bounds
        if not low <= high:
            raise ValueError(f"factor_ranges[{name!r}] must be (low, high) with low <= high.")
        ranges[name] = (float(low), float(high))
    return ranges


def _sample_record_factors(n_samples, ranges, n_records, record_spread, rng):
    """Factors of beats grouped in records, and the record of each beat.

    Each record draws its own mean of every factor uniformly over the factor's
    range and its own beat-to-beat standard deviation of every factor, a
    fraction of the range drawn uniformly from ``record_spread``; each beat is
    its record's mean plus that spread times a standard normal draw, clipped
    to the range. Real ECG comes this way: a patient's heart rate wanders a
    little around their own level, their T waves hardly change.
    """
    sizes = np.full(n_records, n_samples // n_records)
    sizes[: n_samples % n_records] += 1
    groups = np.repeat(np.arange(n_records), sizes)
    columns = {}
    for name, (low, high) in ranges.items():
        means = rng.uniform(low, high, n_records)
        spreads = rng.uniform(*record_spread, n_records) * (high - low)
        values = means[groups] + spreads[groups] * rng.standard_normal(n_samples)
        columns[name] = np.clip(values, low, high)
    return pd.DataFrame(columns), groups


def _check_records(n_samples, grid, n_records, record_spread):
    if n_records is None:
        return
    if grid is not None:
        raise ValueError("grid and n_records cannot be combined: a factorial design has no records.")
    if not isinstance(n_records, (int, np.integer)) or not 1 <= n_records <= n_samples:
        raise ValueError(f"n_records must be an int from 1 to n_samples ({n_samples}); got {n_records!r}.")
    low, high = record_spread
    if not 0 <= low <= high:
        raise ValueError(f"record_spread must be (low, high) with 0 <= low <= high; got {record_spread!r}.")


def _check_size(n_samples, grid):
    if grid is not None:
        if not isinstance(grid, (int, np.integer)) or grid < 1:
            raise ValueError(f"grid must be a positive int or None; got {grid!r}.")
        return
    if not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
        raise ValueError(f"n_samples must be a positive int; got {n_samples!r}.")


#: Default ``record_spread`` of :func:`make_heartbeats`: the beat-to-beat
#: standard deviation of each factor within a record, as a fraction of the
#: factor's range, drawn per record and factor from this interval.
RECORD_SPREAD = (0.02, 0.2)


def make_heartbeats(n_samples=1000, *, fs=125.0, window=(0.25, 1.25), factor_ranges=None,
                    grid=None, n_records=None, record_spread=RECORD_SPREAD, random_state=None):
    """Single synthetic heartbeats with independent, known generating factors.

    Each beat is a closed-form ECGSYN-style sum of waves (McSharry et al.,
    2003): P, Q, R, S and T bumps, an ST plateau, the neighbouring beats at ±RR,
    a constant baseline and white noise. Every factor is drawn independently
    and drives one visible property of the signal:

    ==============  ======================================================
    heart_rate      bpm; moves the next beat and (via Bazett's √RR) the T wave
    qrs_width       s; duration of the QRS complex
    r_amplitude     mV; R height, with Q and S depths in proportion
    t_amplitude     mV; T-wave height, negative for inversion
    st_shift        mV; ST elevation (>0) or depression (<0), infarction-like
    baseline        mV; constant offset of the whole beat
    noise           mV; standard deviation of added white noise
    ==============  ======================================================

    Parameters
    ----------
    n_samples : int, default=1000
        Number of beats (ignored when ``grid`` is given).
    fs : float, default=125.0
        Sampling rate in Hz.
    window : (float, float), default=(0.25, 1.25)
        Seconds kept before and after the R peak; the default gives 187
        samples at 125 Hz, the Kaggle PTB layout's length.
    factor_ranges : dict, default=None
        Overrides of :data:`HEARTBEAT_FACTORS`: ``{name: (low, high)}``, or
        ``{name: value}`` to hold a factor fixed.
    grid : int, default=None
        If given, a full factorial design with ``grid`` evenly spaced levels per
        factor (``grid ** 7`` beats; fix factors to shrink it) instead of
        uniform random draws.
    n_records : int, default=None
        If given, the beats come in ``n_records`` records (patients) of
        nearly equal size, as real ECG does: each record has its own mean of
        every factor (uniform over its range) and its own beat-to-beat spread
        of every factor (see ``record_spread``), and the record of each beat
        is returned as ``groups``. Beats of one record are consecutive rows.
        None draws every beat independently.
    record_spread : (float, float), default=(0.02, 0.2)
        With ``n_records``: range of the within-record standard deviation of
        each factor, as a fraction of the factor's range, drawn per record and
        factor (so one record's heart rate may wander while its T wave stays).
        Beats are clipped to the factor ranges.
    random_state : int, RandomState instance or None, default=None
        Seeds the factor draws and the noise.

    Returns
    -------
    X : ndarray of shape (n_beats, n_timepoints)
        Beats in mV; the R peak is at index ``round(window[0] * fs)``.
    factors : pandas.DataFrame of shape (n_beats, 7)
        The generating factors of each beat, one column per factor.
    groups : ndarray of int of shape (n_beats,)
        Only with ``n_records``: the record (0 to ``n_records - 1``) of each
        beat, for ``GroupKFold`` or ``fit(X, groups=groups)``.

    Examples
    --------
    >>> from skbvae.datasets import make_heartbeats
    >>> X, factors = make_heartbeats(100, random_state=0)
    >>> X.shape
    (100, 187)
    >>> list(factors.columns)[:3]
    ['heart_rate', 'qrs_width', 'r_amplitude']
    >>> X, factors, groups = make_heartbeats(100, n_records=4, random_state=0)
    >>> groups[:3].tolist(), len(set(groups))
    ([0, 0, 0], 4)
    """
    _check_size(n_samples, grid)
    _check_records(n_samples, grid, n_records, record_spread)
    if not fs > 0:
        raise ValueError(f"fs must be a positive sampling rate in Hz; got {fs!r}.")
    before, after = window
    if not (before >= 0 and after > 0):
        raise ValueError(f"window must be (seconds before R >= 0, seconds after R > 0); got {window!r}.")
    rng = check_random_state(random_state)
    ranges = _check_ranges(factor_ranges, HEARTBEAT_FACTORS)
    if n_records is None:
        factors, groups = _sample_factors(n_samples, ranges, grid, rng), None
    else:
        factors, groups = _sample_record_factors(n_samples, ranges, n_records, record_spread, rng)
    n_before = int(round(before * fs))
    t = (np.arange(n_before + int(round(after * fs))) - n_before) / fs
    f = {name: factors[name].to_numpy()[:, None] for name in factors}
    rr = 60.0 / f["heart_rate"]
    X = _one_beat(t, f) + _one_beat(t - rr, f) + _one_beat(t + rr, f)
    X += f["baseline"] + f["noise"] * rng.standard_normal(X.shape)
    if groups is None:
        return X, factors
    return X, factors, groups


# Shape factors of make_ecg that vary from beat to beat with factor_spread.
_ECG_SHAPE_FACTORS = ("qrs_width", "r_amplitude", "t_amplitude", "st_shift")

#: Rhythms of :func:`make_ecg`. Beat kinds use MIT-BIH's symbols: "N" normal,
#: "V" premature ventricular, "E" ventricular escape, "R" right bundle branch block.
RHYTHMS = ("sinus", "bigeminy", "trigeminy", "ventricular_runs", "escape", "bundle_branch_episode", "pauses",
           "atrial_premature")
# Atrial premature beats of "atrial_premature": one in this many beats, at this share of an RR.
_ATRIAL_PREMATURE_EVERY, _ATRIAL_PREMATURE_AT = 6, 0.65
# Sinus pauses and blocks of "pauses": RR intervals of this many seconds.
_PAUSE_S = (2.0, 6.0)
# Seconds between the starts of ventricular runs and of escape episodes, on average.
_EPISODE_EVERY_S = 20.0


def _wide_beat(t, r_amplitude):
    """A ventricular (PVC or escape) beat with its QRS extremum at t = 0.

    No P wave, a QRS ~140 ms wide pointing down (against the normal beat's
    R, as in a lead that sees the ventricles depolarise the other way), a
    discordant T. Correlation with the normal beat is low, as for MIT-BIH's
    PVCs, which a check against one template calls noise.
    """
    beat = -1.4 * r_amplitude * _gauss(t, 0.0, 0.028)
    beat = beat + 0.3 * r_amplitude * _gauss(t, 0.055, 0.02)
    return beat + 0.35 * _gauss(t, 0.30, 0.07)


def _right_bundle_branch_beat(t, r_amplitude, p_delay=0.0):
    """A right bundle branch block beat with R at t = 0: P wave, rSR' QRS ~130 ms wide, inverted T."""
    beat = _P_WAVE[2] * _gauss(t, _P_WAVE[0] - p_delay, _P_WAVE[1])
    beat = beat + 0.8 * r_amplitude * _gauss(t, 0.0, 0.012)
    beat = beat - 0.4 * r_amplitude * _gauss(t, 0.035, 0.012)
    beat = beat + 0.7 * r_amplitude * _gauss(t, 0.075, 0.02)
    return beat - 0.15 * _gauss(t, 0.33, 0.06)


def _beat_schedule(rhythm, duration, rr, rr_jitter, rng):
    """Times (s) and kinds (MIT-BIH symbols) of the beats of ``rhythm``."""
    times, kinds = [], []
    t, n_since_ectopic = 0.5 * rr, 0
    next_episode = rng.uniform(0.3, 1.0) * _EPISODE_EVERY_S
    while t < duration:
        step = rr * (1 + rr_jitter * rng.standard_normal())
        times.append(t)
        kinds.append("N")
        n_since_ectopic += 1
        if rhythm == "atrial_premature" and n_since_ectopic == _ATRIAL_PREMATURE_EVERY - 1:
            # A normal-shaped beat (conducted through the ventricles as usual) comes early; the sinus
            # node resets, so the next beat follows a normal RR after it (no compensatory pause).
            times.append(t + _ATRIAL_PREMATURE_AT * step)
            kinds.append("A")
            n_since_ectopic = 0
            t += (_ATRIAL_PREMATURE_AT + 1) * step
            continue
        if rhythm in ("bigeminy", "trigeminy") and n_since_ectopic == (1 if rhythm == "bigeminy" else 2):
            # A premature beat 60 % of an RR after the normal one, then the compensatory pause.
            times.append(t + 0.6 * step)
            kinds.append("V")
            n_since_ectopic = 0
            t += 2 * step
            continue
        if rhythm == "pauses" and t >= next_episode:
            # A sinus pause or block: the next normal beat comes 2-6 s later.
            t += rng.uniform(*_PAUSE_S)
            next_episode = t + rng.exponential(_EPISODE_EVERY_S)
            continue
        if rhythm in ("ventricular_runs", "escape") and t >= next_episode:
            # A run of 3-8 wide beats: premature and fast (ventricular tachycardia) or, after a
            # sinus pause, slow (ventricular escape at 40 bpm); then sinus rhythm resumes.
            length = rng.integers(3, 9)
            interval, kind = (0.6 * rr, "V") if rhythm == "ventricular_runs" else (1.5, "E")
            run = t + (0.6 * rr if kind == "V" else 1.6) + interval * np.arange(length)
            times.extend(run)
            kinds.extend([kind] * length)
            t = run[-1] + (1.2 * rr if kind == "V" else rr)
            next_episode = t + rng.exponential(_EPISODE_EVERY_S)
            continue
        t += step
    times, kinds = np.array(times), np.array(kinds)
    if rhythm == "bundle_branch_episode":
        # The middle third of the record conducts with a right bundle branch block.
        kinds[(times >= duration / 3) & (times < 2 * duration / 3)] = "R"
    inside = times < duration
    return times[inside], kinds[inside]


def make_ecg(duration=10.0, *, fs=250.0, heart_rate=72.0, rr_jitter=0.03, noise=0.01, amplitude=1.0,
             t_amplitude=None, factor_spread=0.0, rhythm="sinus", rectangles=0.0, baseline_jumps=0.0,
             noise_bursts=0.0, dropouts=0.0, p_delay=0.0, random_state=None, return_events=False,
             return_factors=False, return_kinds=False):
    """A continuous single-lead ECG with known R-peak positions, for detector tests and fixtures.

    Beats have the shape of :func:`make_heartbeats` at its default-range
    midpoints, scaled by ``amplitude``; RR intervals vary by ``rr_jitter``
    (relative standard deviation) around ``60 / heart_rate`` seconds.

    The record can misbehave the way real ones do, at known places: tall T
    waves, rectangular artefacts, baseline jumps, noise bursts and dropouts
    (:data:`~skbvae.datasets.ARTEFACTS`), each at a rate in events per minute,
    so that detectors and quality checks are tested against known answers.
    Its rhythm can hold clean beats of other shapes (``rhythm``), the beats a
    quality check must not mistake for noise.

    Parameters
    ----------
    duration : float, default=10.0
        Seconds of signal.
    fs : float, default=250.0
        Sampling rate in Hz.
    heart_rate : float, default=72.0
        Mean heart rate in bpm.
    rr_jitter : float, default=0.03
        Relative standard deviation of the RR intervals.
    noise : float, default=0.01
        Standard deviation of white noise, in units of ``amplitude`` mV.
    amplitude : float, default=1.0
        Scale of the whole signal, artefacts included (test amplitude
        invariance with it).
    t_amplitude : float or None, default=None
        T-wave height in mV (before ``amplitude``); None takes
        :data:`HEARTBEAT_FACTORS`' midpoint (0.1 mV). Tall T waves, which
        naive detectors count as beats, are ~1 mV (as tall as R, 1.1 mV).
    factor_spread : float, default=0.0
        Beat-to-beat standard deviation of the shape factors ``qrs_width``,
        ``r_amplitude``, ``t_amplitude`` and ``st_shift``, as a fraction of
        their :data:`HEARTBEAT_FACTORS` range (values clipped to the range).
        0 gives every beat the same shape; with ``return_factors=True`` the
        shape of every beat is known, to validate measured beat features
        (:func:`~skbvae.ecg.measure_beat_features`).
    rhythm : str, default="sinus"
        One of :data:`~skbvae.datasets.RHYTHMS`: "sinus" (every beat normal,
        "N"); "bigeminy" / "trigeminy" (every second / third beat a premature
        ventricular beat, "V": no P wave, a QRS ~140 ms wide, 1.4× as deep as
        R is tall, a discordant T, 60 % of an RR early, then a compensatory
        pause);
        "ventricular_runs" (runs of 3-8 such beats at 1/0.6 of the sinus
        rate, one every ~20 s); "escape" (sinus pauses after which 3-8
        ventricular escape beats, "E", of the same wide shape,
        come at 40 bpm, one episode every ~20 s); "bundle_branch_episode"
        (the middle third of the record conducts with a right bundle branch
        block, "R": P wave, an rSR' QRS ~130 ms wide, an inverted T);
        "pauses" (sinus rhythm with a pause or block of 2-6 s between two
        normal beats, one every ~20 s); "atrial_premature" (every sixth beat
        an atrial premature beat, "A": a normal beat 65 % of an RR early, the
        supraventricular ectopic beat of the AAMI classes). The kind of every
        beat comes back with ``return_kinds=True``.
    rectangles : float, default=0.0
        Rectangular artefacts per minute (±1.7-2.5 mV for 0.2-0.6 s, added
        to the ECG, as an ICU monitor's); 40 puts one every 1.5 s.
    baseline_jumps : float, default=0.0
        Baseline steps of ±0.5-2 mV per minute, each lasting until the next.
    noise_bursts : float, default=0.0
        Bursts per minute of 1-3 s of white noise (0.5 mV standard
        deviation) in which no ECG can be read.
    dropouts : float, default=0.0
        Dropouts per minute: 0.5-3 s where the signal is held at 0 mV.
    p_delay : float, default=0.0
        Seconds the P wave comes earlier than normal (its centre 0.16 s before
        R): 0.12 lengthens the PR interval from ~0.15 s to ~0.27 s, a
        first-degree AV block.
    random_state : int, RandomState instance or None, default=None
    return_events : bool, default=False
        Also return the table of artefacts.
    return_factors : bool, default=False
        Also return the generating factors of every beat.

    Returns
    -------
    ecg : ndarray of shape (round(duration * fs),)
    r_peaks : ndarray of int
        Sample index of every R peak, in noise bursts and dropouts too (mask
        those with the events to score a detector).
    events : pandas.DataFrame
        Only when ``return_events=True``: one row per artefact with ``kind``
        (a key of :data:`~skbvae.datasets.ARTEFACTS`), ``start`` and ``stop``
        (sample indices, stop excluded) and ``amplitude`` (mV before
        ``amplitude``: the level of a rectangle or jump, the noise's standard
        deviation, the dropout's level).
    factors : pandas.DataFrame
        Only when ``return_factors=True`` (after ``events`` if both): one row
        per R peak with ``heart_rate`` (bpm, from the interval to the next
        beat; the previous one for the last beat), ``qrs_width`` (s),
        ``r_amplitude``, ``t_amplitude`` and ``st_shift`` (mV, before
        ``amplitude``), as in :func:`make_heartbeats`. The P wave is fixed:
        its centre 0.16 s before R, its Gaussian width 25 ms. Beats other
        than "N" (see ``rhythm``) have NaN shape factors: they have their own
        shape.
    kinds : ndarray of str
        Only when ``return_kinds=True`` (last): the MIT-BIH symbol of every
        beat ("N", "V", "E" or "R").

    Examples
    --------
    >>> from skbvae.datasets import make_ecg
    >>> ecg, r_peaks = make_ecg(10.0, fs=250, heart_rate=60, rr_jitter=0, random_state=0)
    >>> ecg.shape, r_peaks[:3].tolist()
    ((2500,), [125, 375, 625])
    >>> ecg, r_peaks, events = make_ecg(60.0, rectangles=40, dropouts=2, random_state=0, return_events=True)
    >>> sorted(events["kind"].unique())
    ['dropouts', 'rectangles']
    >>> ecg, r_peaks, kinds = make_ecg(10.0, rhythm="bigeminy", random_state=0, return_kinds=True)
    >>> "".join(kinds[:6])
    'NVNVNV'
    """
    if not (isinstance(factor_spread, numbers.Real) and 0 <= factor_spread < np.inf):
        raise ValueError(f"factor_spread must be a fraction of each factor's range (>= 0); got {factor_spread!r}.")
    rates = {"rectangles": rectangles, "baseline_jumps": baseline_jumps, "noise_bursts": noise_bursts,
             "dropouts": dropouts}
    for name, rate in rates.items():
        if not (isinstance(rate, numbers.Real) and 0 <= rate < np.inf):
            raise ValueError(f"{name} must be a rate in events per minute (>= 0); got {rate!r}.")
    if rhythm not in RHYTHMS:
        raise ValueError(f"rhythm must be one of {list(RHYTHMS)}; got {rhythm!r}.")
    if not (isinstance(p_delay, numbers.Real) and 0 <= p_delay <= 0.3):
        raise ValueError(f"p_delay must be seconds in [0, 0.3]; got {p_delay!r}.")
    rng = check_random_state(random_state)
    rr = 60.0 / heart_rate
    if rhythm == "sinus":  # drawn as before, so sinus records are unchanged for every seed
        times = [0.5 * rr]
        while times[-1] < duration:
            times.append(times[-1] + rr * (1 + rr_jitter * rng.standard_normal()))
        r_times, kinds = np.array(times[:-1]), np.full(len(times) - 1, "N")
    else:
        r_times, kinds = _beat_schedule(rhythm, duration, rr, rr_jitter, np.random.default_rng(rng.randint(2**31)))
    n = int(round(duration * fs))
    t = np.arange(n) / fs
    shape = {name: np.full(len(r_times), (low + high) / 2) for name, (low, high) in HEARTBEAT_FACTORS.items()}
    shape["heart_rate"] = np.full(len(r_times), float(heart_rate))
    if t_amplitude is not None:
        shape["t_amplitude"] = np.full(len(r_times), float(t_amplitude))
    if factor_spread > 0:  # drawn only when asked, so the default record is unchanged for every seed
        for name in _ECG_SHAPE_FACTORS:
            low, high = HEARTBEAT_FACTORS[name]
            draws = shape[name] + factor_spread * (high - low) * rng.standard_normal(len(r_times))
            shape[name] = np.clip(draws, min(low, shape[name][0]), max(high, shape[name][0]))
    ecg = np.zeros(n)
    support = int(1.5 * fs)
    r_peaks = np.round(r_times * fs).astype(int)
    for i, (r_time, r) in enumerate(zip(r_times, r_peaks)):
        lo, hi = max(0, r - support), min(n, r + support)
        if kinds[i] in ("N", "A"):
            ecg[lo:hi] += _one_beat(t[lo:hi] - r_time, {name: values[i] for name, values in shape.items()}, p_delay)
        elif kinds[i] == "R":
            ecg[lo:hi] += _right_bundle_branch_beat(t[lo:hi] - r_time, shape["r_amplitude"][i], p_delay)
        else:  # "V" and "E"
            ecg[lo:hi] += _wide_beat(t[lo:hi] - r_time, shape["r_amplitude"][i])
    ecg += noise * rng.standard_normal(n)
    ecg, events = add_artefacts(ecg, fs, rates, rng)
    out = (amplitude * ecg, r_peaks) + ((events,) if return_events else ())
    if return_factors:
        rr = rr_intervals(r_times)  # seconds; NaN for a lone beat, which has only the mean rate
        own_shape = ~np.isin(kinds, ["N", "A"])
        factors = pd.DataFrame({"heart_rate": 60.0 / np.where(np.isnan(rr), 60.0 / heart_rate, rr),
                                **{name: np.where(own_shape, np.nan, shape[name]) for name in _ECG_SHAPE_FACTORS}})
        out += (factors,)
    if return_kinds:
        out += (kinds,)
    return out


#: Factors of :func:`make_price_windows` per model, with default ranges.
#: Rates are per minute (one step is one minute).
PRICE_FACTORS = {
    "gbm": {"drift": (-1e-4, 1e-4), "volatility": (2e-4, 2e-3)},
    "ou": {"volatility": (2e-4, 2e-3), "mean_reversion": (0.005, 0.1), "start_deviation": (-0.01, 0.01)},
    "garch": {"volatility": (2e-4, 2e-3), "alpha": (0.02, 0.2), "persistence": (0.8, 0.97)},
}


def _simulate_log_prices(model, f, window, rng):
    n = len(next(iter(f.values())))
    shocks = rng.standard_normal((n, window))
    if model == "gbm":
        sigma = f["volatility"][:, None]
        steps = (f["drift"][:, None] - 0.5 * sigma**2) + sigma * shocks
        return np.cumsum(steps, axis=1) - steps[:, :1]
    if model == "ou":
        theta, sigma = f["mean_reversion"], f["volatility"]
        x = np.empty((n, window))
        x[:, 0] = f["start_deviation"]
        for k in range(1, window):
            x[:, k] = x[:, k - 1] - theta * x[:, k - 1] + sigma * shocks[:, k]
        return x - x[:, :1]
    # GARCH(1,1) with unconditional variance volatility²: ω = σ²(1 − α − β).
    alpha, beta = f["alpha"], f["persistence"] - f["alpha"]
    omega = f["volatility"] ** 2 * (1.0 - alpha - beta)
    var = f["volatility"] ** 2
    r = np.empty((n, window))
    r[:, 0] = 0.0
    eps_prev = np.sqrt(var) * shocks[:, 0]
    for k in range(1, window):
        var = omega + alpha * eps_prev**2 + beta * var
        eps_prev = np.sqrt(var) * shocks[:, k]
        r[:, k] = eps_prev
    return np.cumsum(r, axis=1)


#: Row representations of price windows (``representation=`` of the price
#: generators and loaders).
PRICE_REPRESENTATIONS = ("log_price", "log_returns")


def check_representation(representation):
    """Raise a ValueError naming ``representation`` unless it is one of :data:`PRICE_REPRESENTATIONS`."""
    if representation not in PRICE_REPRESENTATIONS:
        raise ValueError(f"representation must be one of {list(PRICE_REPRESENTATIONS)}; got {representation!r}.")


def make_price_windows(n_samples=1000, *, window=180, model="gbm", factor_ranges=None,
                       start_price=(1e4, 6e4), representation="log_price", random_state=None):
    """Synthetic minute-price windows with known trend and volatility factors.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of windows.
    window : int, default=180
        Minutes per window (the seed's Bitcoin experiment uses 180).
    model : {"gbm", "ou", "garch"}, default="gbm"
        Geometric Brownian motion (factors ``drift``, ``volatility``),
        Ornstein–Uhlenbeck on the log price (``volatility``,
        ``mean_reversion``, ``start_deviation``), or GARCH(1,1) returns
        (``volatility`` = unconditional σ, ``alpha``, ``persistence`` = α+β).
        See :data:`PRICE_FACTORS` for the ranges (per-minute units).
    factor_ranges : dict, default=None
        Overrides ``{name: (low, high)}`` or ``{name: value}``.
    start_price : (float, float), default=(1e4, 6e4)
        Range of the first price of each window (a nuisance factor: the
        returned windows are relative to it).
    representation : {"log_price", "log_returns"}, default="log_price"
        What a row holds. "log_price": ``log(price / price[0])`` of ``window``
        prices. "log_returns": the ``window`` minute log returns
        ``diff(log(price))`` of ``window + 1`` prices, in which volatility is
        the spread of the values and trend their mean, so a decoder with a
        learned variance (``decoder_variance="heteroscedastic"``) can give
        volatility one latent. The factors are the same either way.
    random_state : int, RandomState instance or None, default=None

    Returns
    -------
    X : ndarray of shape (n_samples, window)
        Per window, ``log(price / price[0])`` (the same normalisation as
        :func:`~skbvae.datasets.load_price_windows`, which keeps trend and
        volatility visible; per-window min-max or z-scoring would erase
        volatility, NOTES §5) or the log returns.
    factors : pandas.DataFrame
        One column per factor of ``model`` plus ``start_price``.

    Examples
    --------
    >>> from skbvae.datasets import make_price_windows
    >>> X, factors = make_price_windows(50, model="gbm", random_state=0)
    >>> X.shape, list(factors.columns)
    ((50, 180), ['drift', 'volatility', 'start_price'])
    """
    _check_size(n_samples, None)
    if model not in PRICE_FACTORS:
        raise ValueError(f"model must be one of {sorted(PRICE_FACTORS)}; got {model!r}.")
    check_representation(representation)
    if not isinstance(window, (int, np.integer)) or window < 2:
        raise ValueError(f"window must be an int >= 2 minutes; got {window!r}.")
    rng = check_random_state(random_state)
    factors = _sample_factors(n_samples, _check_ranges(factor_ranges, PRICE_FACTORS[model]), None, rng)
    f = {name: factors[name].to_numpy() for name in factors}
    if representation == "log_returns":
        X = np.diff(_simulate_log_prices(model, f, window + 1, rng), axis=1)
    else:
        X = _simulate_log_prices(model, f, window, rng)
    factors["start_price"] = rng.uniform(*start_price, n_samples)
    return X, factors
