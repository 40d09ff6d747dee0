"""Model files that are safe to open: :func:`dump` and :func:`load` fitted models without pickle.

A pickled (or joblib) model runs code of the sender's choosing when it is
loaded. A ``skbvae.io`` file holds only data, in one zip archive stored
without compression.

A :class:`~skbvae.BetaVAETransformer` is written as three members:

- ``skbvae.json``: a format version, the versions of skbvae, torch,
  scikit-learn and numpy that wrote it, the estimator's parameters, its scalar
  fitted attributes, the training history and what ``fit`` derived from the
  training data (batch size, epochs, capacity ramp, optimizer step count);
- ``arrays.safetensors``: the fitted arrays (scaling, KL per latent, rotation...);
- ``weights.safetensors``: the network's weights (and buffers).

Any other scikit-learn estimator that holds β-VAEs — a fitted ``Pipeline``
(what ``GridSearchCV.best_estimator_`` is), a ``ColumnTransformer``, a
search itself — is written as ``skbvae.json`` (format version 2), the
estimator in skops' format (``estimator.skops``: the well-kept safe format
for scikit-learn objects, https://skops.readthedocs.io) with each β-VAE
replaced by a placeholder, and each β-VAE as a member ``models/K.skbvae``
of the three-member kind above.

:func:`load` parses JSON, safetensors and skops files only (no ``pickle``,
no ``torch.load``, no ``eval``). It rebuilds each β-VAE through its public
parameters, and lets skops rebuild the scikit-learn parts from the types it
trusts (scikit-learn's, numpy's, scipy's); a file that names any other type
is refused with the list of those types, unless the caller trusts them.

Use it to share a model with someone else or to keep one for years; joblib is
fine for your own pipelines on your own machine (it also keeps Adam's moments,
which these files leave out to stay the size of the weights).
"""

import copy
import importlib
import io as _bytes_io
import json
import math
import zipfile
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import sklearn
import torch
from safetensors import SafetensorError
from safetensors.numpy import load as _load_arrays
from safetensors.numpy import save as _save_arrays
from safetensors.torch import load as _load_tensors
from safetensors.torch import save as _save_tensors
from sklearn.utils.validation import check_is_fitted
from skorch.history import History

from . import __version__, _groups
from ._device import resolve_device
from ._history import history_frame
from ._named_factors import FACTOR_ARRAYS
from ._signal_info import signal_info
from ._time_warp import RateWarp, rate_warp_of
from ._training import build_net
from ._transformer import BetaVAETransformer

#: Newest version of the file layout this package writes; :func:`load` reads
#: it and older ones. A lone BetaVAETransformer is still written as version 1
#: (readable by every release); version 2 adds files of other estimators.
FORMAT_VERSION = 2
_MODEL_VERSION = 1

_FORMAT = "skbvae"
_META, _ARRAYS, _WEIGHTS = "skbvae.json", "arrays.safetensors", "weights.safetensors"
_MEMBERS = (_META, _ARRAYS, _WEIGHTS)
_ESTIMATOR, _MODELS = "estimator.skops", "models/"

# Types that skops leaves out of its default trust although they are data or
# scikit-learn's own code, which a file of scikit-learn parts names as a matter
# of course: SimpleImputer keeps a numpy dtype; forests, boosting, neighbours,
# searches and SelectKBest keep scikit-learn's trees, KD-trees, distance
# metrics, splitters, scorers and score functions. A class is trusted when
# scikit-learn defines it; a function only from the modules of metrics and
# feature scores, so that a FunctionTransformer cannot be pointed at, say, a
# loader that reads or writes files.
_TRUSTED_NAMES = frozenset({"numpy.dtype"})
_TRUSTED_FUNCTION_MODULES = ("sklearn.metrics.", "sklearn.feature_selection.")

# Fitted arrays kept in arrays.safetensors (None-valued ones are listed as such
# in the JSON), and scalar fitted attributes kept in the JSON.
_ARRAY_ATTRIBUTES = ("center_", "scale_", "kl_per_latent_", "latent_mean_", "active_latents_",
                     "rotation_", "mixing_", "validation_scores_", *FACTOR_ARRAYS)
_SCALAR_ATTRIBUTES = ("n_iter_", "n_components_", "n_features_in_", "best_validation_score_")


