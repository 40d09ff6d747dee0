"""Bad input and bad hyper-parameters get clear errors that name the culprit."""

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.exceptions import NotFittedError

from conftest import FAST
from skbvae import BetaVAETransformer, TrainingDivergedError


@pytest.fixture(scope="module")
def data():
    return np.random.default_rng(0).normal(size=(40, 12))


@pytest.fixture(scope="module")
def fitted(data):
    return BetaVAETransformer(**FAST).fit(data)


def _with(data, value):
    bad = data.copy()
    bad[3, 4] = value
    return bad


@pytest.mark.parametrize(
    "make_bad, error, match",
    [
        (lambda X: _with(X, np.nan), ValueError, "Input X contains NaN"),
        (lambda X: _with(X, np.inf), ValueError, "Input X contains infinity"),
        (lambda X: X[:, 0], ValueError, "Expected 2D array, got 1D"),
        (lambda X: X[:, :, None], ValueError, "Found array with dim 3"),
        (lambda X: X[:0], ValueError, "0 sample"),
        (lambda X: X.astype(str).astype(object) + "mV", ValueError, "could not convert|string"),
        (lambda X: X + 1j, ValueError, "Complex data not supported"),
        (lambda X: sp.csr_matrix(X), TypeError, "dense data is required|[Ss]parse"),
    ],
    ids=["nan", "inf", "1d", "3d", "empty", "strings", "complex", "sparse"],
)
def test_bad_X_at_fit_and_transform(data, fitted, make_bad, error, match):
    bad = make_bad(data)
    with pytest.raises(error, match=match):
        BetaVAETransformer(**FAST).fit(bad)
    with pytest.raises(error, match=match):
        fitted.transform(bad)
    with pytest.raises(error, match=match):
        fitted.score_samples(bad)


def test_wrong_feature_count(data, fitted):
    with pytest.raises(ValueError, match="X has 11 features, but BetaVAETransformer is expecting 12"):
        fitted.transform(data[:, :11])
    with pytest.raises(ValueError, match="X has 13 features"):
        fitted.traverse(np.hstack([data, data[:, :1]]))


def test_wrong_latent_width(fitted):
    with pytest.raises(ValueError, match="Z has 4 columns.*latent_dim=3"):
        fitted.inverse_transform(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="Input Z contains NaN"):
        fitted.inverse_transform(np.full((2, 3), np.nan))
    with pytest.raises(ValueError, match="Expected 2D array"):
        fitted.inverse_transform(np.zeros(3))


@pytest.mark.parametrize(
    "latents, match",
    [([3], r"latents must lie in \[0, 2\]"), ([-1], "latents must lie"), ([0.5], "sequence of ints"),
     ([], "non-empty")],
)
def test_traverse_bad_latents(data, fitted, latents, match):
    with pytest.raises(ValueError, match=match):
        fitted.traverse(data[:2], latents=latents)


def test_traverse_bad_values(data, fitted):
    with pytest.raises(ValueError, match="values"):
        fitted.traverse(data[:2], latents=[0], values=[0.0, np.nan])


@pytest.mark.parametrize(
    "params, match",
    [
        ({"beta": -1.0}, "'beta' parameter"),
        ({"latent_dim": 0}, "'latent_dim' parameter"),
        ({"capacity": -5.0}, "'capacity' parameter"),
        ({"architecture": "transformer"}, "'architecture' parameter"),
        ({"likelihood": "poisson"}, "'likelihood' parameter"),
        ({"decoder_variance": "learned"}, "'decoder_variance' parameter"),
        ({"scaling": "robust"}, "'scaling' parameter"),
        ({"lr": 0.0}, "'lr' parameter"),
        ({"max_epochs": 0}, "'max_epochs' parameter"),
        ({"batch_size": 0}, "'batch_size' parameter"),
        ({"device": "tpu"}, "device must be"),
        ({"device": 3}, "'device' parameter"),
        ({"hidden_layer_sizes": (16, 0)}, "hidden_layer_sizes"),
        ({"hidden_layer_sizes": ()}, "hidden_layer_sizes"),
        ({"hidden_layer_sizes": (1.5,)}, "hidden_layer_sizes"),
    ],
)
def test_invalid_hyper_parameters(data, params, match):
    with pytest.raises(ValueError, match=match):
        BetaVAETransformer(**{**FAST, **params}).fit(data)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error on machines without CUDA")
