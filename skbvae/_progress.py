"""What a user sees while a β-VAE trains: the epoch table, a progress bar, a warning when epochs slow down.

Built on skorch's callbacks (``PrintLog``, ``ProgressBar``) rather than
written again; this module only adapts them to the estimator's vocabulary.
"""

import statistics
import warnings

import torch
from skorch.callbacks import Callback, PrintLog

#: An epoch this many times slower than the median of the first
#: :data:`_BASELINE_EPOCHS` epochs (and longer than :data:`_MIN_SLOW_SECONDS`)
#: makes :class:`SlowEpochWarning` speak. Two cores shared with another busy
#: process made epochs ~50× slower; normal jitter is well under 2×.
SLOWDOWN_FACTOR = 5.0
_BASELINE_EPOCHS = 3
_MIN_SLOW_SECONDS = 1.0


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
            warnings.warn(
                f"epoch {len(durations)} took {last:.1f} s, {last / baseline:.0f}x the first epochs' "
                f"{baseline:.2f} s: another process is probably using the cores torch computes on "
                f"({torch.get_num_threads()} threads). The fit is unchanged, only slower; see "
                "torch.set_num_threads or free the machine.",
                RuntimeWarning, stacklevel=2,
            )