def _json_value(value):
    """A parameter value as JSON: tuples become lists, devices strings, RandomState instances None."""
    if isinstance(value, torch.device):
        return str(value)
    if isinstance(value, np.random.RandomState):
        return None  # the fitted model does not depend on it; a refit then is unseeded
    if isinstance(value, (tuple, list, np.ndarray)):
        return [_json_value(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def dump(estimator, path):
    """Write a fitted :class:`~skbvae.BetaVAETransformer`, or an estimator holding some, to a safe file.

    Parameters
    ----------
    estimator : BetaVAETransformer or scikit-learn estimator
        A fitted β-VAE, or any scikit-learn estimator made of scikit-learn
        parts and β-VAEs: a fitted ``Pipeline`` (``GridSearchCV``'s
        ``best_estimator_``), a ``ColumnTransformer``, a fitted search.
    path : str or path-like
        File to write (conventionally ``*.skbvae``); overwritten if it exists.

    Returns
    -------
    path : pathlib.Path
        The file written.

    Examples
    --------
    >>> import tempfile
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from skbvae import BetaVAETransformer, io
    >>> from skbvae.datasets import make_heartbeats
    >>> X, factors = make_heartbeats(100, random_state=0)
    >>> vae = BetaVAETransformer(latent_dim=3, max_epochs=2, random_state=0).fit(X)
    >>> path = io.dump(vae, tempfile.mkdtemp() + "/beats.skbvae")
    >>> (io.load(path).transform(X) == vae.transform(X)).all()
    np.True_
    >>> pipe = make_pipeline(BetaVAETransformer(latent_dim=3, max_epochs=2, random_state=0),
    ...                      LogisticRegression()).fit(X, factors["st_shift"] > 0)
    >>> path = io.dump(pipe, tempfile.mkdtemp() + "/pipeline.skbvae")
    >>> (io.load(path).predict_proba(X) == pipe.predict_proba(X)).all()
    np.True_
    """
    path = Path(path)
    if isinstance(estimator, BetaVAETransformer):
        path.write_bytes(_model_bytes(estimator))
        return path
    if not hasattr(estimator, "get_params"):
        raise TypeError(f"dump writes a BetaVAETransformer or a scikit-learn estimator holding some; got "
                        f"{type(estimator).__name__}.")
    _write_zip(path, _estimator_members(estimator))
    return path


def _write_zip(path, members):
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def _model_bytes(estimator):
    """The three-member file of one fitted BetaVAETransformer, as bytes."""
    check_is_fitted(estimator)
    net = estimator.net_
    module = getattr(net.module_, "_orig_mod", net.module_)
    arrays = {name: np.ascontiguousarray(getattr(estimator, name)) for name in _ARRAY_ATTRIBUTES
              if getattr(estimator, name) is not None}
    meta = {
        "format": _FORMAT,
        "format_version": _MODEL_VERSION,
        "versions": _versions(),
        "params": _json_params(estimator),
        "attributes": {name: _json_value(getattr(estimator, name)) for name in _SCALAR_ATTRIBUTES},
        "none_attributes": [name for name in _ARRAY_ATTRIBUTES if getattr(estimator, name) is None],
        "array_shapes": {name: list(array.shape) for name, array in arrays.items()},
        "feature_names_in": (estimator.feature_names_in_.tolist()
                             if hasattr(estimator, "feature_names_in_") else None),
        "net": {"n_features": int(estimator.n_features_in_), "batch_size": int(net.batch_size),
                "max_epochs": int(net.max_epochs), "capacity_steps": int(net.criterion_.capacity_steps),
                "shuffle_seed": int(net.shuffle_seed), "optimizer_steps": int(net.optimizer_steps_),
                "rate_warp": rate_warp_of(module)},
        "history": list(net.history),
        "signal_info": getattr(estimator, "signal_info_", None),
        "group_method": getattr(estimator, "group_method_", None),
        "group_selection": getattr(estimator, "group_selection_", None),
        "named_factors": {"names": list(getattr(estimator, "factor_names_", None) or []),
                          "units": dict(getattr(estimator, "factor_units_", None) or {}),
                          "rate_factor": getattr(estimator, "rate_factor_", None)},
    }
    weights = {name: tensor.detach().cpu().contiguous() for name, tensor in module.state_dict().items()}
    buffer = _bytes_io.BytesIO()
    _write_zip(buffer, {_META: json.dumps(meta, indent=1), _ARRAYS: _save_arrays(arrays),
                        _WEIGHTS: _save_tensors(weights)})
    return buffer.getvalue()


def _versions():
    return {"skbvae": __version__, "torch": torch.__version__, "scikit-learn": sklearn.__version__,
            "numpy": np.__version__}


def _json_params(estimator):
    return {name: _json_value(value) for name, value in estimator.get_params(deep=False).items()}


class _SavedModel:
    """Stands in an estimator's skops file for the β-VAE stored as member ``models/<index>.skbvae``."""

    def __init__(self, index):
        self.index = index


def _instances_of(cls, obj):
    """Every instance of ``cls`` reachable from ``obj`` (attributes, lists, tuples, dicts), each once."""
    found, seen, stack = [], set(), [obj]
    while stack:
        item = stack.pop()
        if id(item) in seen or isinstance(item, (str, bytes, int, float, np.ndarray, np.generic)):
            continue
        seen.add(id(item))
        if isinstance(item, cls):
            found.append(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, set, frozenset)):
            stack.extend(item)
        elif hasattr(item, "__dict__"):
            stack.extend(vars(item).values())
    return found


def _estimator_members(estimator):
    """Members of a version-2 file: the estimator in skops' format with placeholders, and its β-VAEs."""
    import skops
    import skops.io

    models = _instances_of(BetaVAETransformer, estimator)
    # A deep copy whose memo maps each β-VAE to its placeholder: every reference
    # to it becomes the placeholder, and the caller's estimator is left alone.
    placeholders = {id(model): _SavedModel(index) for index, model in enumerate(models)}
    stripped = copy.deepcopy(estimator, memo=dict(placeholders))
    members = {}
    described = []
    for index, model in enumerate(models):
        if model.__sklearn_is_fitted__():
            members[f"{_MODELS}{index}.skbvae"] = _model_bytes(model)
            described.append({"file": f"{_MODELS}{index}.skbvae"})
        else:  # an unfitted one (a search's estimator parameter): its parameters are the model
            described.append({"params": _json_params(model)})
    meta = {"format": _FORMAT, "format_version": FORMAT_VERSION,
            "versions": {**_versions(), "skops": skops.__version__},
            "estimator": f"{type(estimator).__module__}.{type(estimator).__qualname__}", "models": described}
    return {_META: json.dumps(meta, indent=1), _ESTIMATOR: skops.io.dumps(stripped), **members}


def _read_members(source, path):
    """Every member's bytes, or a ValueError that says what is wrong with the file.

    ``source`` is the file's path or its bytes; ``path`` names it in messages.
    """
    try:
        with zipfile.ZipFile(_bytes_io.BytesIO(source) if isinstance(source, bytes) else source) as archive:
            names = archive.namelist()
            if len(names) != len(set(names)):
                raise ValueError(f"{path} is not a skbvae model file: a member appears twice in {names}.")
            return {name: archive.read(name) for name in names}
    except zipfile.BadZipFile as error:  # not a zip, truncated, or a corrupt member (CRC)
        raise ValueError(f"{path} is not a readable skbvae model file ({error}).") from error


def _check_members(path, names, expected):
    unexpected = sorted(set(names) - set(expected))
    missing = [name for name in expected if name not in names]
    if unexpected or missing:
        raise ValueError(f"{path} is not a skbvae model file: expected the members {list(expected)}, found "
                         f"{sorted(names)}.")


def _check_meta(path, raw):
    try:
        meta = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path}: {_META} is not valid JSON ({error}).") from error
    if not isinstance(meta, dict) or meta.get("format") != _FORMAT:
        raise ValueError(f"{path}: {_META} does not describe a skbvae model.")
    version = meta.get("format_version")
    if not isinstance(version, int) or version < 1:
        raise ValueError(f"{path}: format_version {version!r} is not a valid version.")
    if version > FORMAT_VERSION:
        written_by = meta.get("versions", {}).get("skbvae", "a newer skbvae")
        raise ValueError(
            f"{path} was written in format version {version} by skbvae {written_by}; this skbvae "
            f"({__version__}) reads up to version {FORMAT_VERSION}. Upgrade skbvae to load it."
        )
    return meta


