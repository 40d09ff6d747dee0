"""n_jobs: torch's thread count inside the estimator, and the warning about shared cores."""

import sys
import warnings

import joblib
import numpy as np
import pytest
import torch
from conftest import FAST
from threadpoolctl import threadpool_info

from skbvae import BetaVAETransformer, _progress
from skbvae._threads import competing_tasks, cores_short, resolve_n_threads, compute_threads


def test_n_jobs_reads_as_in_scikit_learn():
    available = torch.get_num_threads()
    assert resolve_n_threads(None) == 1
    assert resolve_n_threads(3) == 3
    assert resolve_n_threads(-1) == available
    assert resolve_n_threads(-2) == max(1, available - 1)
    assert resolve_n_threads(-1000) == 1
    with joblib.parallel_config(n_jobs=2):
        assert resolve_n_threads(None) == 2


def test_thread_count_is_restored_even_after_an_error():
    before = torch.get_num_threads()
    target = 1 if before > 1 else 2
    with pytest.raises(KeyError):
        with compute_threads(target):
            assert torch.get_num_threads() == target
            raise KeyError("boom")
    assert torch.get_num_threads() == before


@pytest.mark.parametrize("n_jobs, expected", [(None, 1), (2, 2), (-1, "available")])
def test_fit_and_inference_run_on_n_jobs_threads_and_restore_the_count(beats, monkeypatch, n_jobs, expected):
    from skbvae import _transformer

    before = torch.get_num_threads()
    expected = before if expected == "available" else expected
    seen = []
    fit, map_batches = BetaVAETransformer._fit, _transformer.map_batches

    def spy_fit(self, *args, **kwargs):
        seen.append(("fit", torch.get_num_threads()))
        blas = {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}
        seen.extend(("fit, BLAS", count) for count in blas)
        return fit(self, *args, **kwargs)

    def spy_map_batches(*args, **kwargs):
        seen.append(("inference", torch.get_num_threads()))
        return map_batches(*args, **kwargs)

    monkeypatch.setattr(BetaVAETransformer, "_fit", spy_fit)
    monkeypatch.setattr(_transformer, "map_batches", spy_map_batches)
    X = beats[0][:100]
    vae = BetaVAETransformer(**FAST, n_jobs=n_jobs).fit(X)
    assert torch.get_num_threads() == before
    vae.inverse_transform(vae.transform(X))
    vae.score_samples(X[:5])
    assert torch.get_num_threads() == before
    assert {kind for kind, _ in seen} >= {"fit", "inference"}
    assert {count for _, count in seen} == {expected}


def test_same_n_jobs_same_fit_and_a_failed_fit_restores_threads(beats):
    X = beats[0][:100]
    first = BetaVAETransformer(**FAST, n_jobs=2).fit_transform(X)
    second = BetaVAETransformer(**FAST, n_jobs=2).fit_transform(X)
    np.testing.assert_array_equal(first, second)
    before = torch.get_num_threads()
    with pytest.raises(ValueError, match="n_channels"):
        BetaVAETransformer(**FAST, n_channels=2, n_jobs=2).fit(X)  # 187 features
    assert torch.get_num_threads() == before


def test_n_jobs_zero_is_refused_by_name(beats):
    with pytest.raises(ValueError, match="'n_jobs' parameter"):
        BetaVAETransformer(**FAST, n_jobs=0).fit(beats[0][:50])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_competing_tasks_counts_other_processes_on_linux():
    assert isinstance(competing_tasks(), int) and competing_tasks() >= 0


def test_cores_short_is_threads_beyond_the_free_cores(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 4)
    assert cores_short(2, 0) == 0
    assert cores_short(2, 2) == 0
    assert cores_short(2, 3) == 1
    assert cores_short(4, 9) == 4


def _fit_warnings(beats, monkeypatch, competing, n_jobs):
    monkeypatch.setattr(_progress, "competing_tasks", lambda: competing)
    monkeypatch.setattr(_progress, "_CORE_CHECK_SPACING", 0.0)
    # 200 rows in batches of 16: 13 steps per epoch, enough to look 5 times.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        BetaVAETransformer(**{**FAST, "batch_size": 16}, n_jobs=n_jobs).fit(beats[0][:200])
    return [str(w.message) for w in caught if "cores" in str(w.message)]


def test_a_fit_on_threads_that_share_their_cores_says_so_from_its_first_steps(beats, monkeypatch):
    busy = 64  # more runnable tasks than any test machine has cores
    (message,) = _fit_warnings(beats, monkeypatch, competing=busy, n_jobs=2)
    assert "2 of its 2 torch threads without a core" in message and "n_jobs=1" in message
    # One thread has nothing to gain from the advice; free cores and unknown load are silent.
    assert _fit_warnings(beats, monkeypatch, competing=busy, n_jobs=1) == []
    assert _fit_warnings(beats, monkeypatch, competing=0, n_jobs=2) == []
    assert _fit_warnings(beats, monkeypatch, competing=None, n_jobs=2) == []


def test_a_passing_burst_of_load_is_not_reported(beats, monkeypatch):
    counts = iter([64, 64, 0, 64, 64, 64, 64, 64])
    monkeypatch.setattr(_progress, "competing_tasks", lambda: next(counts, 0))
    monkeypatch.setattr(_progress, "_CORE_CHECK_SPACING", 0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        BetaVAETransformer(**{**FAST, "batch_size": 16}, n_jobs=2).fit(beats[0][:200])