def test_cuda_requested_without_gpu(data):
    with pytest.raises(ValueError, match="no CUDA GPU is available.*device='cpu'"):
        BetaVAETransformer(**FAST, device="cuda").fit(data)


@pytest.mark.parametrize(
    "method, args",
    [("transform", "X"), ("inverse_transform", "Z"), ("traverse", "X"), ("score_samples", "X"),
     ("score", "X"), ("get_feature_names_out", None)],
)
def test_not_fitted(data, method, args):
    arguments = {"X": (data,), "Z": (np.zeros((2, 3)),), None: ()}[args]
    with pytest.raises(NotFittedError):
        getattr(BetaVAETransformer(), method)(*arguments)
    with pytest.raises(NotFittedError):
        BetaVAETransformer().sample(2)


def test_sample_count_validated(fitted):
    with pytest.raises(ValueError, match="n_samples must be a positive int"):
        fitted.sample(0)


def test_divergence_raises_and_leaves_estimator_unfitted(data):
    huge = data * 1e30  # squared errors overflow float32 without scaling
    vae = BetaVAETransformer(**FAST, scaling=None)
    with pytest.raises(TrainingDivergedError, match="diverged.*lr.*scal"):
        vae.fit(huge)
    with pytest.raises(NotFittedError):
        vae.transform(data)


def test_failed_refit_keeps_previous_model(data, fitted):
    import copy

    model = copy.deepcopy(fitted)
    before = model.transform(data)
    with pytest.raises(TrainingDivergedError):
        model.set_params(scaling=None).fit(data * 1e30)
    np.testing.assert_array_equal(model.transform(data), before)


