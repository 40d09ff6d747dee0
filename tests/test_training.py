"""Training controls: max_epochs="auto", early stopping on the held-out ELBO, warm start, capacity ramp."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.decomposition import PCA
from sklearn.preprocessing import StandardScaler

from conftest import FAST
from skbvae import BetaVAETransformer, _training
from skbvae.datasets import make_heartbeats


def test_auto_epochs_give_small_data_a_step_budget():
    assert _training.resolve_max_epochs(7, 400, 256) == 7
    # 400 rows at batch 256 are 2 steps an epoch: 50 epochs would be 100 steps.
    assert _training.resolve_max_epochs("auto", 400, 256) == _training.AUTO_MIN_STEPS // 2
    assert _training.resolve_max_epochs("auto", 1_000_000, 256) == _training.AUTO_MIN_EPOCHS
    assert _training.resolve_max_epochs("auto", 10, 256) == min(_training.AUTO_MAX_EPOCHS, _training.AUTO_MIN_STEPS)


def test_default_fit_on_400_rows_reconstructs_better_than_pca3():
    X, _ = make_heartbeats(900, random_state=3)
    X_train, X_test = X[:400], X[400:]
    scaler = StandardScaler().fit(X_train)
    pca = PCA(3).fit(scaler.transform(X_train))
    pca_error = np.mean((scaler.transform(X_test) - pca.inverse_transform(pca.transform(scaler.transform(X_test)))) ** 2)
    vae = BetaVAETransformer(random_state=0).fit(X_train)  # defaults: max_epochs="auto"
    vae_error = np.mean(((vae.inverse_transform(vae.transform(X_test)) - X_test) / scaler.scale_) ** 2)
    assert vae.net_.optimizer_steps_ >= _training.AUTO_MIN_STEPS
    assert vae_error < pca_error, (vae_error, pca_error)


def test_early_stopping_stops_on_a_plateau_and_restores_the_best_weights(beats):
    X, _ = beats
    vae = BetaVAETransformer(**{**FAST, "max_epochs": 300, "lr": 1e-2, "early_stopping": True,
                                "n_iter_no_change": 3, "validation_fraction": 0.2}).fit(X)
    assert vae.n_iter_ < 300
    assert "valid_loss" in vae.history_.columns and vae.history_["valid_loss"].notna().all()
    np.testing.assert_allclose(vae.validation_scores_, -vae.history_["valid_loss"])
    best = int(np.argmax(vae.validation_scores_))
    assert vae.best_validation_score_ == vae.validation_scores_[best]
    assert vae.n_iter_ - 1 - best == 3  # stopped n_iter_no_change epochs after the best
    stopper = dict(vae.net_.callbacks_)["early_stopping"]
    for name, weights in vae.net_.module_.state_dict().items():
        np.testing.assert_array_equal(weights.numpy(), stopper.best_model_weights_[name].numpy())


def test_without_early_stopping_every_row_trains(beats):
    X, _ = beats
    vae = BetaVAETransformer(**FAST).fit(X)
    assert vae.validation_scores_ is None and vae.best_validation_score_ is None
    assert "valid_loss" not in vae.history_.columns


@pytest.mark.filterwarnings("ignore:X has 1 rows for latent_dim")  # said before the error; tested in test_errors
def test_early_stopping_needs_rows_to_hold_out(beats):
    X, _ = beats
    with pytest.raises(ValueError, match="n_samples=1"):
        BetaVAETransformer(**{**FAST, "early_stopping": True, "rotation": None}).fit(X[:1])


def test_warm_start_continues_history_steps_and_capacity(beats):
    X, _ = beats
    params = {**FAST, "capacity": 25.0, "beta": 4.0, "max_epochs": 3}
    cold = BetaVAETransformer(**params).fit(X)
    steps = cold.net_.optimizer_steps_
    warm = BetaVAETransformer(**params, warm_start=True).fit(X)
    first_module = warm.net_.module_
    warm.fit(X)
    assert warm.n_iter_ == 6 and len(warm.history_) == 6
    assert warm.net_.optimizer_steps_ == 2 * steps
    # The first fit's ramp (its whole run) ended at C; the continuation stays there, not from 0.
    np.testing.assert_allclose(warm.history_["capacity"], 25.0 * np.minimum(np.arange(1, 7) / 3, 1))
    assert warm.net_.module_ is not first_module  # the fitted network was copied, not changed
    # Continuing is not restarting: the 4th epoch starts where the 3rd ended.
    restarted = BetaVAETransformer(**params).fit(X)
    assert warm.history_["loss"].iloc[3] < restarted.history_["loss"].iloc[0]
    # Six epochs in two calls equal six in one with the same ramp, up to the reseeded shuffling.
    once = BetaVAETransformer(**{**params, "max_epochs": 6, "capacity_steps": steps}).fit(X)
    assert abs(warm.history_["loss"].iloc[5] - once.history_["loss"].iloc[5]) < 0.05 * abs(warm.history_["loss"].iloc[5])


def test_warm_start_refuses_a_different_network(beats):
    X, _ = beats
    vae = BetaVAETransformer(**FAST, warm_start=True).fit(X)
    with pytest.raises(ValueError, match="warm_start=True"):
        vae.set_params(latent_dim=5).fit(X)
    assert vae.n_features_in_ == 187 and vae.net_.module_.latent_dim == 3  # unchanged by the failure


@pytest.mark.parametrize("n_rows, max_epochs", [(300, 3), (600, 5)])
def test_capacity_ramp_ends_at_the_capacity_on_any_run_length(beats, n_rows, max_epochs):
    X = beats[0][:n_rows]
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # nothing the user chose fails here
        vae = BetaVAETransformer(**{**FAST, "capacity": 25.0, "beta": 4.0, "max_epochs": max_epochs}).fit(X)
    steps = vae.net_.optimizer_steps_
    assert steps == max_epochs * -(-n_rows // 32) == vae.net_.criterion_.capacity_steps
    assert vae.history_["capacity"].iloc[-1] == 25.0
    np.testing.assert_allclose(vae.history_["capacity"], 25.0 * np.arange(1, max_epochs + 1) / max_epochs)


def test_the_seed_setup_reaches_its_capacity_on_real_data_sizes():
    # The article's setup on 2,059 beats (a user's real-data size): 50 epochs
    # are 450 steps; an earlier ramp of at least 1,000 steps ended at C(t) = 11.2
    # and warned. Now the ramp is the run, and the KL follows it to C.
    X, _ = make_heartbeats(2059, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        vae = BetaVAETransformer(beta=4.0, capacity=25.0, max_epochs=50, rotation=None, decoder_variance="fixed",
                                 hidden_layer_sizes=(64, 32), random_state=0).fit(X)
    assert vae.history_["capacity"].iloc[-1] == 25.0
    # The KL tracks the target: within a few nats of C at the end (measured 24.4).
    assert abs(vae.history_["kl"].iloc[-1] - 25.0) < 5.0, vae.history_["kl"].iloc[-1]


def test_capacity_that_does_nothing_says_so_once(beats):
    X = beats[0][:300]
    # A ramp of 1,000 steps, of which 3 epochs take 30: C(t) ends far below C.
    with pytest.warns(UserWarning, match=r"capacity=25: the ramp reached C\(t\) = 0.75 nats") as record:
        BetaVAETransformer(**{**FAST, "max_epochs": 3}, beta=4.0, capacity=25.0, capacity_steps=1000).fit(X)
    assert sum("capacity=" in str(w.message) for w in record) == 1
    # A KL held above C(t) by a small β: the capacity acts as plain β·KL.
    with pytest.warns(UserWarning, match="stayed above the target C"):
        BetaVAETransformer(**{**FAST, "max_epochs": 60, "latent_dim": 10}, beta=0.25, capacity=1.0,
                           capacity_steps=50).fit(X)
    # A capacity that binds: no warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        BetaVAETransformer(**{**FAST, "max_epochs": 60}, beta=20.0, capacity=5.0, capacity_steps=50).fit(X)


def test_history_reads_as_skorch_history_does(beats):
    vae = BetaVAETransformer(**{**FAST, "max_epochs": 3}).fit(beats[0][:200])
    history = vae.history_
    assert history[-1, "loss"] == history["loss"].iloc[-1] == vae.net_.history[-1, "train_loss"]
    assert history[:, "kl"] == vae.net_.history[:, "kl"]
    assert history[0, ["loss", "kl"]] == (history["loss"].iloc[0], history["kl"].iloc[0])
    assert isinstance(history[["loss", "kl"]], pd.DataFrame) and len(history.tail(1)) == 1  # a DataFrame still
    with pytest.raises(KeyError, match="'train_loss' is 'loss' here"):
        history[-1, "train_loss"]