def _load_safetensors(path, name, raw, loader):
    try:
        return loader(raw)
    except (SafetensorError, ValueError, RuntimeError, OverflowError) as error:
        raise ValueError(f"{path}: member {name} is not a valid safetensors file ({error}).") from error


def load(path, *, device=None, trusted=None):
    """Read a file written by :func:`dump`, without unpickling anything.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`dump`.
    device : str or None, default=None
        Device for the β-VAEs' networks ("cpu", "cuda"...), which also
        becomes their ``device`` parameter. None keeps the stored ``device``
        parameter; pass ``device="cpu"`` to open a model that was fitted with
        ``device="cuda"`` on a machine without a GPU.
    trusted : list of str or None, default=None
        For files of estimators other than a lone β-VAE: types or functions
        (``"module.Name"``) beyond those trusted by default that you allow
        the file to build, e.g. a transformer class of your own. Trusted by
        default: what skops trusts (numpy's and scipy's types, scikit-learn's
        estimators), numpy's dtypes, every class scikit-learn defines (trees,
        KD-trees, distance metrics, splitters, scorers) and the functions of
        ``sklearn.metrics`` and ``sklearn.feature_selection`` (a scorer's
        metric, ``SelectKBest``'s score function). So pipelines, column
        transformers and searches made of scikit-learn parts load with none
        (tested on imputers, scalers, encoders, ``FunctionTransformer`` of a
        numpy ufunc such as ``np.log1p``, feature selection, linear models, SVMs, forests,
        gradient boosting, nearest neighbours and ``GridSearchCV`` with
        ``GroupKFold``). A file that names anything else is refused, with the
        list in the message: your own classes, and functions from anywhere
        else (a ``FunctionTransformer`` of your own function or of a plain numpy
        function such as ``np.round``, which skops does not trust, a custom
        scorer); pass them only for a file whose author you trust.

    Returns
    -------
    estimator : BetaVAETransformer or scikit-learn estimator
        The fitted estimator, as :func:`dump` was given it. Its β-VAEs'
        ``transform``, ``inverse_transform``, ``traverse``, ``sample`` and
        ``score_samples`` give what the dumped ones gave, bit for bit on the
        same machine and device. ``warm_start`` continues their weights,
        history and schedules; Adam's moment estimates are not stored and
        start again from zero.

    Raises
    ------
    ValueError
        If the file is not a skbvae model file, is truncated or corrupt, has a
        member that is not what it should be (nothing in it is executed), has
        arrays or weights whose shapes disagree with its JSON, names types
        that are not trusted, or was written in a newer format than this
        skbvae reads.
    """
    members = _read_members(path, path)
    if _ESTIMATOR in members:
        return _load_estimator(path, members, device, trusted or [])
    return _load_model(path, members, device)


