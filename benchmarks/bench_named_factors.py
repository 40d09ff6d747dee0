"""Named factors on patients never seen: read-out, exclusivity, edits measured on the decoded beat, cost.

``BetaVAETransformer(latent_dim=10).fit(X, factors=F)``, ``F`` the beat features the
package measures itself (heart rate, R amplitude, QRS duration, ST level, T amplitude,
PR and QT intervals; NaN where not measured), against:

- ``MLP``: a supervised ``MLPRegressor`` (256, 128) from the standardised raw beat
  to the standardised features (the ceiling of what the beat says);
- ``codes``: the same β-VAE without factors, its codes read out linearly (Ridge)
  on the training patients.

Reported per data set, median over folds × seeds, with the IQR:

- ``read-out``: Spearman between each factor and the named model's
  ``predict_factors`` on the held-out patients (the MLP's and the linear
  read-out of the unsupervised codes beside it);
- ``free |rho|``: the largest |Spearman| of a free latent with any factor;
  ``within records``: the same on the held-out beats' deviations from their
  own record's medians (real sets), which leaves out the differences between
  the few held-out patients; ``chance``: the same statistic where the free latents follow
  no factor between records (each record's free-code medians given to another held-out
  record, its beats' deviations kept; median of 20 draws), the level the pooled figure
  reaches from the held-out patients' order alone;
- ``MIG``: of the named model's codes against the measured features, and of
  FastICA(10) of the beats;
- ``ELBO``: held-out β = 1 ELBO per beat (nats) of the named model and of the one without
  factors, their ratio, and the change ``(named - plain) / |plain|``, which keeps its sign when the
  ELBO is negative (a fixed decoder variance on noisy records): the target "within 2 %" is a change
  of -0.02 or more;
- ``fit``: fit time, named / without factors;
- ``edit``: for each factor, 200 held-out beats (evenly spaced over the held-out
  records) edited by +1 and -1 training SD (``edit``; ``--edit-scale robust``: its robust SD,
  1.4826 MAD), decoded, and measured again (:func:`skbvae.ecg.measure_beat_windows`):
  the median measured change over the requested one, and the largest median
  movement of another factor, in its SD; once as the calibration's step gives it
  (open loop) and once with ``edit(measure=...)``, which corrects each beat's step
  until its decoded beat measures as asked; medians over the beats where the factor
  measures, and the share that does (a heart-rate edit that moves the next R past the
  window's end has no rate to measure).

Data sets: ``synthetic`` (``make_heartbeats``, 3,000 beats to fit and 1,000 held
out, one split per seed, features measured on the windows), ``ludb`` (200
patients, lead II, GroupKFold(5)), ``ds1`` (MIT-BIH DS1, lead MLII, annotated
beats, at most ``--per-record`` beats per record, GroupKFold(5)); features of the
real sets are the loader's (``features=True``), measured on the continuous record.

    python benchmarks/bench_named_factors.py [--datasets synthetic ludb ds1] [--seeds 0 1 2] [--folds 5]
                                             [--per-record 400] [--out results.csv]
                                             [--params '{"architecture": "conv1d", "decoder_variance": "fixed"}']
                                             [--only-folds 0] [--edit-scale robust] [--baseline record|median]
    python benchmarks/bench_named_factors.py --datasets ludb ds1 --across --seeds 0 [--baseline record|median]

``--across``: fit on all of LUDB and evaluate on DS1, then the other way (one "fold" per seed; the
chance level and "within records" on the other set's records). ``--baseline``: the loader's
``baseline`` for the real sets; ``record`` takes each record's median level out, ``median`` each
window's median (the windows otherwise keep the record's baseline offset: DS1's MLII sits 0.35 mV
low in the median, LUDB's lead II near 0).

``--params``: estimator parameters of both β-VAEs, named and plain (JSON), e.g. the
convolutional decoder with a fixed variance that draws the next R for heart-rate edits, or
``{"rate_factor": null}`` for the named model without the rate warp (the default,
``rate_factor="auto"``, warps by the heart rate: the training rows carry their timing here; the
model without factors never has a warp).
"""

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from sklearn.decomposition import FastICA
from sklearn.linear_model import Ridge
from sklearn.model_selection import GroupKFold
from sklearn.neural_network import MLPRegressor
from sklearn.preprocessing import StandardScaler

