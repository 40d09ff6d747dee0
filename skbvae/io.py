"""Model files that are safe to open: :func:`dump` and :func:`load` a fitted estimator without pickle.

A pickled (or joblib) model runs code of the sender's choosing when it is
loaded. A ``skbvae.io`` file holds only data: one zip archive, stored without
compression, with three members:

- ``skbvae.json``: a format version, the versions of skbvae, torch,
  scikit-learn and numpy that wrote it, the estimator's parameters, its scalar
  fitted attributes, the training history and what ``fit`` derived from the
  training data (batch size, epochs, capacity ramp, optimizer step count);
- ``arrays.safetensors``: the fitted arrays (scaling, KL per latent, rotation...);
- ``weights.safetensors``: the network's weights (and buffers).

:func:`load` parses JSON and safetensors only (no ``pickle``, no
``torch.load``, no ``eval``) and rebuilds the estimator through its public
parameters, so what it returns is an ordinary fitted
:class:`~skbvae.BetaVAETransformer`.

Use it to share a model with someone else or to keep one for years; joblib is
fine for your own pipelines on your own machine (it also keeps Adam's moments,
which these files leave out to stay the size of the weights).
"""

import json
import math
import zipfile
from pathlib import Path

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

from . import __version__
from ._device import resolve_device
from ._history import history_frame
from ._training import build_net
from ._transformer import BetaVAETransformer

#: Version of the file layout this package writes; :func:`load` reads this
#: version and older ones.
FORMAT_VERSION = 1

_FORMAT = "skbvae"
_META, _ARRAYS, _WEIGHTS = "skbvae.json", "arrays.safetensors", "weights.safetensors"
_MEMBERS = (_META, _ARRAYS, _WEIGHTS)

# Fitted arrays kept in arrays.safetensors (None-valued ones are listed as such
# in the JSON), and scalar fitted attributes kept in the JSON.
_ARRAY_ATTRIBUTES = ("center_", "scale_", "kl_per_latent_", "latent_mean_", "active_latents_",
                     "rotation_", "mixing_", "validation_scores_")
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
    """Write a fitted :class:`~skbvae.BetaVAETransformer` to a file that is safe to open.

    Parameters
    ----------
    estimator : BetaVAETransformer
        A fitted estimator.
    path : str or path-like
        File to write (conventionally ``*.skbvae``); overwritten if it exists.

    Returns
    -------
    path : pathlib.Path
        The file written.

    Examples
    --------
    >>> import tempfile
    >>> from skbvae import BetaVAETransformer, io
    >>> from skbvae.datasets import make_heartbeats
    >>> X, _ = make_heartbeats(100, random_state=0)
    >>> vae = BetaVAETransformer(latent_dim=3, max_epochs=2, random_state=0).fit(X)
    >>> path = io.dump(vae, tempfile.mkdtemp() + "/beats.skbvae")
    >>> (io.load(path).transform(X) == vae.transform(X)).all()
    np.True_
    """
    if not isinstance(estimator, BetaVAETransformer):
        raise TypeError(f"dump writes a BetaVAETransformer; got {type(estimator).__name__}.")
    check_is_fitted(estimator)
    net = estimator.net_
    module = getattr(net.module_, "_orig_mod", net.module_)
    arrays = {name: np.ascontiguousarray(getattr(estimator, name)) for name in _ARRAY_ATTRIBUTES
              if getattr(estimator, name) is not None}
    meta = {
        "format": _FORMAT,
        "format_version": FORMAT_VERSION,
        "versions": {"skbvae": __version__, "torch": torch.__version__, "scikit-learn": sklearn.__version__,
                     "numpy": np.__version__},
        "params": {name: _json_value(value) for name, value in estimator.get_params(deep=False).items()},
        "attributes": {name: _json_value(getattr(estimator, name)) for name in _SCALAR_ATTRIBUTES},
        "none_attributes": [name for name in _ARRAY_ATTRIBUTES if getattr(estimator, name) is None],
        "array_shapes": {name: list(array.shape) for name, array in arrays.items()},
        "feature_names_in": (estimator.feature_names_in_.tolist()
                             if hasattr(estimator, "feature_names_in_") else None),
        "net": {"n_features": int(estimator.n_features_in_), "batch_size": int(net.batch_size),
                "max_epochs": int(net.max_epochs), "capacity_steps": int(net.criterion_.capacity_steps),
                "shuffle_seed": int(net.shuffle_seed), "optimizer_steps": int(net.optimizer_steps_)},
        "history": list(net.history),
    }
    weights = {name: tensor.detach().cpu().contiguous() for name, tensor in module.state_dict().items()}
    path = Path(path)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr(_META, json.dumps(meta, indent=1))
        archive.writestr(_ARRAYS, _save_arrays(arrays))
        archive.writestr(_WEIGHTS, _save_tensors(weights))
    return path


def _read_members(path):
    """The three members' bytes, or a ValueError that says what is wrong with the file."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            unexpected = sorted(set(names) - set(_MEMBERS))
            missing = [name for name in _MEMBERS if name not in names]
            if unexpected or missing or len(names) != len(set(names)):
                raise ValueError(
                    f"{path} is not a skbvae model file: expected the members {list(_MEMBERS)}, "
                    f"found {names}."
                )
            return {name: archive.read(name) for name in _MEMBERS}
    except zipfile.BadZipFile as error:  # not a zip, truncated, or a corrupt member (CRC)
        raise ValueError(f"{path} is not a readable skbvae model file ({error}).") from error


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


def load(path, *, device=None):
    """Read a model written by :func:`dump`, without unpickling anything.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`dump`.
    device : str or None, default=None
        Device for the network ("cpu", "cuda"...), which also becomes the
        estimator's ``device`` parameter. None keeps the stored ``device``
        parameter; pass ``device="cpu"`` to open a model that was fitted with
        ``device="cuda"`` on a machine without a GPU.

    Returns
    -------
    estimator : BetaVAETransformer
        The fitted estimator; ``transform``, ``inverse_transform``,
        ``traverse`` and ``score_samples`` give what the dumped one gave.
        ``warm_start`` continues its weights, history and schedules; Adam's
        moment estimates are not stored and start again from zero.

    Raises
    ------
    ValueError
        If the file is not a skbvae model file, is truncated or corrupt, has a
        member that is not what it should be (nothing in it is executed), has
        arrays or weights whose shapes disagree with its JSON, or was written in
        a newer format than this skbvae reads.
    """
    members = _read_members(path)
    meta = _check_meta(path, members[_META])
    arrays = _load_safetensors(path, _ARRAYS, members[_ARRAYS], _load_arrays)
    weights = _load_safetensors(path, _WEIGHTS, members[_WEIGHTS], _load_tensors)
    try:
        params, attributes, net_meta = meta["params"], meta["attributes"], meta["net"]
        # JSON has no tuples; hidden_layer_sizes is the one sequence parameter.
        params = {name: tuple(value) if isinstance(value, list) else value for name, value in params.items()}
        estimator = BetaVAETransformer(**params)
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
    net = build_net(estimator, n_features=n_features, n_samples=2 * net_meta["batch_size"] + 2,
                    hidden=estimator._check_hidden_layer_sizes(), device=resolve_device(estimator.device),
                    seed=net_meta["shuffle_seed"])
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
    return estimator


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
