"""Behaviour of BetaVAETransformer: methods, shapes, units, persistence, search."""

import copy
import io
import pickle

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from scipy.stats import spearmanr
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from conftest import FAST
from skbvae import BetaVAETransformer, _modules, _training
from skbvae._modules import BetaVAEModule
from skbvae.datasets import make_heartbeats


@pytest.fixture(scope="module")
def fitted(beats):
    X, _ = beats
    return BetaVAETransformer(**FAST).fit(X)


def test_method_shapes_and_dtypes(fitted, beats):
    X, _ = beats
    Z = fitted.transform(X)
    assert Z.shape == (len(X), 3) and Z.dtype == np.float64
    assert fitted.inverse_transform(Z).shape == X.shape
    assert fitted.traverse(X[:4], latents=[0, 2], values=np.linspace(-3, 3, 5)).shape == (4, 2, 5, 187)
    assert fitted.traverse(X[:2]).shape == (2, 3, 7, 187)
    assert fitted.sample(6, random_state=0).shape == (6, 187)
    assert fitted.score_samples(X).shape == (len(X),)
    assert isinstance(fitted.score(X), float)
    assert list(fitted.get_feature_names_out()) == [f"betavaetransformer{i}" for i in range(3)]


def test_float32_in_float32_out(fitted, beats):
    X32 = beats[0].astype(np.float32)
    Z32 = fitted.transform(X32)
    assert Z32.dtype == np.float32
    assert fitted.inverse_transform(Z32).dtype == np.float32
    np.testing.assert_allclose(Z32, fitted.transform(beats[0]), atol=1e-4)


def test_fitted_attributes(fitted):
    assert fitted.n_features_in_ == 187
    assert fitted.n_iter_ == 2
    assert list(fitted.history_.columns) == ["epoch", "loss", "reconstruction", "kl", "capacity", "dur"]
    assert len(fitted.history_) == 2
    assert fitted.kl_per_latent_.shape == (3,)
    assert (fitted.kl_per_latent_ >= 0).all()
    assert fitted.center_.shape == fitted.scale_.shape == (187,)
    assert len(fitted.net_.history) == 2


