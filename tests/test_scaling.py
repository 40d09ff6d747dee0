"""Input scaling: chunked float64 moments equal NumPy's on the whole array."""

import numpy as np
import pytest

from skbvae import _scaling
from skbvae._scaling import fit_scaling, scale_to_float32


@pytest.fixture
def X():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((1001, 6)) * [1.0, 10.0, 1e-3, 5.0, 1.0, 1.0] + [0.0, 100.0, 3.0, -2.0, 1e4, 0.0]
    X[:, 5] = 2.5  # a constant feature
    return X.astype(np.float32)


@pytest.mark.parametrize("chunk_rows", [7, 1000, 16384])
@pytest.mark.parametrize("scaling", ["standard", "global", "minmax", None])
def test_chunked_scaling_matches_whole_array_numpy(X, scaling, chunk_rows, monkeypatch):
    monkeypatch.setattr(_scaling, "_CHUNK_ROWS", chunk_rows)
    X64 = X.astype(np.float64)
    expected = {
        "standard": (X64.mean(0), X64.std(0)),
        "global": (np.full(6, X64.mean()), np.full(6, X64.std())),
        "minmax": (X64.min(0), X64.max(0) - X64.min(0)),
        None: (np.zeros(6), np.ones(6)),
    }[scaling]
    center, scale = fit_scaling(X, scaling)
    np.testing.assert_allclose(center, expected[0], rtol=1e-12, atol=1e-12)
    expected_scale = expected[1].copy()
    if scaling in ("standard", "minmax"):
        expected_scale[5] = 1.0  # constant feature: scale 1, as scikit-learn does
    np.testing.assert_allclose(scale, expected_scale, rtol=1e-9)
    scaled = scale_to_float32(X, center, scale)
    assert scaled.dtype == np.float32 and scaled.shape == X.shape
    np.testing.assert_allclose(scaled, ((X64 - center) / scale).astype(np.float32), rtol=1e-6, atol=1e-6)
