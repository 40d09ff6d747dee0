"""Grid search over β and C on a dask cluster, with no change to the estimator.
============================================================================

scikit-learn's ``GridSearchCV`` runs its fits through joblib; inside
``joblib.parallel_backend("dask")`` they go to a ``dask.distributed`` cluster.
By default an embedded ``LocalCluster`` with one single-threaded worker per
core is started; ``--scheduler tcp://host:8786`` uses a running cluster
instead, and ``--gpus`` starts one worker per GPU (needs ``dask-cuda``).
Prints the search table and checks it against a serial run with ``--check``.

.. code-block:: bash

    python examples/distributed_grid_search.py [--scheduler ADDRESS] [--workers 2] [--gpus] [--check]
"""

import argparse
import time

import joblib
import numpy as np
import pandas as pd
from sklearn.model_selection import GridSearchCV

from skbvae import BetaVAETransformer
from skbvae.datasets import make_heartbeats
from skbvae.distributed import make_dask_client
from skbvae.metrics import make_disentanglement_scorer


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scheduler", help="address of a running dask scheduler (default: LocalCluster)")
    parser.add_argument("--workers", type=int, default=None, help="workers of the embedded cluster")
    parser.add_argument("--gpus", action="store_true", help="one worker per GPU (dask-cuda)")
    parser.add_argument("--n-beats", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--check", action="store_true", help="also run serially and compare")
    args = parser.parse_args()

    X, factors = make_heartbeats(args.n_beats, random_state=0)
    search = GridSearchCV(
        BetaVAETransformer(max_epochs=args.epochs, random_state=0),
        {"beta": [1.0, 4.0], "capacity": [None, 10.0, 25.0]},
        scoring=make_disentanglement_scorer("mig"), cv=3, n_jobs=-1,
    )
    with make_dask_client(args.scheduler, n_workers=args.workers, gpus=args.gpus, dashboard_address=None) as client:
        print(f"dask cluster: {len(client.scheduler_info()['workers'])} workers")
        start = time.perf_counter()
        with joblib.parallel_backend("dask"):
            search.fit(X, factors)
        print(f"distributed search: {time.perf_counter() - start:.1f} s")
    table = pd.DataFrame(search.cv_results_)[["param_beta", "param_capacity", "mean_test_score", "rank_test_score"]]
    print(table.to_string(index=False))
    print("best:", search.best_params_)
    if args.check:
        start = time.perf_counter()
        serial = GridSearchCV(search.estimator, search.param_grid, scoring=search.scoring, cv=3, n_jobs=1).fit(X, factors)
        print(f"serial search: {time.perf_counter() - start:.1f} s; same best parameters: "
              f"{serial.best_params_ == search.best_params_}; same scores: "
              f"{np.allclose(serial.cv_results_['mean_test_score'], search.cv_results_['mean_test_score'])}")


if __name__ == "__main__":
    main()