def _trusted_by_default(name):
    """Whether ``name`` ("module.Name") is data or scikit-learn's own class or score function."""
    if name in _TRUSTED_NAMES:
        return True
    module_name, _, attribute = name.rpartition(".")
    if module_name.split(".")[0] != "sklearn" or ".tests" in module_name or "._testing" in module_name:
        return False
    try:
        obj = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError):
        return False
    if getattr(obj, "__module__", None) != module_name:  # a name re-exported from elsewhere
        return False
    if isinstance(obj, type):
        return True
    return callable(obj) and module_name.startswith(_TRUSTED_FUNCTION_MODULES)


def _load_estimator(path, members, device, trusted):
    """An estimator of a version-2 file: skops rebuilds it, the β-VAEs replace their placeholders."""
    import skops.io

    meta = _check_meta(path, members.get(_META, b"{}"))
    try:
        described = list(meta["models"])
        files = [entry["file"] for entry in described if "file" in entry]
    except (KeyError, TypeError) as error:
        raise ValueError(f"{path}: {_META} does not describe a skbvae estimator file ({error}).") from error
    _check_members(path, members, [_META, _ESTIMATOR, *files])
    allowed = {f"{__name__}.{_SavedModel.__qualname__}", *trusted}
    try:
        named = skops.io.get_untrusted_types(data=members[_ESTIMATOR])
    except Exception as error:  # noqa: BLE001 - skops raises many types for a corrupt file
        raise ValueError(f"{path}: member {_ESTIMATOR} is not a valid skops file ({error}).") from error
    allowed |= {name for name in named if _trusted_by_default(name)}
    untrusted = [name for name in named if name not in allowed]
    if untrusted:
        raise ValueError(
            f"{path} names types that are not trusted by default: {untrusted}. Nothing was loaded. If you "
            "trust the file's author, pass them as load(..., trusted=[...]).")
    try:
        stripped = skops.io.loads(members[_ESTIMATOR], trusted=sorted(allowed))
    except Exception as error:  # noqa: BLE001
        raise ValueError(f"{path}: member {_ESTIMATOR} could not be read by skops ({error}).") from error
    models = []
    for index, entry in enumerate(described):
        where = f"{path} (model {index})"
        if "file" in entry:
            models.append(_load_model(where, _read_members(members[entry["file"]], where), device))
        else:
            models.append(_unfitted_model(where, entry["params"], device))
    placeholders = _instances_of(_SavedModel, stripped)
    if sorted(p.index for p in placeholders) != list(range(len(models))):
        raise ValueError(f"{path}: the estimator's placeholders do not match its {len(models)} stored model(s).")
    return copy.deepcopy(stripped, memo={id(p): models[p.index] for p in placeholders})


