"""The training history a fitted estimator keeps: a DataFrame that also answers skorch's ``history[-1, "loss"]``."""

from numbers import Integral

import pandas as pd

# skorch's names of the per-epoch entries, and the estimator's.
_COLUMNS = {"epoch": "epoch", "train_loss": "loss", "reconstruction": "reconstruction", "kl": "kl",
            "capacity": "capacity", "dur": "dur"}


class TrainingHistory(pd.DataFrame):
    """One row per epoch, as a pandas DataFrame; ``history[epoch, column]`` reads as in skorch.

    ``history_["loss"]`` and every other DataFrame idiom work as usual. A
    tuple whose first item is an epoch position (an int, negative from the
    end) or a slice reads like skorch's ``net.history``:
    ``history_[-1, "loss"]`` is the last epoch's loss,
    ``history_[:, "kl"]`` the list of every epoch's KL, and
    ``history_[-1, ["loss", "kl"]]`` a tuple. Columns are named as in
    ``BetaVAETransformer.history_`` (skorch's ``train_loss`` is ``loss``).

    Examples
    --------
    >>> from skbvae._history import TrainingHistory
    >>> history = TrainingHistory({"epoch": [1, 2], "loss": [3.0, 2.0]})
    >>> history[-1, "loss"], history[:, "loss"], float(history["loss"].min())
    (2.0, [3.0, 2.0], 2.0)
    """

    @property
    def _constructor(self):
        return TrainingHistory

    def __getitem__(self, key):
        if isinstance(key, tuple) and len(key) == 2 and isinstance(key[0], (Integral, slice)) \
                and not isinstance(key[0], bool):
            rows, columns = key
            names = [columns] if isinstance(columns, str) else list(columns)
            missing = [name for name in names if name not in self.columns]
            if missing:
                raise KeyError(f"history_ has no column {missing[0]!r}; its columns are {list(self.columns)} "
                               "(skorch's 'train_loss' is 'loss' here).")
            selected = self.iloc[rows][names]
            if isinstance(rows, slice):
                values = selected.to_numpy().tolist()
                return [row[0] for row in values] if isinstance(columns, str) else [tuple(row) for row in values]
            values = tuple(selected.tolist())
            return values[0] if isinstance(columns, str) else values
        return super().__getitem__(key)


def history_frame(history):
    """The estimator's ``history_`` from a skorch ``History``: skorch's names mapped, numbers as floats.

    ``valid_loss`` is a column only when some epoch ran with early stopping
    (NaN in the others, e.g. before a warm start).
    """
    columns = dict(_COLUMNS)
    if any("valid_loss" in row for row in history):
        columns["valid_loss"] = "valid_loss"
    frame = TrainingHistory([{new: row.get(old) for old, new in columns.items()} for row in history],
                            columns=list(columns.values()))
    return frame.astype({name: float for name in columns.values() if name != "epoch"})
