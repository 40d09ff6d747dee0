"""Batched inference of a fitted β-VAE: rows streamed through the network on its device."""

import copy

import numpy as np
import torch

from ._device import out_of_memory_advice, to_device

# Rows per inference batch: large enough to amortise per-call overhead, small
# enough that intermediates stay a bounded working set (a few MB per layer).
INFERENCE_BATCH = 8192


def inference_module(net, dtype):
    """The fitted torch module in evaluation mode, in ``dtype``.

    A compiled net wraps the module; inference calls encode/decode on the
    original. float64 inference runs on a float64 copy, so the results do not
    depend on how rows are batched (NOTES §1: float32 matmuls at different
    batch sizes differ by ~6e-8, more than scikit-learn's invariance checks allow).
    """
    module = getattr(net.module_, "_orig_mod", net.module_)
    if dtype == torch.float64:
        module = copy.deepcopy(module).to(dtype)
    return module.eval()


def map_batches(net, center, scale, array, fn, rows_per_batch=INFERENCE_BATCH, *,
                scale_input=False, unscale_output=False):
    """Apply ``fn(module, batch)`` to row batches of ``array`` on the net's device.

    Computation runs in ``array``'s dtype (float32 or float64). Inputs are
    scaled (``(x - center) / scale``) and decoded signals unscaled batch by
    batch (``scale_input``, ``unscale_output``), so besides the input and the
    output only one batch of intermediates exists at a time.
    ``unscale_output="mean_and_std"`` takes results whose axis -2 stacks
    decoder means and standard deviations: means are unscaled, standard
    deviations only multiplied by the scale.

    Returns
    -------
    out : ndarray of shape (len(array), ...)
        The stacked results of ``fn``, in ``array``'s dtype.
    """
    dtype = torch.float64 if array.dtype == np.float64 else torch.float32
    device = net.device
    module = inference_module(net, dtype)
    center, scale = (to_device(v, device, dtype) for v in (center, scale))
    # (x - center) / scale as one fused multiply-add per element.
    inv_scale, shift = 1.0 / scale, -center / scale
    out = None
    remedy = "pass fewer rows or latents per call"
    with torch.inference_mode(), out_of_memory_advice("inference", remedy):
        for start in range(0, len(array), rows_per_batch):
            batch = to_device(array[start:start + rows_per_batch], device, dtype)
            if scale_input:
                batch = torch.addcmul(shift, batch, inv_scale)
            result = fn(module, batch)
            if unscale_output == "mean_and_std":
                result = torch.stack([torch.addcmul(center, result[..., 0, :], scale),
                                      result[..., 1, :] * scale], dim=-2)
            elif unscale_output:
                result = torch.addcmul(center, result, scale)
            result = result.cpu().numpy()
            if out is None:
                out = np.empty((len(array), *result.shape[1:]), dtype=result.dtype)
            out[start:start + len(result)] = result
    return out