def _unfitted_model(path, params, device):
    try:
        estimator = BetaVAETransformer(**_params_from_json(params))
        if device is not None:
            estimator.set_params(device=device)
        estimator._validate_params()
    except (TypeError, ValueError) as error:
        raise ValueError(f"{path}: {_META} does not describe a valid BetaVAETransformer ({error}).") from error
    return estimator


def _params_from_json(params):
    # JSON has no tuples; hidden_layer_sizes is the one sequence parameter.
    return {name: tuple(value) if isinstance(value, list) else value for name, value in params.items()}


def _load_model(path, members, device):
    """One BetaVAETransformer from the members of a three-member file."""
    _check_members(path, members, _MEMBERS)
    meta = _check_meta(path, members[_META])
    arrays = _load_safetensors(path, _ARRAYS, members[_ARRAYS], _load_arrays)
    weights = _load_safetensors(path, _WEIGHTS, members[_WEIGHTS], _load_tensors)
    try:
        params, attributes, net_meta = meta["params"], meta["attributes"], meta["net"]
        estimator = BetaVAETransformer(**_params_from_json(params))
        if device is not None:
            estimator.set_params(device=device)
        estimator._validate_params()
        n_features = int(net_meta["n_features"])
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"{path}: {_META} does not describe a valid BetaVAETransformer ({error}).") from error

    _check_names(path, arrays, attributes, meta)
    for name, shape in meta["array_shapes"].items():
        if name not in arrays or list(arrays[name].shape) != shape:
            found = None if name not in arrays else list(arrays[name].shape)
            raise ValueError(f"{path}: array {name} has shape {found}, but {_META} says {shape}.")
    _check_shapes(path, arrays, attributes, n_features)

    # The network is rebuilt from the estimator's parameters; what fit derived
    # from the number of training rows (batch size, epochs, capacity ramp) is
    # then restored, so build_net only needs a row count it accepts.
    warp = _rate_warp(path, net_meta.get("rate_warp"), arrays)  # files of earlier releases have none
    net = build_net(estimator, n_features=n_features, n_samples=2 * net_meta["batch_size"] + 2,
                    hidden=estimator._check_hidden_layer_sizes(), device=resolve_device(estimator.device),
                    seed=net_meta["shuffle_seed"], rate_warp=warp)
    net.set_params(batch_size=net_meta["batch_size"], max_epochs=net_meta["max_epochs"],
                   criterion__capacity_steps=net_meta["capacity_steps"])
    net.initialize()
    module = getattr(net.module_, "_orig_mod", net.module_)
    try:
        module.load_state_dict(weights, strict=True)
    except RuntimeError as error:
        raise ValueError(f"{path}: the weights do not fit the network that {_META} describes ({error}).") \
            from error
    net.history = History(meta["history"])
    net.optimizer_steps_ = int(net_meta["optimizer_steps"])

    estimator.net_ = net
    for name, value in arrays.items():
        setattr(estimator, name, value)
    for name in meta["none_attributes"]:
        setattr(estimator, name, None)
    for name, value in attributes.items():
        setattr(estimator, name, value)
    if meta["feature_names_in"] is not None:
        estimator.feature_names_in_ = np.asarray(meta["feature_names_in"], dtype=object)
    estimator._n_features_out = estimator.n_components_
    estimator.history_ = history_frame(net.history)
    # Files of earlier releases have none; a malformed one is dropped, as fit drops it.
    estimator.signal_info_ = signal_info(SimpleNamespace(attrs={"signal": meta.get("signal_info")}))
    group_method = meta.get("group_method")  # files of earlier releases have none
    estimator.group_method_ = group_method if group_method in _groups.GROUP_METHODS else None
    selection = meta.get("group_selection")
    estimator.group_selection_ = selection if isinstance(selection, dict) else None
    _set_named_factors(path, estimator, meta.get("named_factors") or {"names": [], "units": {}})
    return estimator