def test_device_out_of_memory_says_what_to_lower(data, fitted, monkeypatch):
    from skbvae._net import BetaVAENet

    def exhausted(*args, **kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(BetaVAENet, "train_step", exhausted)
    with pytest.raises(MemoryError, match="during training: lower batch_size.*device='cpu'.*2.00 GiB"):
        BetaVAETransformer(**FAST).fit(data)
    monkeypatch.setattr(type(fitted.net_.module_), "encode", exhausted)
    with pytest.raises(MemoryError, match="during inference: pass fewer rows"):
        fitted.transform(data)


def test_errors_name_ragged_rows_and_text_columns(beats):
    import pandas as pd

    X = beats[0][:50]
    ragged = [list(row) for row in X[:10]]
    ragged[3] = ragged[3][:100]
    with pytest.raises(ValueError, match=r"different lengths \(100, 187 samples\)"):
        BetaVAETransformer(**FAST).fit(ragged)
    frame = pd.DataFrame(X, columns=[f"t{i}" for i in range(X.shape[1])])
    frame["patient"] = [f"p{i}" for i in range(len(frame))]
    with pytest.raises(ValueError, match="not numbers: 'patient'"):
        BetaVAETransformer(**FAST).fit(frame)
    vae = BetaVAETransformer(**FAST).fit(frame.drop(columns="patient"))
    with pytest.raises(ValueError, match="not numbers: 'patient'"):
        vae.transform(frame)


def test_warnings_point_at_the_users_line(beats):
    import warnings

    from sklearn.pipeline import make_pipeline

    X = beats[0][:300]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # Through scikit-learn's Pipeline and fit wrapper: a ramp longer than the run ...
        make_pipeline(BetaVAETransformer(**{**FAST, "max_epochs": 3}, beta=4.0, capacity=25.0,
                                         capacity_steps=1000)).fit(X)
        # ... and i.i.d. beats cut into groups of ten, which say little.
        BetaVAETransformer(**FAST).fit(X, groups=np.arange(len(X)) // 10)
    said = [w for w in caught if "capacity=" in str(w.message) or str(w.message).startswith("groups:")]
    assert len(said) == 2, [str(w.message) for w in caught]
    assert all(w.filename == __file__ for w in said), [(w.filename, w.lineno) for w in said]


def test_the_groups_warning_does_not_tell_a_user_with_records_to_use_records(beats):
    with pytest.warns(UserWarning, match="groups: only") as record:
        BetaVAETransformer(**FAST).fit(beats[0][:300], groups=np.arange(300) // 10)
    message = str(record[0].message)
    assert "records, patients" not in message and "Compare with a fit without groups" in message


def test_a_file_that_is_not_a_record_is_named_for_what_it_is(tmp_path):
    from skbvae import RecordError
    from skbvae.datasets import load_wfdb_heartbeats

    (tmp_path / "weather.csv").write_text("day,temperature\n1,20\n")
    with pytest.raises(RecordError, match=r"weather.csv: this file is not a WFDB record.*load_ptbdb_csv"):
        load_wfdb_heartbeats(tmp_path / "weather.csv")
    with pytest.raises(FileNotFoundError, match="no such WFDB record"):
        load_wfdb_heartbeats(tmp_path / "nothing")


def test_signals_passed_as_columns_are_named(beats):
    X = beats[0][:300]  # 300 beats of 187 samples, passed the wrong way round
    with pytest.warns(UserWarning, match=r"X has 187 rows \(signals\) of 300 samples each.*looks transposed.*pass X\.T") as caught:
        BetaVAETransformer(**FAST).fit(X.T)
    assert caught[0].filename == __file__


def test_too_few_rows_for_the_latents_are_named(beats):
    with pytest.warns(UserWarning, match=r"X has 5 rows for latent_dim=3: too few.*at least 10 rows per latent"):
        BetaVAETransformer(**FAST).fit(beats[0][:5])


def test_an_ordinary_training_set_fits_without_a_shape_warning(beats):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        BetaVAETransformer(**FAST).fit(beats[0][:200])  # 200 beats of 187 samples, 3 latents


def test_traverse_beyond_the_active_latents_says_why_and_how(beats, monkeypatch):
    # A rotated model keeps the active latents only: say so, and how to reach the others.
    # Which latents a short fit leaves active varies by CPU; four are chosen here.
    from skbvae import _transformer

    monkeypatch.setattr(_transformer, "select_active", lambda kl: np.arange(4))
    vae = BetaVAETransformer(**{**FAST, "latent_dim": 6, "rotation": "ica"}).fit(beats[0][:300])
    assert vae.n_components_ == 4
    with pytest.raises(ValueError, match=(rf"latents must lie in \[0, {vae.n_components_ - 1}\]; got \[7\]\. The model "
                                          rf"has {vae.n_components_} components: the {vae.n_components_} active latents "
                                          r"of latent_dim=6.*fit with rotation=None")):
        vae.traverse(beats[0][:1], latents=[7])


@pytest.mark.parametrize("told, actual", [(125, 360), (1000, 360), (128, 500)])
def test_a_wrong_sampling_rate_is_named_with_the_likely_one(told, actual):
    from skbvae.datasets import make_ecg
    from skbvae.ecg import cut_heartbeats
    from skbvae.exceptions import RecordError

    ecg, _ = make_ecg(60.0, fs=actual, heart_rate=75, random_state=0)
    # MIT-BIH 100 read at 125 Hz once gave 2 beats at "26 bpm" without a word.
    with pytest.raises(RecordError, match=(rf"median \d+ bpm at fs={told} Hz, outside heart_rate_range.*Is fs the rate "
                                           rf"the signal was recorded at\? At {actual} Hz they would come at 7\d bpm")):
        cut_heartbeats(ecg, told)
    assert len(cut_heartbeats(ecg, actual)[0]) > 60