def test_traverse_at_own_code_reproduces_reconstruction(fitted, beats):
    X = beats[0][:5]
    Z = fitted.transform(X)
    reconstruction = fitted.inverse_transform(Z)
    offsets = fitted.traverse(X, latents=[1], values=[0.0], relative=True)
    np.testing.assert_allclose(offsets[:, 0, 0], reconstruction, rtol=1e-10, atol=1e-10)
    for i in range(len(X)):
        absolute = fitted.traverse(X[i:i + 1], latents=[1], values=[Z[i, 1]])
        np.testing.assert_allclose(absolute[0, 0, 0], reconstruction[i], rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("relative", [False, True])
def test_traverse_moves_only_the_chosen_latent(fitted, beats, relative):
    X = beats[0][:3]
    Z = fitted.transform(X)
    values = np.array([-2.0, 1.0])
    latents = [2, 0]
    T = fitted.traverse(X, latents=latents, values=values, relative=relative)
    for j, latent in enumerate(latents):
        Z_edit = np.repeat(Z[:, None, :], 2, axis=1)
        Z_edit[:, :, latent] = Z[:, latent:latent + 1] + values if relative else values
        expected = fitted.inverse_transform(Z_edit.reshape(-1, 3)).reshape(3, 2, -1)
        np.testing.assert_allclose(T[:, j], expected, rtol=1e-10, atol=1e-10)
    # Different latents decode to different signals.
    assert not np.allclose(T[:, 0], T[:, 1])


def test_reconstructs_held_out_beats_better_than_the_mean_beat():
    X, _ = make_heartbeats(1500, random_state=1)
    X_train, X_test = X[:1200], X[1200:]
    vae = BetaVAETransformer(latent_dim=6, hidden_layer_sizes=(64, 32), max_epochs=30,
                             batch_size=64, lr=2e-3, random_state=0).fit(X_train)
    reconstruction = vae.inverse_transform(vae.transform(X_test))
    # Compare in standardized units, where every sample of the beat counts alike.
    standardize = lambda A: (A - X_train.mean(0)) / X_train.std(0)  # noqa: E731
    vae_error = np.mean((standardize(reconstruction) - standardize(X_test)) ** 2)
    mean_error = np.mean(standardize(X_test) ** 2)
    assert vae_error < 0.5 * mean_error
    # Trained models explain the data better than a barely trained one.
    short = clone(vae).set_params(max_epochs=1).fit(X_train)
    assert vae.score(X_test) > short.score(X_test)


def test_outputs_are_in_the_input_units(beats):
    """Standardization inside the estimator: an affine change of units gives the same codes."""
    X = beats[0][:300]
    a, b = 1000.0, -40.0
    vae = BetaVAETransformer(**FAST).fit(X)
    vae_units = BetaVAETransformer(**FAST).fit(a * X + b)
    np.testing.assert_allclose(vae_units.transform(a * X + b), vae.transform(X), atol=1e-4)
    Z = vae.transform(X)
    np.testing.assert_allclose(vae_units.inverse_transform(Z), a * vae.inverse_transform(Z) + b, rtol=1e-4, atol=1e-2)
    assert abs(vae_units.sample(3, random_state=1).mean() - (a * vae.sample(3, random_state=1).mean() + b)) < 1.0


@pytest.mark.parametrize("scaling", ["standard", "global", "minmax", None])
def test_every_scaling_round_trips_units(beats, scaling):
    X = beats[0][:200]
    vae = BetaVAETransformer(**{**FAST, "max_epochs": 15, "lr": 1e-2}, scaling=scaling).fit(X)
    reconstruction = vae.inverse_transform(vae.transform(X))
    assert np.isfinite(reconstruction).all()
    # Reconstructions live in the data's range, not in the scaled one.
    assert abs(reconstruction.mean() - X.mean()) < 0.5 * X.std()


def test_bernoulli_likelihood_on_unit_interval_data(beats):
    X = beats[0][:200]
    X01 = (X - X.min()) / (X.max() - X.min())
    vae = BetaVAETransformer(**FAST, likelihood="bernoulli").fit(X01)
    reconstruction = vae.inverse_transform(vae.transform(X01))
    # Decoded probabilities map back inside each feature's observed range.
    assert (reconstruction >= X01.min(0) - 1e-9).all() and (reconstruction <= X01.max(0) + 1e-9).all()
    with pytest.raises(ValueError, match="bernoulli.*scaling"):
        BetaVAETransformer(**FAST, likelihood="bernoulli", scaling=None).fit(X)


@pytest.mark.parametrize("architecture", ["conv1d", "broadcast"])
@pytest.mark.parametrize("n_features", [7, 50, 187, 188])
def test_time_aware_architectures_handle_any_window_length(architecture, n_features, rng):
    X = np.cumsum(rng.normal(size=(64, n_features)), axis=1)
    vae = BetaVAETransformer(**{**FAST, "hidden_layer_sizes": (4, 8)}, architecture=architecture).fit(X)
    assert vae.inverse_transform(vae.transform(X)).shape == X.shape
    assert vae.traverse(X[:2], latents=[0], values=[0.0, 1.0]).shape == (2, 1, 2, n_features)


def test_broadcast_decoder_puts_a_moving_wave_in_one_latent():
    # One factor: the position of a narrow bump. The spatial broadcast decoder
    # can shift its output with a single latent; an MLP decoder spreads
    # position over several (max |rho| 0.56-0.69 here).
    rng = np.random.default_rng(0)
    position = rng.uniform(0.2, 0.8, 600)
    t = np.linspace(0.0, 1.0, 40)
    X = np.exp(-0.5 * ((t - position[:, None]) / 0.03) ** 2) + 0.01 * rng.standard_normal((600, 40))
    vae = BetaVAETransformer(latent_dim=3, architecture="broadcast", hidden_layer_sizes=(32,), beta=1.0,
                             decoder_variance="fixed", capacity=None, max_epochs=60, batch_size=64, lr=3e-3, random_state=0).fit(X)
    Z = vae.transform(X)
    best = max(abs(spearmanr(z, position)[0]) for z in Z.T)
    assert best > 0.95
    assert np.mean((vae.inverse_transform(Z) - X) ** 2) < 0.1 * X.var()


def test_broadcast_decoder_chunks_inference_without_changing_it(monkeypatch):
    module = BetaVAEModule(12, 2, "broadcast", (8,)).eval()
    z = torch.randn(50, 2)
    with torch.enable_grad():
        whole = module.decode(z)[0].detach()
    monkeypatch.setattr(_modules, "_BROADCAST_CHUNK", 36)  # 3 rows of 12 timepoints per chunk
    with torch.no_grad():
        torch.testing.assert_close(module.decode(z)[0], whole)


def test_capacity_schedule_in_history(beats):
    X = beats[0][:320]  # 10 batches of 32 per epoch
    vae = BetaVAETransformer(**{**FAST, "max_epochs": 4}, capacity=20.0).fit(X)
    # 40 steps; the default ramp is the whole run.
    np.testing.assert_allclose(vae.history_["capacity"], [5.0, 10.0, 15.0, 20.0])
    with pytest.warns(UserWarning, match="capacity_steps=1000 optimizer steps outlast this fit"):
        vae.set_params(capacity_steps=1000).fit(X)  # a ramp longer than the run stops short
    np.testing.assert_allclose(vae.history_["capacity"], [0.2, 0.4, 0.6, 0.8])
    vae.set_params(capacity_steps=10).fit(X)  # reaches C_max after the first epoch
    np.testing.assert_allclose(vae.history_["capacity"], [20.0] * 4)
    vae.set_params(capacity=None).fit(X)
    assert vae.history_["capacity"].isna().all()


def test_capacity_pulls_kl_towards_target(beats):
    X = beats[0]
    common = dict(FAST, latent_dim=6, max_epochs=15, lr=3e-3, capacity_steps=200)
    low = BetaVAETransformer(**common, beta=20.0, capacity=2.0).fit(X)
    high = BetaVAETransformer(**common, beta=20.0, capacity=15.0).fit(X)
    assert abs(low.history_["kl"].iloc[-1] - 2.0) < 1.0
    assert high.history_["kl"].iloc[-1] > 3 * low.history_["kl"].iloc[-1]
    assert high.kl_per_latent_.sum() > low.kl_per_latent_.sum()


def test_score_is_beta_independent_elbo(fitted, beats):
    X = beats[0]
    scores = fitted.score_samples(X)
    assert fitted.score(X) == pytest.approx(scores.mean())
    # The score is a property of the fitted model, not of the training objective.
    changed = copy.deepcopy(fitted).set_params(beta=50.0, capacity=None)
    assert changed.score(X) == fitted.score(X)
    # Signals from the data distribution score higher than scrambled ones.
    scrambled = np.random.default_rng(0).permuted(X[:50], axis=1)
    assert fitted.score(X[:50]) > fitted.score(scrambled)


def test_score_samples_does_not_depend_on_batching(fitted, beats):
    X = beats[0][:40]
    full = fitted.score_samples(X)
    np.testing.assert_allclose(fitted.score_samples(X[::-1])[::-1], full, rtol=1e-12)
    np.testing.assert_allclose(fitted.score_samples(X[:7]), full[:7], rtol=1e-12)


def test_sample_is_reproducible(fitted):
    np.testing.assert_array_equal(fitted.sample(4, random_state=3), fitted.sample(4, random_state=3))
    assert not np.allclose(fitted.sample(4, random_state=3), fitted.sample(4, random_state=4))


def test_random_state_reproducibility(beats):
    X = beats[0][:200]
    Z1 = BetaVAETransformer(**FAST).fit_transform(X)
    Z2 = BetaVAETransformer(**FAST).fit_transform(X)
    np.testing.assert_array_equal(Z1, Z2)
    Z3 = BetaVAETransformer(**{**FAST, "random_state": 1}).fit_transform(X)
    assert not np.allclose(Z1, Z3)
    unseeded = {**FAST, "random_state": None}
    assert not np.allclose(BetaVAETransformer(**unseeded).fit_transform(X),
                           BetaVAETransformer(**unseeded).fit_transform(X))


def test_fit_leaves_global_torch_rng_alone(beats):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    BetaVAETransformer(**FAST).fit(beats[0][:100])
    torch.testing.assert_close(torch.rand(3), expected)


def test_pickle_and_joblib_round_trip(fitted, beats):
    X = beats[0][:50]
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.transform(X), fitted.transform(X))
    buffer = io.BytesIO()
    joblib.dump(fitted, buffer)
    buffer.seek(0)
    np.testing.assert_array_equal(joblib.load(buffer).inverse_transform(fitted.transform(X)),
                                  fitted.inverse_transform(fitted.transform(X)))


