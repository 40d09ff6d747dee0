"""Wall-clock timing shared by the benchmarks (waits for the GPU to finish its work)."""

import time

import torch


def timed(fn, *args, device="cpu"):
    """Seconds taken by ``fn(*args)``, with CUDA work synchronised on both sides."""
    if str(device).startswith("cuda"):
        torch.cuda.synchronize()
    start = time.perf_counter()
    fn(*args)
    if str(device).startswith("cuda"):
        torch.cuda.synchronize()
    return time.perf_counter() - start
