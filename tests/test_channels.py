"""Multi-lead signals as channels: loader layout, channel-aware networks, per-channel scaling, plots."""

import numpy as np
import pytest
import torch

from conftest import FAST, SHARED_WFDB, needs_wfdb
from skbvae import BetaVAETransformer
from skbvae.datasets import load_wfdb_heartbeats, make_heartbeats
from test_datasets_wfdb import write_record


@pytest.fixture(scope="module")
def leads3():
    """Three 'leads' of the same beats at different gains and offsets: 600 rows of 3 × 187."""
    X, factors = make_heartbeats(600, random_state=0)
    return np.hstack([X, 0.3 * X + 1.0, -2.0 * X]), factors


def test_multi_lead_loader_cuts_every_lead_at_the_first_leads_peaks(tmp_path):
    write_record(tmp_path, "rec", 250, leads=("ii", "v1", "i"))
    X, meta = load_wfdb_heartbeats(tmp_path / "rec", lead=["ii", "v1"])
    single, single_meta = load_wfdb_heartbeats(tmp_path / "rec", lead="ii")
    v1, _ = load_wfdb_heartbeats(tmp_path / "rec", lead="v1")
    assert X.shape == (len(single), 2 * 187)
    np.testing.assert_allclose(X[:, :187], single)
    # write_record makes lead k the first lead times (1 + 0.1 k): same beats, same peaks.
    np.testing.assert_allclose(X[:, 187:], 1.1 * single, rtol=1e-3, atol=2e-3)
    assert (meta["lead"] == "ii,v1").all() and (meta["r_peak"] == single_meta["r_peak"]).all()
    assert v1.shape == single.shape
    frame, _ = load_wfdb_heartbeats(tmp_path / "rec", lead=["ii", "v1"], as_frame=True)
    assert list(frame.columns[[0, 186, 187, 373]]) == ["ii_t000", "ii_t186", "v1_t000", "v1_t186"]
    with pytest.raises(ValueError, match="same signal twice"):
        load_wfdb_heartbeats(tmp_path / "rec", lead=["ii", "II"])
    with pytest.raises(ValueError, match="no lead named 'v6'"):
        load_wfdb_heartbeats(tmp_path / "rec", lead=["ii", "v6"])
    with pytest.raises(ValueError, match="at least one lead"):
        load_wfdb_heartbeats(tmp_path / "rec", lead=[])


def test_a_lead_chooser_takes_each_records_own_pair(tmp_path):
    # MIT-BIH pairs MLII with V1 in most records, V5 in some, and 114 has V5 first.
    write_record(tmp_path, "r1", 250, leads=("MLII", "V1"))
    write_record(tmp_path, "r2", 250, leads=("V5", "MLII"), seed=1)
    write_record(tmp_path, "r3", 250, leads=("MLII",), seed=2)

    def mlii_and_other(names):
        return ["MLII", *[name for name in names if name != "MLII"][:1]]

    with pytest.raises(ValueError, match=r"chose \[1, 2\] leads in different records \(r3: 1; r1: 2\)"):
        load_wfdb_heartbeats(tmp_path, lead=mlii_and_other)
    (tmp_path / "r3.hea").unlink()
    (tmp_path / "r3.dat").unlink()
    X, meta = load_wfdb_heartbeats(tmp_path, lead=mlii_and_other, n_jobs=2)
    assert X.shape[1] == 2 * 187
    assert dict(meta.groupby("record")["lead"].first()) == {"r1": "MLII,V1", "r2": "MLII,V5"}
    # The same beats as naming each record's pair by hand.
    by_hand, _ = load_wfdb_heartbeats(tmp_path / "r2", lead=["MLII", "V5"])
    np.testing.assert_array_equal(X[(meta["record"] == "r2").to_numpy()], by_hand)
    with pytest.raises(ValueError, match="chose no lead"):
        load_wfdb_heartbeats(tmp_path / "r1", lead=lambda names: [])


def test_feature_count_must_be_a_multiple_of_n_channels(leads3):
    X = leads3[0][:, :-1]
    with pytest.raises(ValueError, match="not a multiple of n_channels=3"):
        BetaVAETransformer(**FAST, n_channels=3).fit(X)


