"""Resolve the compute device and move arrays onto it (the one place that does)."""

import contextlib
import re

import numpy as np
import torch

_DEVICE_PATTERN = re.compile(r"^(auto|cpu|cuda(:\d+)?|mps)$")


def resolve_device(device):
    """Turn the ``device`` hyper-parameter into a concrete torch device string.

    Parameters
    ----------
    device : str or torch.device
        ``"auto"`` (CUDA when available, else CPU), ``"cpu"``, ``"cuda"``,
        ``"cuda:N"`` or ``"mps"``.

    Returns
    -------
    device : str
        A device string that ``torch.device`` accepts and that exists here.

    Raises
    ------
    ValueError
        If ``device`` is not one of the accepted forms, or names an
        accelerator this machine does not have.
    """
    if isinstance(device, torch.device):
        device = str(device)
    if not isinstance(device, str) or not _DEVICE_PATTERN.match(device):
        raise ValueError(
            "device must be 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'; "
            f"got {device!r}."
        )
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ValueError(
                f"device={device!r} was requested but no CUDA GPU is available "
                "to PyTorch here; use device='cpu' or device='auto'."
            )
        index = int(device.split(":")[1]) if ":" in device else 0
        if index >= torch.cuda.device_count():
            raise ValueError(
                f"device={device!r} was requested but only "
                f"{torch.cuda.device_count()} CUDA device(s) exist."
            )
    if device == "mps" and not torch.backends.mps.is_available():
        raise ValueError("device='mps' was requested but MPS is not available.")
    return device


def to_device(array, device, dtype=torch.float32):
    """Copy a NumPy array (or tensor) to ``device`` as a tensor of ``dtype``.

    Host arrays are pinned first when the target is a CUDA device so that the
    copy can run asynchronously.
    """
    if isinstance(array, np.ndarray):
        # torch cannot wrap read-only memory (e.g. a joblib memmap) without a copy.
        array = np.ascontiguousarray(array) if array.flags.writeable else np.array(array)
    tensor = torch.as_tensor(array)
    tensor = tensor.to(dtype)
    if torch.device(device).type == "cuda" and tensor.device.type == "cpu":
        return tensor.pin_memory().to(device, non_blocking=True)
    return tensor.to(device)


@contextlib.contextmanager
def out_of_memory_advice(activity, remedy):
    """Turn a device out-of-memory error into a ``MemoryError`` that says what to lower.

    Parameters
    ----------
    activity : str
        What was running, e.g. ``"training"``.
    remedy : str
        What the user can change, e.g. ``"lower batch_size"``.
    """
    try:
        yield
    except torch.OutOfMemoryError as exc:
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        raise MemoryError(
            f"The device ran out of memory during {activity}: {remedy}, or use device='cpu'. "
            f"(PyTorch said: {str(exc).splitlines()[0] if str(exc) else 'out of memory'})"
        ) from exc
