"""What a user sees while a β-VAE trains: the epoch table, a progress bar, warnings when the cores are shared.

Built on skorch's callbacks (``PrintLog``, ``ProgressBar``) rather than
written again; this module only adapts them to the estimator's vocabulary.
"""

import statistics
import time

import torch
from skorch.callbacks import Callback, PrintLog

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