def test_dataframe_input_and_pandas_output(beats):
    X = pd.DataFrame(beats[0][:200], columns=[f"t{i}" for i in range(187)])
    vae = BetaVAETransformer(**FAST).set_output(transform="pandas")
    Z = vae.fit_transform(X)
    assert isinstance(Z, pd.DataFrame)
    assert list(Z.columns) == ["betavaetransformer0", "betavaetransformer1", "betavaetransformer2"]
    assert list(vae.feature_names_in_) == list(X.columns)
    assert vae.inverse_transform(Z).shape == X.shape


def test_grid_search_over_beta_and_capacity_in_a_pipeline(beats):
    X, factors = beats
    y = (factors["st_shift"] > 0).astype(int).to_numpy()
    pipe = make_pipeline(BetaVAETransformer(**FAST), LogisticRegression())
    search = GridSearchCV(
        pipe,
        {"betavaetransformer__beta": [1.0, 4.0], "betavaetransformer__capacity": [None, 25.0]},
        cv=2,
        n_jobs=2,
    ).fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.best_estimator_.predict(X[:5]).shape == (5,)


def test_grid_search_by_score_alone(beats):
    X = beats[0][:200]
    search = GridSearchCV(BetaVAETransformer(**FAST), {"beta": [1.0, 8.0]}, cv=2).fit(X)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_verbose_levels(beats, capsys, monkeypatch):
    from skbvae import _progress

    X = beats[0][:100]
    # 0: nothing at all.
    BetaVAETransformer(**FAST).fit(X)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    # 1 outside a terminal (a log, CI, this capture): a line every LOG_INTERVAL_S and one at the end.
    monkeypatch.setattr(_progress, "LOG_INTERVAL_S", 0.0)
    BetaVAETransformer(**{**FAST, "max_epochs": 4, "verbose": 1}).fit(X)
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert captured.out == "" and len(lines) == 4, lines  # epochs 1-3 of 4, then the end
    assert lines[0].startswith("BetaVAETransformer: epoch 1/4 (25%), loss ") and "left" in lines[0]
    assert lines[-1].startswith("BetaVAETransformer: 4 epoch(s) in ")
    # 1 on a terminal: one tqdm bar over the epochs, its total known from the start.
    monkeypatch.setattr(_progress, "stderr_is_terminal", lambda: True)
    BetaVAETransformer(**{**FAST, "max_epochs": 4, "verbose": 1}).fit(X)
    captured = capsys.readouterr()
    assert "4/4" in captured.err and "epoch" in captured.err and "loss=" in captured.err
    assert captured.out == ""
    # 2: the per-epoch table, with history_'s column names ("loss", not skorch's "train_loss").
    vae = BetaVAETransformer(**{**FAST, "verbose": 2}).fit(X)
    captured = capsys.readouterr()
    header = captured.out.splitlines()[0].split()
    assert header == ["epoch", "capacity", "kl", "loss", "reconstruction", "dur"]
    assert set(header) <= set(vae.history_.columns)
    assert len(captured.out.strip().splitlines()) == 2 + vae.n_iter_  # header, rule, one row per epoch


