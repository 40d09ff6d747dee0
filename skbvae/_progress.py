"""What a user sees while a β-VAE trains: progress over epochs, the epoch table, warnings when the cores are shared.

``verbose=1`` is one progress bar over the epochs (tqdm, which skorch's own
``ProgressBar`` uses) on a terminal, and a line every
:data:`LOG_INTERVAL_S` seconds elsewhere (a log file, CI, a notebook's
captured output); ``verbose=2`` prints skorch's per-epoch table
(``PrintLog``) with the estimator's column names instead. Built on skorch's
callbacks and tqdm rather than written again.
"""

import statistics
import sys
import time

import torch
from skorch.callbacks import Callback, PrintLog
from tqdm import tqdm

from ._threads import competing_tasks, cores_short
from ._warnings import warn_user

#: An epoch this many times slower than the median of the first
#: :data:`_BASELINE_EPOCHS` epochs (and longer than :data:`_MIN_SLOW_SECONDS`)
#: makes :class:`SlowEpochWarning` speak. Two cores shared with another busy
#: process made epochs ~50× slower; normal jitter is well under 2×.
SLOWDOWN_FACTOR = 5.0
_BASELINE_EPOCHS = 3
_MIN_SLOW_SECONDS = 1.0
#: :class:`SharedCoresWarning` looks this many times at the machine, this many
#: seconds apart at least, from the first optimizer steps on.
_CORE_CHECKS = 5
_CORE_CHECK_SPACING = 0.05


#: With ``verbose=1`` outside a terminal, a progress line at most this often (s).
LOG_INTERVAL_S = 10.0


def stderr_is_terminal():
    """Whether a progress bar would be seen: standard error is an interactive terminal."""
    isatty = getattr(sys.stderr, "isatty", None)
    return bool(isatty and isatty())


def _duration(seconds):
    seconds = int(round(seconds))
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


class EpochProgress(Callback):
    """Epochs done out of the total, time left and the loss, as one bar or as a line every few seconds.

    On a terminal, a tqdm bar over the epochs of this call to ``fit`` (its
    postfix: the epoch's loss and KL). Elsewhere a line on standard error at
    most every ``interval`` seconds, and one at the end, so a 5-minute fit
    writes about 30 lines to a log rather than one per epoch or a redrawn
    bar.

    Parameters
    ----------
    name : str
        Prefix of each line (the estimator's class name).
    bar : bool or None, default=None
        Draw a bar (True) or write lines (False); None decides by whether
        standard error is a terminal.
    interval : float or None, default=None
        Seconds between lines outside a terminal; None is :data:`LOG_INTERVAL_S`.
    """

    def __init__(self, name="BetaVAETransformer", bar=None, interval=None):
        self.name = name
        self.bar = bar
        self.interval = interval

    def on_train_begin(self, net, **kwargs):
        self.first_epoch_ = len(net.history)  # a warm start goes on from the history it has
        self.total_ = int(net.max_epochs)
        self.started_ = self.last_line_ = time.perf_counter()
        use_bar = stderr_is_terminal() if self.bar is None else self.bar
        self.tqdm_ = tqdm(total=self.total_, unit="epoch", desc=self.name, file=sys.stderr,
                          dynamic_ncols=True, leave=True) if use_bar else None

    def on_epoch_end(self, net, **kwargs):
        done = len(net.history) - self.first_epoch_
        loss, kl = net.history[-1].get("train_loss"), net.history[-1].get("kl")
        if self.tqdm_ is not None:
            self.tqdm_.set_postfix(loss=f"{loss:.4g}", kl=f"{kl:.3g}", refresh=False)
            self.tqdm_.update(1)
            return
        now = time.perf_counter()
        interval = LOG_INTERVAL_S if self.interval is None else self.interval
        if now - self.last_line_ >= interval and done < self.total_:
            self.last_line_ = now
            left = (now - self.started_) / done * (self.total_ - done)
            print(f"{self.name}: epoch {done}/{self.total_} ({done / self.total_:.0%}), loss {loss:.4g}, "
                  f"KL {kl:.3g} nats, {_duration(now - self.started_)} so far, about {_duration(left)} left",
                  file=sys.stderr, flush=True)

    def on_train_end(self, net, **kwargs):
        if self.tqdm_ is not None:
            self.tqdm_.close()
            self.tqdm_ = None
            return
        done = len(net.history) - self.first_epoch_
        stopped = "" if done >= self.total_ else f" of {self.total_} (early stopping)"
        loss = net.history[-1].get("train_loss") if len(net.history) else float("nan")
        print(f"{self.name}: {done} epoch(s){stopped} in {_duration(time.perf_counter() - self.started_)}, "
              f"loss {loss:.4g}", file=sys.stderr, flush=True)