from skbvae import BetaVAETransformer
from skbvae.datasets import load_wfdb_heartbeats, make_heartbeats
from skbvae.ecg import measure_beat_windows
from skbvae.metrics import mutual_info_gap

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
FACTORS = ["heart_rate", "r_amplitude", "qrs_duration", "st_level", "t_amplitude", "pr_interval", "qt_interval"]
WINDOW = dict(fs=125.0, start=-0.25)  # the loader's and make_heartbeats' default window
N_EDITED = 200


def _measure(signals):
    """The features of decoded beat windows (``edit(measure=...)``), in the windows of this run."""
    return measure_beat_windows(signals, **WINDOW)[FACTORS]


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def splits(name, folds, seeds, per_record, window=(0.25, 1.25), baseline="keep"):
    """(seed, fold, X_train, F_train, X_test, F_test, training and held-out records or None) of a data set."""
    if name == "synthetic":
        for seed in seeds:
            X, _ = make_heartbeats(4000, random_state=seed)
            F = _measure(X)
            yield seed, 0, X[:3000], F.iloc[:3000], X[3000:], F.iloc[3000:], None, None
        return
    X, F, groups = whole_set(name, per_record, window, baseline)
    for seed in seeds:
        for fold, (train, test) in enumerate(GroupKFold(folds).split(X, groups=groups)):
            yield seed, fold, X[train], F.iloc[train], X[test], F.iloc[test], groups[train], groups[test]


def whole_set(name, per_record, window=(0.25, 1.25), baseline="keep"):
    """(X, F, records) of a real set: LUDB lead II, or DS1's MLII at most ``per_record`` beats per record."""
    if name == "ds1":
        X, meta = _quiet(load_wfdb_heartbeats, SHARED / "mitdb", annotations=True, features=True, window=window,
                         baseline=baseline, n_jobs=2)
        keep = meta.groupby("record").cumcount().to_numpy() < per_record  # the first beats of each record
        X, meta = X[keep], meta[keep].reset_index(drop=True)
    else:
        X, meta = _quiet(load_wfdb_heartbeats, SHARED / "ludb", lead="ii", features=True, errors="warn",
                         window=window, baseline=baseline, n_jobs=2)
    return X, meta[FACTORS], meta["record"].to_numpy()


def across(names, seeds, per_record, window=(0.25, 1.25), baseline="keep"):
    """(seed, 0, X_train, F_train, X_test, F_test, records, records): all of one real set, then the other."""
    sets = {name: whole_set(name, per_record, window, baseline) for name in names}
    for seed in seeds:
        for source, target in ((names[0], names[1]), (names[1], names[0])):
            (X_s, F_s, g_s), (X_t, F_t, g_t) = sets[source], sets[target]
            yield f"{source}->{target}", seed, 0, X_s, F_s, X_t, F_t, g_s, g_t


