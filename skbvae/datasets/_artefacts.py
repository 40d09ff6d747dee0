"""Artefacts of real recordings, added to a synthetic ECG at known places.

Each kind mimics something seen on PhysioNet records (see the issue that
asked for them): rectangular artefacts of an ICU monitor (1.7–2.5 mV, every
1–2 s), baseline jumps (electrode movement), bursts of noise (muscle, a
loose lead) and dropouts (the signal lost and held flat). The events come
back as a table so that tests and benchmarks know which beats a detector can
find and which stretches a quality check must drop.
"""

import numpy as np
import pandas as pd

#: Artefacts :func:`make_ecg` can add, with what each is, amplitudes in mV
#: (before ``amplitude`` scales them) and durations in s.
ARTEFACTS = {
    "rectangles": ("rectangular pulses of ±1.7-2.5 mV lasting 0.2-0.6 s (at most half the gap to the next), "
                   "recurring every 0.67-1.33 mean intervals; the ECG goes on under them"),
    "baseline_jumps": "steps of ±0.5-2 mV in the baseline that stay until the next jump",
    "noise_bursts": "1-3 s of white noise with a standard deviation of 0.5 mV: no ECG can be read there",
    "dropouts": "0.5-3 s where the signal is lost and held at 0 mV (a flat line)",
}
# Stretches where no beat can be found (the rest keep their beats).
UNREADABLE = ("noise_bursts", "dropouts")


def _event_starts(rate_per_minute, duration, rng):
    """Event times (s) of a Poisson process with ``rate_per_minute`` over ``duration`` s."""
    count = rng.poisson(rate_per_minute * duration / 60.0)
    return np.sort(rng.uniform(0.0, duration, count))


def _monitor_pulses(rate_per_minute, duration, rng):
    """Start times (s) of pulses that recur every 0.67-1.33 mean intervals, as a monitor's do."""
    if rate_per_minute <= 0:
        return np.array([])
    mean = 60.0 / rate_per_minute
    steps = mean * rng.uniform(2 / 3, 4 / 3, int(duration / mean * 1.5) + 2)
    starts = rng.uniform(0, mean) + np.concatenate([[0.0], np.cumsum(steps)])
    return starts[starts < duration]


def add_artefacts(ecg, fs, rates, rng):
    """Add the artefacts named in ``rates`` (events per minute) to ``ecg`` in mV.

    Returns the new signal and a DataFrame with one row per event: ``kind``,
    ``start`` and ``stop`` (sample indices, stop excluded) and ``amplitude``
    (mV; the noise's standard deviation for a burst, the level for a dropout).
    """
    ecg = np.array(ecg, dtype=float)
    n = len(ecg)
    duration = n / fs
    rows = []
    # A fixed order: a seed always gives the same record, and dropouts come
    # last, so that a lost signal holds no other artefact.
    for kind in ARTEFACTS:
        rate = rates.get(kind, 0.0)
        starts = _monitor_pulses(rate, duration, rng) if kind == "rectangles" else _event_starts(rate, duration, rng)
        for start_s, room in zip(starts, np.diff(np.append(starts, np.inf))):
            start = int(start_s * fs)
            if kind == "rectangles":
                width = min(rng.uniform(0.2, 0.6), 0.5 * room)
                level = rng.choice([-1, 1]) * rng.uniform(1.7, 2.5)
                stop = min(n, start + int(width * fs))
                ecg[start:stop] += level
            elif kind == "baseline_jumps":
                level, stop = rng.choice([-1, 1]) * rng.uniform(0.5, 2.0), n
                ecg[start:] += level
            elif kind == "noise_bursts":
                level = 0.5
                stop = min(n, start + int(rng.uniform(1.0, 3.0) * fs))
                ecg[start:stop] += level * rng.standard_normal(stop - start)
            else:
                level = 0.0
                stop = min(n, start + int(rng.uniform(0.5, 3.0) * fs))
                ecg[start:stop] = level
            rows.append((kind, start, stop, level))
    events = pd.DataFrame(rows, columns=["kind", "start", "stop", "amplitude"])
    return ecg, events.sort_values("start", kind="stable").reset_index(drop=True)


def readable_mask(n_samples, events, margin):
    """True where a beat can be found: outside noise bursts and dropouts (± ``margin`` samples)."""
    readable = np.ones(n_samples, dtype=bool)
    for row in events.itertuples():
        if row.kind in UNREADABLE:
            readable[max(0, row.start - margin):row.stop + margin] = False
    return readable