class EpochTable(PrintLog):
    """skorch's per-epoch table with the column names of ``BetaVAETransformer.history_``.

    skorch records the objective as ``train_loss``; the estimator's
    ``history_`` calls it ``loss``, and so does this table.
    """

    def table(self, row):
        renamed = {("loss" + key[len("train_loss"):] if key.startswith("train_loss") else key): value
                   for key, value in row.items()}
        return super().table(renamed)


class SlowEpochWarning(Callback):
    """Warn once per fit when an epoch takes far longer than the first ones.

    The usual cause is another process using the CPU cores torch computes
    on; the warning says so, so that a slow fit is not mistaken for a slow
    model.
    """

    def initialize(self):
        self.warned_ = False
        return self

    def on_epoch_end(self, net, **kwargs):
        durations = [row["dur"] for row in net.history if "dur" in row]
        if self.warned_ or len(durations) <= _BASELINE_EPOCHS:
            return
        baseline = statistics.median(durations[:_BASELINE_EPOCHS])
        last = durations[-1]
        if last > _MIN_SLOW_SECONDS and last > SLOWDOWN_FACTOR * baseline:
            self.warned_ = True
            threads = torch.get_num_threads()
            advice = (" n_jobs=1 (the default) slows far less on a shared machine." if threads > 1 else "")
            warn_user(
                f"epoch {len(durations)} took {last:.1f} s, {last / baseline:.0f}x the first epochs' "
                f"{baseline:.2f} s: another process is probably using the cores torch computes on "
                f"({threads} thread(s)). The fit is unchanged, only slower.{advice}",
                RuntimeWarning)


class SharedCoresWarning(Callback):
    """Warn when a fit with several torch threads starts on cores other processes are using.

    Torch's threads wait for each other at every operation, so a thread that
    shares its core holds the others back: with one or two busy processes on
    2 cores a 2-thread fit took 3-31× its quiet time, a 1-thread fit at most
    1.8× (``benchmarks/bench_threads.py``). Such a fit is slow from its first
    epoch, which :class:`SlowEpochWarning` cannot see, so this looks at the
    cause instead: during the first optimizer steps it counts the other
    processes' runnable tasks (:func:`~skbvae._threads.competing_tasks`,
    Linux only) and warns once if, every time it looked, some threads had no
    core of their own. Only a warning depends on the machine's load; the fit
    does not.
    """

    def initialize(self):
        self.shortfalls_ = []
        self.last_check_ = None
        return self

    def on_batch_end(self, net, **kwargs):
        if len(self.shortfalls_) >= _CORE_CHECKS or torch.get_num_threads() < 2:
            return
        now = time.perf_counter()
        if self.last_check_ is not None and now - self.last_check_ < _CORE_CHECK_SPACING:
            return
        competing = competing_tasks()
        if competing is None:  # not Linux: nothing to measure
            self.shortfalls_ = [0] * _CORE_CHECKS
            return
        self.last_check_ = now
        self.shortfalls_.append(cores_short(torch.get_num_threads(), competing))
        if len(self.shortfalls_) == _CORE_CHECKS and min(self.shortfalls_) > 0:
            warn_user(
                f"other processes were running on this machine's cores while this fit started, "
                f"leaving {min(self.shortfalls_)} of its {torch.get_num_threads()} torch threads without a "
                "core of their own; torch's threads wait for each other, which made fits 3-31x slower "
                "on a shared machine (benchmarks/bench_threads.py). n_jobs=1 (the default) is at most "
                "1.8x slower there.",
                RuntimeWarning)


def progress(items, *, total, what, verbose, name="skbvae", interval=None):
    """Yield ``items``, showing ``what`` done out of ``total`` when ``verbose`` is 1 or more.

    The same display as :class:`EpochProgress`: a tqdm bar on a terminal, else
    a line on standard error at most every ``interval`` seconds
    (:data:`LOG_INTERVAL_S`) and a last line with the count and the time, so
    a loader over a folder of thousands of records is not silent for minutes.
    """
    if not verbose:
        yield from items
        return
    if stderr_is_terminal():
        with tqdm(total=total, unit=what, desc=name, file=sys.stderr, dynamic_ncols=True) as bar:
            for item in items:
                yield item
                bar.update(1)
        return
    interval = LOG_INTERVAL_S if interval is None else interval
    started = last_line = time.perf_counter()
    done = 0
    for item in items:
        yield item
        done += 1
        now = time.perf_counter()
        if now - last_line >= interval and done < total:
            last_line = now
            left = (now - started) / done * (total - done)
            print(f"{name}: {done}/{total} {what} ({done / total:.0%}), {_duration(now - started)} so far, about "
                  f"{_duration(left)} left", file=sys.stderr, flush=True)
    print(f"{name}: {done} {what} in {_duration(time.perf_counter() - started)}", file=sys.stderr, flush=True)
