"""rotation="ica" / "varimax": a basis of the active latents, and every method working in it."""

import numpy as np
import pytest

from conftest import FAST
from skbvae import BetaVAETransformer
from skbvae._rotation import _varimax, fit_rotation, select_active
from skbvae.metrics import mutual_info_gap


@pytest.fixture(scope="module")
def mixed_sources():
    """Three independent uniform sources, each a bump; the bumps overlap, so PCA-like axes mix them."""
    rng = np.random.default_rng(0)
    S = rng.uniform(-1, 1, size=(1200, 3))
    t = np.linspace(0, 1, 40)
    bumps = np.stack([np.exp(-0.5 * ((t - c) / 0.15) ** 2) for c in (0.35, 0.5, 0.65)])
    return S @ bumps + 0.05 * rng.normal(size=(1200, 40)), S


def _fit(X, rotation, latent_dim=4):
    return BetaVAETransformer(latent_dim=latent_dim, hidden_layer_sizes=(32,), max_epochs=40, lr=2e-3,
                              rotation=rotation, random_state=0).fit(X)


@pytest.fixture(scope="module")
def fitted_pair(mixed_sources):
    X, _ = mixed_sources
    return {rotation: _fit(X, rotation) for rotation in (None, "ica", "varimax")}


def test_ica_rotation_identifies_mixed_sources(mixed_sources):
    X, S = mixed_sources
    # As many latents as sources: the Gaussian prior leaves the three sources
    # rotated, and FastICA converges on their non-Gaussianity. Measured (seeds
    # 0-3; 1 and 2 threads; ATEN_CPU_CAPABILITY default and AVX2, identical):
    # None 0.08-0.24, ica 0.38-0.43, varimax 0.33-0.38; seed 0: 0.083, 0.431,
    # 0.379. With a fourth active latent (a near-Gaussian direction no rotation
    # can orient) FastICA stops at its iteration limit wherever rounding leaves
    # it: 0.22 with AVX2 and 0.39 without on the same fit, so that case tests
    # nothing reliable.
    mig = {rotation: mutual_info_gap(_fit(X, rotation, latent_dim=3).transform(X), S)
           for rotation in (None, "ica", "varimax")}
    assert mig["ica"] > mig[None] + 0.15, mig
    assert mig["varimax"] > mig[None] + 0.15, mig