def _spearman(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    known = np.isfinite(a) & np.isfinite(b)
    return spearmanr(a[known], b[known])[0] if known.sum() > 5 else np.nan


def _mlp_readout(X_train, F_train, X_test, seed):
    scale = StandardScaler().fit(X_train)
    targets = (F_train - F_train.mean()) / F_train.std()
    known = targets.notna().all(axis=1).to_numpy()
    mlp = MLPRegressor(hidden_layer_sizes=(256, 128), early_stopping=True, max_iter=200, random_state=seed)
    mlp.fit(scale.transform(X_train[known]), targets[known].to_numpy())
    return pd.DataFrame(mlp.predict(scale.transform(X_test)), columns=F_train.columns)


def _codes_readout(Z_train, F_train, Z_test):
    out = {}
    for name in F_train.columns:
        known = F_train[name].notna().to_numpy()
        out[name] = Ridge(1e-3).fit(Z_train[known], F_train[name][known]).predict(Z_test)
    return pd.DataFrame(out)


def _edits(vae, X_test, sd):
    """Per factor, ±1 SD edits: open loop and measured (``edit(measure=...)``).

    Each: the median measured change over the requested one, and the largest median movement of
    another factor, in its SD.
    """
    # Spread over the held-out rows, which come record by record: the first 200 were one patient's.
    beats = X_test[np.linspace(0, len(X_test) - 1, min(N_EDITED, len(X_test))).astype(int)]
    plain = _measure(vae.inverse_transform(vae.transform(beats)))
    rows = {}
    for name in FACTORS:
        result = {}
        for how in ("open", "measured"):
            ratios, others, found = [], [], []
            for sign in (1.0, -1.0):
                if how == "open":
                    changes = _measure(vae.edit(beats, **{name: sign * sd[name]})) - plain
                else:  # edit measured the returned beats against the same unedited decoded ones
                    changes = vae.edit(beats, measure=_measure, **{name: sign * sd[name]})[1]
                moved = changes.median()  # over the beats where the factor measures (a next R in the window)
                ratios.append(moved[name] / (sign * sd[name]))
                others.append(max(abs(moved[m]) / sd[m] for m in FACTORS if m != name))
                found.append(changes[name].notna().mean())
            result[how] = (float(np.nanmedian(ratios)), float(np.nanmax(others)))
            result[f"{how} found"] = float(np.mean(found))
            result[f"{how} by sign"] = ratios
        rows[name] = result
    return rows


def _edit_sizes(F_train, edit_scale):
    """Per factor, the size of a "1 SD" edit: the training SD, or the robust SD (1.4826 MAD).

    The SD of an interval with a long tail (LUDB's wide QRS complexes, DS1's long PR of blocks) is
    wider than its typical spread: a -1 SD QRS edit asks LUDB's median beat for 65 ms, which 7 % of
    beats reach (``benchmarks/README.md``).
    """
    if edit_scale == "sd":
        return F_train.std()
    return 1.4826 * (F_train - F_train.median()).abs().median()


def _chance_free_rho(Z_free, F_test, groups_test, seed, n_draws=20):
    """``free |rho|`` where the free latents follow no factor between records: its median over draws.

    Each held-out record keeps its free codes' deviations from its own medians, and takes another
    held-out record's medians (the records' medians permuted). With a few held-out patients (DS1:
    4-5 per fold) beats pooled over them correlate by the patients' order alone; this is that level.
    """
    rng = np.random.default_rng(seed)
    codes = pd.DataFrame(Z_free)
    medians = codes.groupby(groups_test).median()
    deviations = (codes - medians.loc[groups_test].to_numpy()).to_numpy()
    F_test = F_test.reset_index(drop=True)
    draws = []
    for _ in range(n_draws):
        moved = pd.Series(rng.permutation(medians.index), index=medians.index)
        Z_drawn = deviations + medians.loc[moved.loc[groups_test]].to_numpy()
        draws.append(max(abs(_spearman(Z_drawn[:, j], F_test[f])) for f in FACTORS for j in range(Z_free.shape[1])))
    return float(np.median(draws))


def evaluate(name, seed, fold, X_train, F_train, X_test, F_test, groups_train=None, groups_test=None,
             with_groups=False, params=None, edit_scale="sd"):
    by_record = {"groups": groups_train} if with_groups and groups_train is not None else {}
    started = time.perf_counter()
    params = {"latent_dim": 10, **(params or {})}
    timed = pd.DataFrame(X_train)  # the rows' timing, which rate_factor needs
    timed.attrs["signal"] = {"fs": WINDOW["fs"], "start": WINDOW["start"]}
    named = BetaVAETransformer(random_state=seed, **params).fit(timed, factors=F_train, **by_record)
    named_s = time.perf_counter() - started
    started = time.perf_counter()
    plain = BetaVAETransformer(random_state=seed, **{**params, "rate_factor": None}).fit(X_train, **by_record)
    plain_s = time.perf_counter() - started
    read = named.predict_factors(X_test)
    mlp = _mlp_readout(X_train, F_train, X_test, seed)
    codes = _codes_readout(plain.transform(X_train), F_train, plain.transform(X_test))
    Z = named.transform(X_test)
    free = [max(abs(_spearman(Z[:, j], F_test[f])) for f in FACTORS) for j in range(len(FACTORS), Z.shape[1])]
    within = chance = np.nan
    if groups_test is not None:  # the same on each held-out record's deviations from its own medians
        Z_dev = pd.DataFrame(Z).groupby(groups_test).transform(lambda c: c - c.median()).to_numpy()
        F_dev = F_test.reset_index(drop=True).groupby(groups_test).transform(lambda c: c - c.median())
        within = max(abs(_spearman(Z_dev[:, j], F_dev[f])) for f in FACTORS for j in range(len(FACTORS), Z.shape[1]))
        chance = _chance_free_rho(Z[:, len(FACTORS):], F_test, groups_test, seed)
    ica = FastICA(10, random_state=seed, max_iter=1000).fit(X_train)
    row = {"data": name, "seed": seed, "fold": fold, "n_train": len(X_train), "n_test": len(X_test),
           "free |rho|": max(free) if free else np.nan, "free |rho| within records": within,
           "free |rho| chance": chance,
           "MIG": mutual_info_gap(Z, F_test.reset_index(drop=True)),
           "MIG FastICA": mutual_info_gap(ica.transform(X_test), F_test.reset_index(drop=True)),
           "ELBO named": (elbo_named := named.score(X_test)), "ELBO plain": (elbo_plain := plain.score(X_test)),
           "ELBO named/plain": elbo_named / elbo_plain,
           "ELBO change": (elbo_named - elbo_plain) / abs(elbo_plain),
           "fit named/plain": named_s / plain_s,
           "group method named/plain": f"{getattr(named, 'group_method_', None)}/{getattr(plain, 'group_method_', None)}"}
    for f in FACTORS:
        row[f"read {f}"] = _spearman(read[f], F_test[f])
        row[f"MLP {f}"] = _spearman(mlp[f], F_test[f])
        row[f"codes {f}"] = _spearman(codes[f], F_test[f])
    for f, result in _edits(named, X_test, _edit_sizes(F_train, edit_scale)).items():
        row[f"edit {f}"], row[f"other {f}"] = result["open"]
        row[f"measured edit {f}"], row[f"measured other {f}"] = result["measured"]
        row[f"measured edit found {f}"] = result["measured found"]
        row[f"measured edit +1 {f}"], row[f"measured edit -1 {f}"] = result["measured by sign"]
    return row


def _median_iqr(values):
    values = pd.Series(values).dropna()
    if values.empty:
        return "n/a"
    return f"{values.median():.2f} ({values.quantile(0.25):.2f}-{values.quantile(0.75):.2f})"


def summarise(results):
    lines = []
    for name, rows in results.groupby("data", sort=False):
        lines.append(f"\n### {name}: {len(rows)} fold-seeds, {int(rows['n_train'].median())} beats to fit, "
                     f"{int(rows['n_test'].median())} held out\n")
        lines.append("| factor | read-out (named) | MLP | codes (linear) | edit measured/requested | other factors "
                     "moved (SD) | edit(measure=): measured/requested | other factors moved (SD) |")
        lines.append("| --- | --: | --: | --: | --: | --: | --: | --: |")
        for f in FACTORS:
            lines.append(f"| {f} | {_median_iqr(rows[f'read {f}'])} | {_median_iqr(rows[f'MLP {f}'])} | "
                         f"{_median_iqr(rows[f'codes {f}'])} | {_median_iqr(rows[f'edit {f}'])} | "
                         f"{_median_iqr(rows[f'other {f}'])} | {_median_iqr(rows[f'measured edit {f}'])} | "
                         f"{_median_iqr(rows[f'measured other {f}'])} |")
        lines.append("")
        if "measured edit found heart_rate" in rows:
            found = ", ".join(f"{f} {rows[f'measured edit found {f}'].median():.2f}" for f in FACTORS)
            lines.append(f"- edited beats that measure (edit(measure=), median share): {found}")
        if "measured edit +1 heart_rate" in rows:  # newer than some saved runs
            signs = ", ".join(f"{f} {rows[f'measured edit +1 {f}'].median():.2f} / "
                              f"{rows[f'measured edit -1 {f}'].median():.2f}" for f in FACTORS)
            lines.append(f"- edit(measure=) of +1 / -1, measured/requested: {signs}")
        for column in ("free |rho|", "free |rho| within records", "free |rho| chance", "MIG", "MIG FastICA",
                       "ELBO named", "ELBO plain", "ELBO named/plain", "ELBO change", "fit named/plain"):
            if column in rows:  # "chance" is newer than some saved runs
                lines.append(f"- {column}: {_median_iqr(rows[column])}")
        if "group method named/plain" in rows and rows["group method named/plain"].ne("None/None").any():
            lines.append(f"- group method named/plain: {rows['group method named/plain'].value_counts().to_dict()}")
    return "\n".join(lines)


def _runs(args):
    """(name, seed, fold, X_train, F_train, X_test, F_test, records, records) of each evaluation asked for."""
    window = tuple(args.window)
    WINDOW["start"] = -args.window[0]
    if args.across:
        yield from across(args.datasets, args.seeds, args.per_record, window, args.baseline)
        return
    for name in args.datasets:
        if name == "synthetic" and window != (0.25, 1.25):
            raise SystemExit("--window applies to the real sets; make_heartbeats has the default window")
        for seed, fold, *data in splits(name, args.folds, args.seeds, args.per_record, window, args.baseline):
            yield name, seed, fold, *data


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="*", default=["synthetic", "ludb", "ds1"])
    parser.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--per-record", type=int, default=400)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--groups", action="store_true",
                        help="fit both models with groups=record (the real sets; fit chooses prior or rotation)")
    parser.add_argument("--window", nargs=2, type=float, default=[0.25, 1.25], metavar=("BEFORE", "AFTER"),
                        help="seconds before and after R of the real sets' beat windows (default: the loader's)")
    parser.add_argument("--only-folds", nargs="*", type=int, default=None, metavar="FOLD",
                        help="run these folds of each seed only (a costly decoder: one fold at a time)")
    parser.add_argument("--params", type=json.loads, default={},
                        help='estimator parameters of both models, as JSON: \'{"architecture": "conv1d"}\'')
    parser.add_argument("--edit-scale", choices=["sd", "robust"], default="sd",
                        help="size of the ±1 edits: the training SD (issue 35's reading) or the robust SD "
                             "(1.4826 MAD)")
    parser.add_argument("--across", action="store_true",
                        help="the two real sets of --datasets: fit on all of one, evaluate on the other, both ways")
    parser.add_argument("--baseline", choices=["keep", "record", "median"], default="keep",
                        help="the loader's baseline for the real sets: record takes each record's level out, median each window's")
    args = parser.parse_args()
    if args.across and sorted(args.datasets) != ["ds1", "ludb"]:
        raise SystemExit("--across needs --datasets ludb ds1")
    rows = []
    for name, seed, fold, *data in _runs(args):
        if args.only_folds is not None and fold not in args.only_folds:
            continue
        started = time.perf_counter()
        rows.append(_quiet(evaluate, name, seed, fold, *data, with_groups=args.groups, params=args.params,
                           edit_scale=args.edit_scale))
        print(f"{name} seed {seed} fold {fold}: {time.perf_counter() - started:.0f} s", flush=True)
        if args.out:
            pd.DataFrame(rows).to_csv(args.out, index=False)
    print(summarise(pd.DataFrame(rows)))


if __name__ == "__main__":
    main()