def test_progress_with_early_stopping_says_it_stopped(beats, capsys):
    BetaVAETransformer(**{**FAST, "max_epochs": 200, "early_stopping": True, "n_iter_no_change": 2,
                          "tol": 1e6, "verbose": 1}).fit(beats[0][:100])
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert "of 200 (early stopping)" in last, last


def test_a_fit_whose_epochs_slow_down_says_so_once():
    from types import SimpleNamespace

    from skbvae._progress import SlowEpochWarning

    callback = SlowEpochWarning().initialize()
    net = SimpleNamespace(history=[{"dur": d} for d in (0.5, 0.4, 0.45, 0.5)])
    callback.on_epoch_end(net)  # normal jitter: silent
    net.history.append({"dur": 0.6})
    callback.on_epoch_end(net)
    net.history.append({"dur": 12.0})
    with pytest.warns(RuntimeWarning, match=r"epoch 6 took 12.0 s, 27x .*another process"):
        callback.on_epoch_end(net)
    net.history.append({"dur": 15.0})
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        callback.on_epoch_end(net)  # only once per fit
    # Fast epochs that slow down by 5x but stay under a second are not worth a warning.
    quick = SlowEpochWarning().initialize()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        quick.on_epoch_end(SimpleNamespace(history=[{"dur": d} for d in (0.01, 0.01, 0.01, 0.5)]))


