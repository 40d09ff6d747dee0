"""Grid search on a dask LocalCluster gives what n_jobs=1 gives."""

import numpy as np
import pytest

pytest.importorskip("dask.distributed")
import joblib  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402

from conftest import FAST  # noqa: E402
from skbvae import BetaVAETransformer  # noqa: E402
from skbvae.distributed import make_dask_client  # noqa: E402
from skbvae.metrics import make_disentanglement_scorer  # noqa: E402


def test_grid_search_on_local_cluster_matches_serial(beats):
    X, factors = beats[0][:300], beats[1][:300]
    grid = {"beta": [1.0, 4.0], "capacity": [None, 10.0]}
    scoring = make_disentanglement_scorer("mig")

    def search(n_jobs):
        # The estimator's n_jobs is pinned: under joblib.parallel_backend("dask")
        # n_jobs=None reads the backend's -1, so the refit of best_estimator_ in
        # this process would run on every thread, and a different thread count
        # changes a fit's rounding (visible with ATEN_CPU_CAPABILITY=default).
        return GridSearchCV(BetaVAETransformer(**FAST, n_jobs=1), grid, scoring=scoring, cv=2,
                            n_jobs=n_jobs).fit(X, factors)

    serial = search(1)
    with make_dask_client(n_workers=2, torch_threads=1, dashboard_address=None) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        assert set(client.run(lambda: __import__("torch").get_num_threads()).values()) == {1}
        with joblib.parallel_backend("dask"):
            distributed = search(-1)
    assert distributed.best_params_ == serial.best_params_
    np.testing.assert_allclose(distributed.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"])
    np.testing.assert_allclose(distributed.best_estimator_.transform(X), serial.best_estimator_.transform(X))


def test_invalid_thread_count():
    with pytest.raises(ValueError, match="torch_threads"):
        make_dask_client(torch_threads=0)


class _DiesInWorker(BetaVAETransformer):
    """Kills the process that fits it with beta=13, as the OOM killer would."""

    def fit(self, X, y=None):
        if self.beta == 13.0:
            import os

            os._exit(1)
        return super().fit(X, y)


def test_worker_dying_mid_search_is_an_error_not_a_hang(beats):
    from joblib.externals.loky.process_executor import TerminatedWorkerError

    search = GridSearchCV(_DiesInWorker(**FAST), {"beta": [1.0, 13.0]}, cv=2, n_jobs=2)
    with pytest.raises(TerminatedWorkerError, match="unexpectedly terminated.*memory"):
        search.fit(beats[0][:100])
