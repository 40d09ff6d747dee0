"""How many CPU threads torch computes with inside the estimator, and whether they have cores to themselves.

torch's intra-op threads wait for each other at every operation, spinning
while they wait. When another process holds one of their cores, each
operation waits for the thread that was descheduled: on 2 cores next to one
or two busy processes, a fit with 2 threads took 3-31× its quiet time and a
fit with one thread at most 1.8× (``benchmarks/bench_threads.py``). A thread
count chosen by timing would change with the machine's load, and with it the
fit (the summation order of parallel kernels changes the weights by ~1e-7
after a few epochs, and the gap grows), so the count is a parameter,
``n_jobs``, with scikit-learn's meaning: ``None`` is one thread unless
:func:`joblib.parallel_config` says otherwise. What is measured at run time,
whether other processes compete for the cores, only decides a warning.
"""

import os
from contextlib import contextmanager
from pathlib import Path

import joblib
import torch
from threadpoolctl import ThreadpoolController

# Found once (a scan of the loaded libraries takes ~10 ms; entering a limit then takes ~30 µs).
_controller = None


def _blas_controller():
    global _controller
    if _controller is None:
        _controller = ThreadpoolController()
    return _controller


def resolve_n_threads(n_jobs):
    """The torch thread count that ``n_jobs`` asks for, as scikit-learn reads ``n_jobs``.

    ``None``: one thread, or the ``n_jobs`` of an enclosing
    :func:`joblib.parallel_config`. ``-1``: every thread torch may use in this
    process (``torch.get_num_threads()`` outside the estimator: the cores, or the
    limit set by ``OMP_NUM_THREADS``, ``torch.set_num_threads`` or a joblib or
    dask worker); ``-2`` one fewer, and so on, at least one. A positive int:
    that many.

    Examples
    --------
    >>> resolve_n_threads(3)
    3
    >>> resolve_n_threads(None)
    1
    """
    if n_jobs is None:
        n_jobs = joblib.effective_n_jobs(None)  # 1 unless parallel_config(n_jobs=...) is set
    if n_jobs < 0:
        return max(1, torch.get_num_threads() + 1 + n_jobs)
    return int(n_jobs)


@contextmanager
def compute_threads(n_threads):
    """Run the block with ``n_threads`` torch intra-op threads and BLAS threads, then restore both.

    BLAS (OpenBLAS, MKL) is limited too, through threadpoolctl: the FastICA
    rotation inside ``fit`` runs on NumPy, whose threads wait on each other
    as torch's do, and ``n_jobs`` is meant as the estimator's thread count,
    not torch's alone. The counts are process-wide, so estimators with
    different ``n_jobs`` should not run their methods at the same time in
    threads of one process (processes, as in ``GridSearchCV(n_jobs=k)``,
    are fine).
    """
    previous = torch.get_num_threads()
    with _blas_controller().limit(limits=n_threads, user_api="blas"):
        if n_threads == previous:
            yield
            return
        torch.set_num_threads(n_threads)
        try:
            yield
        finally:
            torch.set_num_threads(previous)


def _runnable_tasks_of_this_process():
    """Threads of this process that are running or waiting for a core (Linux ``/proc``)."""
    count = 0
    for stat in Path("/proc/self/task").glob("*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # the thread ended meanwhile
            continue
        # The state follows the command name, which is in parentheses and may hold spaces.
        count += text[text.rindex(")") + 2:].startswith("R")
    return count


def competing_tasks():
    """Tasks of other processes that are running or waiting for a core now, or None where unknown.

    ``procs_running`` of ``/proc/stat`` counts every runnable task of the
    machine; this process's own runnable threads are taken off. Linux only;
    inside a container it counts the whole host, which is why callers compare
    it with :func:`os.cpu_count` (the host's cores) rather than the cores this
    process may use, so that busy cores elsewhere on the host do not look like
    competition.
    """
    try:
        for line in Path("/proc/stat").read_text().splitlines():
            if line.startswith("procs_running "):
                return max(0, int(line.split()[1]) - _runnable_tasks_of_this_process())
    except (OSError, ValueError):
        return None
    return None


def cores_short(n_threads, competing):
    """How many of ``n_threads`` threads find no free core next to ``competing`` other tasks."""
    return min(n_threads, max(0, n_threads + competing - (os.cpu_count() or 1)))
