"""Figures: each plot returns a Figure, draws into given axes, and shows the right data."""

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from conftest import FAST
from skbvae import BetaVAETransformer

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from skbvae.plotting import (  # noqa: E402
    plot_history,
    plot_latent_kl,
    plot_latent_vs_factor,
    plot_reconstructions,
    plot_traversal,
)


@pytest.fixture(scope="module")
def vae(beats):
    return BetaVAETransformer(**FAST, beta=4.0, capacity=25.0, decoder_variance="fixed").fit(beats[0])


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_traversal_panels_ordered_by_kl_with_input_and_ramp(vae, beats):
    x = beats[0][0]
    fig = plot_traversal(vae, x, values=np.linspace(-3, 3, 5))
    panels = fig.axes[:3]
    order = np.argsort(-vae.kl_per_latent_)
    assert [ax.get_title().split()[0] for ax in panels] == [f"z{i}" for i in order]
    first = panels[0]
    assert len(first.lines) == 6  # five traversal values and the input
    np.testing.assert_allclose(first.lines[-1].get_ydata(), x)
    expected = vae.traverse(x[None], latents=[order[0]], values=np.linspace(-3, 3, 5))[0, 0]
    np.testing.assert_allclose(first.lines[0].get_ydata(), expected[0])
    assert f"KL={vae.kl_per_latent_[order[0]]:.2f}" in first.get_title()


def test_traversal_into_given_axes_and_through_a_pipeline(vae, beats):
    fig, axes = plt.subplots(1, 2)
    pipe = make_pipeline(FunctionTransformer(), vae)
    out = plot_traversal(pipe, beats[0][0], latents=[0, 2], order="index", axes=axes)
    assert out is fig and axes[1].get_title().startswith("z2")
    with pytest.raises(ValueError, match="axes has 2 Axes but 3 panels"):
        plot_traversal(vae, beats[0][0], axes=axes)
    with pytest.raises(ValueError, match="order must be"):
        plot_traversal(vae, beats[0][0], order="random")


def test_traversal_band_and_cumulative_paths_of_a_learned_variance(beats):
    X = beats[0]
    vae = BetaVAETransformer(**FAST, decoder_variance="heteroscedastic").fit(X)
    values = np.array([-2.0, 0.0, 2.0])
    fig = plot_traversal(vae, X[0], latents=[1], values=values, cumulative=True)
    panel = fig.axes[0]
    means, std = vae.traverse(X[:1], latents=[1], values=values, return_std=True)
    path, path_std = np.cumsum(means[0, 0], axis=-1), np.sqrt(np.cumsum(std[0, 0] ** 2, axis=-1))
    # Per value: lower and upper band edge, then the mean path; the input path last.
    assert len(panel.lines) == 3 * len(values) + 1 and len(panel.collections) == len(values)
    np.testing.assert_allclose(panel.lines[0].get_ydata(), path[0] - 2 * path_std[0])
    np.testing.assert_allclose(panel.lines[1].get_ydata(), path[0] + 2 * path_std[0])
    np.testing.assert_allclose(panel.lines[2].get_ydata(), path[0])
    np.testing.assert_allclose(panel.lines[-1].get_ydata(), np.cumsum(X[0]))
    assert fig.get_supylabel() == "cumulative signal"
    # Without a learned variance the band is off unless asked for.
    fixed = BetaVAETransformer(**FAST, decoder_variance="fixed").fit(X)
    assert len(plot_traversal(fixed, X[0], latents=[1], values=values).axes[0].collections) == 0
    assert len(plot_traversal(fixed, X[0], latents=[1], values=values, band=True).axes[0].collections) == 3


def test_traversal_and_reconstruction_figures_say_what_they_show(vae, beats):
    time = np.arange(187) / 125.0
    fig = plot_traversal(vae, beats[0][0], time=time, xlabel="time (s)", ylabel="mV")
    assert fig.get_supxlabel() == "time (s)" and fig.get_supylabel() == "mV"
    assert "from -3 to 3" in fig.get_suptitle()
    np.testing.assert_allclose(fig.axes[0].lines[0].get_xdata(), time)
    fig = plot_reconstructions(vae, beats[0], time=time)
    assert fig.get_supxlabel() == "time" and fig.get_supylabel() == "signal"
    assert "reconstructions" in fig.get_suptitle()


def test_plots_refuse_unfitted_or_foreign_estimators(beats):
    with pytest.raises(NotFittedError):
        plot_latent_kl(BetaVAETransformer())
    with pytest.raises(TypeError, match="expected a BetaVAETransformer"):
        plot_history(FunctionTransformer())
    with pytest.raises(TypeError, match="no BetaVAETransformer step"):
        plot_history(make_pipeline(FunctionTransformer()))


def test_latent_kl_bars(vae):
    fig, ax = plt.subplots()
    assert plot_latent_kl(vae, ax=ax) is fig
    np.testing.assert_allclose([bar.get_height() for bar in ax.patches], vae.kl_per_latent_)


def test_history_curves(vae):
    fig = plot_history(vae)
    loss_ax, _, kl_ax = fig.axes
    np.testing.assert_allclose(loss_ax.lines[0].get_ydata(), vae.history_["loss"])
    assert len(kl_ax.lines) == 2  # KL and its capacity target


