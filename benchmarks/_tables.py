"""The summary table the disentanglement benchmarks print."""


def mean_table(results):
    """Means over seeds per data set and model, with MIG against the better linear baseline of the same data.

    ``results``: one row per fit with columns ``data``, ``model`` ("PCA" and
    "FastICA" for the baselines), ``seed`` and the scores.
    """
    table = results.groupby(["data", "model"], sort=False).mean(numeric_only=True).drop(columns="seed")
    # Measured in the same run, on the same rows.
    linear = table[table.index.get_level_values("model").isin(["PCA", "FastICA"])]["MIG"].groupby("data").max()
    table["MIG / best linear"] = table["MIG"] / linear.reindex(table.index.get_level_values("data")).to_numpy()
    return table