def test_rotated_codes_are_the_active_latents_whitened(fitted_pair, mixed_sources):
    X, _ = mixed_sources
    plain, vae = fitted_pair[None], fitted_pair["ica"]
    active = plain.kl_per_latent_ > 0.01
    assert vae.n_components_ == active.sum() == len(vae.active_latents_)
    assert set(vae.active_latents_) == set(np.flatnonzero(active))
    Z = vae.transform(X)
    assert Z.shape == (len(X), vae.n_components_)
    # The rotation is fitted on fit's float32 codes and transform runs in the
    # input's float64: they differ by ~1e-7, which whitening scales up.
    np.testing.assert_allclose(Z.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(np.cov(Z, rowvar=False, ddof=0), np.eye(vae.n_components_), atol=1e-5)
    assert vae.rotation_.shape == vae.mixing_.shape == (vae.n_components_,) * 2
    assert list(vae.get_feature_names_out()) == [f"betavaetransformer{i}" for i in range(vae.n_components_)]
    assert plain.rotation_ is None and plain.n_components_ == 4


def test_rotation_leaves_the_model_unchanged(fitted_pair, mixed_sources):
    X, _ = mixed_sources
    reference = fitted_pair[None]
    for rotation in ("ica", "varimax"):
        vae = fitted_pair[rotation]
        np.testing.assert_allclose(vae.inverse_transform(vae.transform(X)),
                                   reference.inverse_transform(reference.transform(X)), atol=1e-8)
        np.testing.assert_allclose(vae.score_samples(X), reference.score_samples(X))


def test_traverse_and_sample_work_in_the_rotated_basis(fitted_pair, mixed_sources):
    X, _ = mixed_sources
    vae = fitted_pair["ica"]
    Z = vae.transform(X[:3])
    values = np.array([-3.0, 0.5, 3.0])
    T = vae.traverse(X[:3], latents=[1], values=values)
    for k, value in enumerate(values):
        edited = Z.copy()
        edited[:, 1] = value
        np.testing.assert_allclose(T[:, 0, k], vae.inverse_transform(edited), atol=1e-10)
    assert vae.sample(5, random_state=0).shape == (5, 40)
    with pytest.raises(ValueError, match="outputs .* components .*ica rotation"):
        vae.inverse_transform(np.zeros((2, vae.n_components_ + 1)))


def test_rotation_order_and_signs_are_conventions_not_accidents(mixed_sources):
    X, _ = mixed_sources
    rng = np.random.default_rng(1)
    mu = rng.uniform(-1, 1, size=(1200, 3)) @ np.array([[1.0, 0.3, 0.0], [0.2, 1.0, 0.1], [0.0, 0.4, 1.0]])
    mean, rotation = fit_rotation(mu, X, "ica", random_state=0)
    codes = (mu - mean) @ rotation
    loadings = np.linalg.lstsq(codes, X - X.mean(axis=0), rcond=None)[0].T
    power = (loadings**2).sum(axis=0)
    assert np.all(np.diff(power) <= 1e-12)  # most of the signal's variance first
    assert np.all(loadings[np.abs(loadings).argmax(axis=0), np.arange(3)] > 0)  # largest loading positive


def test_varimax_makes_loadings_simpler():
    rng = np.random.default_rng(0)
    simple = np.kron(np.eye(3), np.ones((5, 1)))  # each component loads on 5 features only
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    mixed = simple @ q
    recovered = mixed @ _varimax(mixed)
    # Up to order and sign, varimax undoes the rotation.
    np.testing.assert_allclose(np.sort(np.abs(recovered), axis=1), np.sort(simple, axis=1), atol=1e-4)


def test_select_active_keeps_at_least_one_latent():
    assert select_active([0.0, 0.5, 0.02, 0.001]).tolist() == [1, 2]
    assert select_active([0.0, 0.004, 0.001]).tolist() == [1]


@pytest.mark.filterwarnings("ignore:X has 1 rows for latent_dim")  # said before the error; tested in test_errors
def test_rotation_needs_two_rows_and_names_the_option(beats):
    X, _ = beats
    with pytest.raises(ValueError, match="n_samples=1"):
        BetaVAETransformer(**{**FAST, "rotation": "ica"}).fit(X[:1])
    with pytest.raises(ValueError, match="rotation"):
        BetaVAETransformer(**{**FAST, "rotation": "promax"}).fit(X)


def test_sample_from_the_codes_mixture_follows_the_codes():
    # Two sources that are each -1 or +1: the codes of real signals sit in four
    # clusters, and N(0, I) draws fill the space between them.
    rng = np.random.default_rng(0)
    S = rng.choice([-1.0, 1.0], size=(1200, 2))
    t = np.linspace(0, 1, 40)
    bumps = np.stack([np.exp(-0.5 * ((t - c) / 0.1) ** 2) for c in (0.3, 0.7)])
    X = S @ bumps + 0.05 * rng.normal(size=(1200, 40))
    vae = BetaVAETransformer(latent_dim=3, hidden_layer_sizes=(32,), max_epochs=40, lr=2e-3,
                             random_state=0).fit(X)
    drawn = vae.sample(400, random_state=0, X=X)
    assert drawn.shape == (400, 40)
    np.testing.assert_array_equal(drawn, vae.sample(400, random_state=0, X=X))

    def off_the_data(signals):  # how far the sources read off a signal are from ±1
        sources = np.linalg.lstsq(bumps.T, signals.T, rcond=None)[0].T
        return np.mean(np.abs(np.abs(sources) - 1))

    assert off_the_data(drawn) < 0.5 * off_the_data(vae.sample(400, random_state=0))


def test_rotation_that_does_not_converge_says_so_once(mixed_sources, monkeypatch, capsys):
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    from skbvae import _rotation

    # One iteration never meets FastICA's tolerance, so the warning's logic is
    # tested whether or not FastICA would converge on this machine's rounding.
    monkeypatch.setattr(_rotation, "_SAID", set())
    monkeypatch.setattr(_rotation, "_ICA_MAX_ITER", 1)
    X, _ = mixed_sources
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        for verbose in (0, 1, 1, 1):
            BetaVAETransformer(latent_dim=3, hidden_layer_sizes=(16,), max_epochs=2, verbose=verbose,
                               random_state=0).fit(X)
    # Silent at verbose=0 (the default), said once (not once per fit) at verbose=1, as a note with the
    # progress lines rather than a warning (it is the usual case).
    assert not [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    notes = [line for line in capsys.readouterr().err.splitlines() if line.startswith("note: rotation='ica'")]
    assert len(notes) == 1 and "1 iterations" in notes[0]


def test_ica_with_groups_separates_the_within_group_deviations():
    # Two factors whose record means are large and Gaussian (ICA cannot orient
    # them) and whose within-record spreads differ from record to record (a
    # heavy-tailed scale mixture, which it can): mixed by a 45° rotation.
    from skbvae._rotation import fit_rotation

    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(100), 30)
    means, spreads = rng.normal(0, 3, (100, 2)), rng.uniform(0.1, 2, (100, 2))
    S = means[groups] + spreads[groups] * rng.standard_normal((3000, 2))
    mu = S @ (np.array([[1, 1], [-1, 1]]) / np.sqrt(2))
    X = mu @ rng.normal(size=(2, 20))
    found = {}
    for name, g in (("plain", None), ("groups", groups)):
        mean, rotation = fit_rotation(mu, X, "ica", 0, g)
        Z = (mu - mean) @ rotation
        np.testing.assert_allclose(Z.std(axis=0), 1.0, rtol=1e-6)  # unit variance either way
        found[name] = np.abs(np.corrcoef(Z.T, S.T)[:2, 2:]).max(axis=0)
    # Measured (seed 0): plain 0.74 and 0.81, with groups 1.00 and 0.998.
    assert (found["groups"] > 0.99).all() and (found["plain"] < 0.9).all(), found