@pytest.mark.parametrize("architecture, hidden", [("conv1d", (4, 8)), ("broadcast", (16,)), ("mlp", (16,))])
@pytest.mark.parametrize("decoder_variance", ["fixed", "heteroscedastic"])
def test_channel_networks_fit_and_decode_every_channel(leads3, architecture, hidden, decoder_variance):
    X = leads3[0]
    vae = BetaVAETransformer(**{**FAST, "hidden_layer_sizes": hidden, "max_epochs": 3}, architecture=architecture,
                             n_channels=3, decoder_variance=decoder_variance).fit(X)
    module = vae.net_.module_
    if architecture == "conv1d":
        assert module.encoder.features[0].in_channels == 3
    Z = vae.transform(X[:20])
    assert vae.inverse_transform(Z).shape == (20, 561)
    means, std = vae.traverse(X[:2], latents=[0], values=[-1.0, 1.0], return_std=True)
    assert means.shape == std.shape == (2, 1, 2, 561) and np.isfinite(means).all()
    with torch.no_grad():
        loc, _ = module.decode(torch.zeros(1, 3))
    assert loc.shape == (1, 561)


def test_conv1d_channels_reconstruct_each_lead_in_its_own_units(leads3):
    X = leads3[0]
    vae = BetaVAETransformer(latent_dim=4, architecture="conv1d", n_channels=3, hidden_layer_sizes=(8, 16),
                             max_epochs=30, batch_size=64, lr=2e-3, rotation=None, random_state=0).fit(X[:500])
    X_hat = vae.inverse_transform(vae.transform(X[500:]))
    for c in range(3):
        block = slice(187 * c, 187 * (c + 1))
        error = np.mean((X_hat[:, block] - X[500:, block]) ** 2)
        assert error < 0.5 * X[500:, block].var(axis=0).sum() / 187


def test_global_scaling_is_per_channel(leads3):
    X = leads3[0]
    vae = BetaVAETransformer(**FAST, n_channels=3, scaling="global").fit(X)
    for c in range(3):
        block = X[:, 187 * c:187 * (c + 1)]
        np.testing.assert_allclose(vae.center_[187 * c:187 * (c + 1)], block.mean(), rtol=1e-9)
        np.testing.assert_allclose(vae.scale_[187 * c:187 * (c + 1)], block.std(), rtol=1e-9)
    single = BetaVAETransformer(**FAST, scaling="global").fit(X)
    assert np.ptp(single.scale_) == 0  # one scale for everything without channels


def test_plots_draw_one_row_per_lead(leads3):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import pandas as pd
    from matplotlib import pyplot as plt

    from skbvae.plotting import plot_reconstructions, plot_traversal

    X = pd.DataFrame(leads3[0], columns=[f"{lead}_t{k:03d}" for lead in ("ii", "v1", "v5") for k in range(187)])
    vae = BetaVAETransformer(**FAST, n_channels=3).fit(X)
    fig = plot_traversal(vae, X.iloc[0], latents=[0, 1], values=[-1.0, 1.0])
    panels = fig.axes[:6]
    assert [ax.get_ylabel() for ax in panels[::2]] == ["ii", "v1", "v5"]
    np.testing.assert_allclose(panels[2].lines[-1].get_ydata(), X.iloc[0, 187:374])  # v1's input, row 2
    fig = plot_reconstructions(vae, X, n_signals=2)
    assert [ax.get_ylabel() for ax in fig.axes[:6:2]] == ["ii", "v1", "v5"]
    np.testing.assert_allclose(fig.axes[5].lines[0].get_ydata(), X.iloc[1, 374:])
    plt.close("all")


@needs_wfdb("s0010_re.hea", "s0010_re.dat")
def test_three_lead_fit_on_ptb_s0010_re(tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    from skbvae.plotting import plot_traversal

    X, meta = load_wfdb_heartbeats(SHARED_WFDB / "s0010_re", lead=["ii", "i", "v2"], as_frame=True)
    assert X.shape == (50, 561) and meta["lead"].iloc[0] == "ii,i,v2"
    vae = BetaVAETransformer(latent_dim=4, architecture="conv1d", n_channels=3, hidden_layer_sizes=(8, 16),
                             max_epochs=20, random_state=0).fit(X)
    assert vae.traverse(X.iloc[:1]).shape == (1, vae.n_components_, 7, 561)
    fig = plot_traversal(vae, X.iloc[0], time=np.arange(187) / 125.0)
    assert [ax.get_ylabel() for ax in fig.axes[:3 * vae.n_components_:vae.n_components_]] == ["ii", "i", "v2"]
    fig.savefig(tmp_path / "leads.png")


def test_plots_of_a_model_fitted_on_a_frame_do_not_warn_about_feature_names(leads3):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import warnings

    import pandas as pd
    from matplotlib import pyplot as plt

    from skbvae.plotting import plot_reconstructions, plot_traversal

    X = pd.DataFrame(leads3[0][:, :187], columns=[f"ii_t{k:03d}" for k in range(187)])
    vae = BetaVAETransformer(**FAST).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        plot_traversal(vae, X.iloc[0])
        plot_reconstructions(vae, X.to_numpy())
    plt.close("all")