def test_bfloat16_training_matches_float32_within_tolerance(beats):
    X = beats[0]
    settings = {**FAST, "latent_dim": 4, "max_epochs": 8, "lr": 3e-3}
    full = BetaVAETransformer(**settings).fit(X)
    mixed = BetaVAETransformer(**settings, precision="bfloat16").fit(X)
    assert np.isfinite(mixed.history_["loss"]).all()
    # Same data, same seed: the objective follows the same course within bf16 rounding.
    np.testing.assert_allclose(mixed.history_["loss"], full.history_["loss"], rtol=0.05)
    assert mixed.score(X) == pytest.approx(full.score(X), rel=0.1)
    assert mixed.transform(X).dtype == np.float64


def test_net_returns_to_training_mode_after_inference(beats):
    X = beats[0][:100]
    vae = BetaVAETransformer(**FAST).fit(X)
    vae.transform(X)
    assert not vae.net_.module_.training
    vae.net_.partial_fit(((X - vae.center_) / vae.scale_).astype(np.float32))
    assert vae.net_.module_.training
    assert len(vae.net_.history) == FAST["max_epochs"] + FAST["max_epochs"]


@pytest.mark.skipif(torch.cuda.is_available(), reason="simulates loading a GPU model without a GPU")
# skorch says it twice, the second time when it moves the module's data: the same fact.
@pytest.mark.filterwarnings("ignore:Requested to load data to CUDA but no CUDA devices")
def test_model_saved_on_gpu_loads_on_cpu_only_machine(fitted, beats):
    from skorch.exceptions import DeviceWarning

    on_gpu = copy.deepcopy(fitted)
    on_gpu.net_.device = "cuda"  # as pickled by a session that trained on a GPU
    with pytest.warns(DeviceWarning, match="cuda.*not available"):
        restored = pickle.loads(pickle.dumps(on_gpu))
    assert torch.device(restored.net_.device).type == "cpu"
    np.testing.assert_array_equal(restored.transform(beats[0][:20]), fitted.transform(beats[0][:20]))


def test_compiled_training_gives_the_same_model(beats, tmp_path, monkeypatch):
    # A cache of its own: inductor's cache key leaves out ATEN_CPU_CAPABILITY, so kernels an earlier
    # run compiled for AVX-512 were reused under ATEN_CPU_CAPABILITY=default and failed to build.
    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", str(tmp_path / "inductor"))
    X = beats[0][:200]
    settings = {**FAST, "max_epochs": 1}
    eager = BetaVAETransformer(**settings).fit(X)
    compiled = BetaVAETransformer(**settings, compile=True).fit(X)
    assert type(compiled.net_.module_).__name__ == "OptimizedModule"
    # Inductor draws the reparameterisation noise from its own RNG stream, so the
    # runs are not bitwise equal; the objective must follow the same course.
    np.testing.assert_allclose(compiled.history_["loss"], eager.history_["loss"], rtol=0.02)
    assert np.isfinite(compiled.transform(X)).all()
    restored = pickle.loads(pickle.dumps(compiled))
    np.testing.assert_array_equal(restored.transform(X), compiled.transform(X))