def _rate_warp(path, spec, arrays):
    """The :class:`~skbvae._time_warp.RateWarp` arguments a file's network was built with, or None."""
    if spec is None:
        return None
    keys = set(RateWarp.ARGUMENTS)
    if not (isinstance(spec, dict) and set(spec) == keys and "center_" in arrays and "scale_" in arrays):
        raise ValueError(f"{path}: {_META}'s rate_warp is not a rate warp's arguments (keys {sorted(keys)}).")
    return {**spec, "center": arrays["center_"], "scale": arrays["scale_"]}


def _set_named_factors(path, estimator, named):
    """``factor_names_`` and ``factor_units_`` from the JSON (files of earlier releases have none)."""
    names, units = named.get("names"), named.get("units")
    if not (isinstance(names, list) and all(isinstance(n, str) for n in names) and isinstance(units, dict)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in units.items())):
        raise ValueError(f"{path}: {_META}'s named_factors is not a list of names and a dict of units.")
    estimator.factor_names_, estimator.factor_units_ = names, units
    rate_factor = named.get("rate_factor")
    if rate_factor is not None and rate_factor not in names:
        raise ValueError(f"{path}: {_META}'s rate_factor {rate_factor!r} is not one of the named factors {names}.")
    estimator.rate_factor_ = rate_factor
    for name in FACTOR_ARRAYS:
        if not hasattr(estimator, name):
            setattr(estimator, name, None)
    arrays = [getattr(estimator, name) for name in FACTOR_ARRAYS]
    if names and any(a is None or a.shape != (len(names),) for a in arrays):
        raise ValueError(f"{path}: the named factors' arrays do not match their {len(names)} name(s).")


def _check_names(path, arrays, attributes, meta):
    """Only the fitted attributes this format defines may be set on the estimator."""
    names = [*arrays, *meta["array_shapes"], *meta["none_attributes"]]
    unknown = sorted({name for name in names if name not in _ARRAY_ATTRIBUTES}
                     | {name for name in attributes if name not in _SCALAR_ATTRIBUTES})
    if unknown:
        raise ValueError(f"{path}: unknown fitted attributes {unknown}; this is not a file dump() wrote.")
    for name, value in attributes.items():
        if not (value is None or isinstance(value, (int, float))) or isinstance(value, bool):
            raise ValueError(f"{path}: fitted attribute {name} must be a number; got {value!r}.")


def _check_shapes(path, arrays, attributes, n_features):
    """The fitted arrays must agree with each other and with the network's size."""
    n_components = attributes.get("n_components_")
    expected = {"center_": (n_features,), "scale_": (n_features,)}
    if isinstance(n_components, int):
        expected["active_latents_"] = (n_components,)
        expected["rotation_"] = expected["mixing_"] = (n_components, n_components)
    for name, shape in expected.items():
        if name in arrays and arrays[name].shape != shape:
            raise ValueError(
                f"{path}: array {name} has shape {arrays[name].shape}, but a model of "
                f"{n_features} features and {n_components} components needs {shape}."
            )
    if attributes.get("n_features_in_") != n_features:
        raise ValueError(f"{path}: n_features_in_ is {attributes.get('n_features_in_')}, the network has "
                         f"{n_features} inputs.")
    for name in ("center_", "scale_"):
        if name not in arrays:
            raise ValueError(f"{path}: array {name} is missing.")
    if not math.isfinite(float(np.sum(arrays["scale_"]))):
        raise ValueError(f"{path}: array scale_ is not finite.")


__all__ = ["FORMAT_VERSION", "dump", "load"]