def test_reconstructions_and_latent_vs_factor(vae, beats):
    X, factors = beats
    fig = plot_reconstructions(vae, X, n_signals=4)
    assert sum(ax.get_visible() for ax in fig.axes) == 4
    np.testing.assert_allclose(fig.axes[0].lines[1].get_ydata(), vae.inverse_transform(vae.transform(X[:1]))[0])
    fig = plot_latent_vs_factor(vae, X, factors, max_points=100)
    assert len(fig.axes) == 3 * 7 + 2  # scatter grid, MI image, colour bar
    fig.canvas.draw()
    grid = np.array(fig.axes[:21], dtype=object).reshape(3, 7)

    def labelled(axis):
        return [tick.get_text() for tick in axis.get_ticklabels() if tick.get_visible() and tick.get_text()]

    # The bottom row reads each factor's values, the left column each latent's (none had ticks before).
    assert all(len(labelled(ax.xaxis)) >= 2 for ax in grid[-1])
    assert all(len(labelled(ax.yaxis)) >= 2 for ax in grid[:, 0])
    assert not labelled(grid[0, 1].xaxis) and not labelled(grid[0, 1].yaxis)


def test_traversal_labels_go_under_the_panel_titles(vae, beats):
    fig = plot_traversal(vae, beats[0][0], latents=[0, 1], order="index", labels={1: "heart_rate |ρ| 0.9"})
    assert fig.axes[1].get_title().endswith("\nheart_rate |ρ| 0.9")
    assert "\n" not in fig.axes[0].get_title()


# ------------------------------------------------------------------ axes with units
def _loaded_frame(tmp_path):
    """Beats of a written WFDB record, as the loader's DataFrame (as_frame=True)."""
    import warnings

    import wfdb

    from skbvae.datasets import load_wfdb_heartbeats, make_ecg

    ecg, _ = make_ecg(60.0, fs=250, random_state=0)
    wfdb.wrsamp("rec", fs=250, units=["mV"], sig_name=["II"], p_signal=ecg[:, None], fmt=["16"], adc_gain=[1000.0],
                baseline=[0], write_dir=str(tmp_path))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_wfdb_heartbeats(tmp_path / "rec", as_frame=True)[0]


def test_a_model_fitted_on_the_loaders_frame_draws_seconds_from_r_and_mv(tmp_path):
    X = _loaded_frame(tmp_path)
    assert X.attrs["signal"] == {"fs": 125.0, "start": -0.25, "units": "mV"}
    vae = BetaVAETransformer(**{**FAST, "rotation": "ica"}).fit(X)
    assert vae.signal_info_ == {"fs": 125.0, "start": -0.25, "units": "mV"}
    fig = plot_traversal(vae, X.iloc[0])
    assert fig._supxlabel.get_text() == "time from R (s)" and fig._supylabel.get_text() == "signal (mV)"
    x_values = fig.axes[0].lines[0].get_xdata()
    assert x_values[0] == pytest.approx(-0.25) and x_values[-1] == pytest.approx(-0.25 + 186 / 125)
    assert fig.axes[0].get_title().startswith("component 0")  # not "z0 (ica)"
    fig = plot_reconstructions(vae, X.iloc[:3])
    assert fig._supxlabel.get_text() == "time from R (s)" and fig._supylabel.get_text() == "signal (mV)"
    # Arrays carry no units: the estimator says none, and the caller can.
    plain = BetaVAETransformer(**FAST).fit(X.to_numpy())
    assert plain.signal_info_ is None
    fig = plot_traversal(plain, X.to_numpy()[0])
    assert fig._supxlabel.get_text() == "time (samples)" and fig._supylabel.get_text() == "signal"
    fig = plot_traversal(plain, X.to_numpy()[0], fs=125, start=-0.25, units="mV")
    assert fig._supxlabel.get_text() == "time from R (s)" and fig._supylabel.get_text() == "signal (mV)"
    assert plot_traversal(plain, X.to_numpy()[0], fs=125)._supxlabel.get_text() == "time (s)"


def test_signal_info_survives_model_files(tmp_path):
    from skbvae import io

    X = _loaded_frame(tmp_path)
    vae = BetaVAETransformer(**FAST).fit(X)
    assert io.load(io.dump(vae, tmp_path / "m.skbvae")).signal_info_ == vae.signal_info_


def test_traversal_of_several_signals_says_to_pass_one(vae, beats):
    with pytest.raises(ValueError, match=r"x must be one signal \(one row of X, e.g. X\[0\]\); got 3 rows"):
        plot_traversal(vae, beats[0][:3])
    with pytest.raises(ValueError, match="one signal of 187 samples"):
        plot_traversal(vae, beats[0][0][:100])


def test_latent_vs_factor_takes_factors_with_nan(vae, beats):
    X, factors = beats
    gappy = factors.copy()
    gappy.loc[: len(gappy) // 3, "st_shift"] = np.nan  # a feature measured on two thirds of the beats
    with pytest.warns(UserWarning, match=r"st_shift 201 of 600 rows"):
        fig = plot_latent_vs_factor(vae, X, gappy)
    assert len(fig.axes) > 0
