"""Run scikit-learn searches over skbvae models on a dask cluster.

scikit-learn parallelises ``GridSearchCV`` through joblib; joblib's ``"dask"``
backend sends those tasks to a ``dask.distributed`` cluster with no change to the
estimator. This module makes the client: an embedded ``LocalCluster`` by
default, or a connection to a running scheduler. Install with
``pip install "dask[distributed]"`` (and ``dask-cuda`` for GPU workers).

Each worker runs one task at a time with its PyTorch threads capped, so that
``n_workers × torch_threads`` matches the cores instead of oversubscribing them.
"""

import os


def _limit_torch_threads(n_threads):
    import torch

    torch.set_num_threads(n_threads)
    return torch.get_num_threads()


def make_dask_client(address=None, *, n_workers=None, torch_threads=1, gpus=False, **cluster_kwargs):
    """A ``dask.distributed.Client`` ready for ``joblib.parallel_backend("dask")``.

    Parameters
    ----------
    address : str or None, default=None
        Scheduler address of a running cluster (``"tcp://host:8786"``). None
        starts an embedded ``LocalCluster`` of worker processes.
    n_workers : int or None, default=None
        Workers of the embedded cluster; None means ``os.cpu_count() //
        torch_threads`` (or one per GPU with ``gpus=True``).
    torch_threads : int, default=1
        PyTorch (and OpenMP/BLAS) threads per worker.
    gpus : bool, default=False
        Start one worker per visible GPU, each seeing only its own device
        (``CUDA_VISIBLE_DEVICES``), with ``dask_cuda.LocalCUDACluster``. Models
        then train with ``device="auto"`` on their worker's GPU.
    **cluster_kwargs
        Passed to the cluster class.

    Returns
    -------
    client : dask.distributed.Client
        Close it (or use it as a context manager) when done.

    Examples
    --------
    >>> import joblib
    >>> from sklearn.model_selection import GridSearchCV
    >>> from skbvae import BetaVAETransformer
    >>> from skbvae.datasets import make_heartbeats
    >>> from skbvae.distributed import make_dask_client
    >>> X, _ = make_heartbeats(200, random_state=0)
    >>> with make_dask_client(n_workers=2) as client:  # doctest: +SKIP
    ...     with joblib.parallel_backend("dask"):
    ...         GridSearchCV(BetaVAETransformer(max_epochs=2, random_state=0),
    ...                      {"beta": [1.0, 4.0]}, cv=2, n_jobs=-1).fit(X)
    """
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError('make_dask_client needs dask.distributed: pip install "dask[distributed]"') from exc
    if not isinstance(torch_threads, int) or torch_threads < 1:
        raise ValueError(f"torch_threads must be a positive int; got {torch_threads!r}.")
    if address is not None:
        client = Client(address)
    else:
        thread_env = {name: str(torch_threads) for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
        if gpus:
            try:
                from dask_cuda import LocalCUDACluster
            except ImportError as exc:
                raise ImportError("gpus=True needs dask-cuda: pip install dask-cuda") from exc
            cluster = LocalCUDACluster(threads_per_worker=1, env=thread_env, **cluster_kwargs)
        else:
            if n_workers is None:
                n_workers = max(1, (os.cpu_count() or 1) // torch_threads)
            cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                                   env=thread_env, **cluster_kwargs)
        client = Client(cluster)
    # Also cap torch's own pool, which ignores the environment once started.
    client.run(_limit_torch_threads, torch_threads)
    return client
