"""Shared fixtures: small synthetic data and tiny, fast estimator settings."""

import os
from pathlib import Path

import numpy as np
import pytest
import torch

from skbvae.datasets import make_heartbeats

# Two cores on CI: keep torch from oversubscribing when pytest itself is busy.
torch.set_num_threads(min(2, torch.get_num_threads()))

#: Settings that make a fit take well under a second in tests (all latents out,
#: unrotated, so shapes are known; tests/test_rotation.py covers rotations).
FAST = dict(latent_dim=3, hidden_layer_sizes=(16,), max_epochs=2, batch_size=32, rotation=None, random_state=0)

#: Optional real WFDB records (MIT-BIH 100, PTB s0010_re and a few messy ones):
#: ``../shared/data/wfdb`` beside the checkout, or the folder named by the
#: SKBVAE_TEST_WFDB environment variable. Tests that need them skip without them.
SHARED_WFDB = Path(os.environ.get("SKBVAE_TEST_WFDB", Path(__file__).resolve().parents[2] / "shared" / "data" / "wfdb"))
NO_RECORDS = "optional real WFDB records not found (set SKBVAE_TEST_WFDB, see README)"
#: Optional many-patient data: MIT-BIH's inter-patient training records (DS1,
#: with beat annotations) and LUDB (wave boundaries), in ``../shared/data`` or the
#: folder named by SKBVAE_TEST_DATA. Tests that need them skip without them.
SHARED_DATA = Path(os.environ.get("SKBVAE_TEST_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
SHARED_MITDB, SHARED_LUDB = SHARED_DATA / "mitdb", SHARED_DATA / "ludb"
NO_MITDB = "optional MIT-BIH DS1 records not found (set SKBVAE_TEST_DATA to the folder holding mitdb/, see README)"
NO_LUDB = "optional LUDB records not found (set SKBVAE_TEST_DATA to the folder holding ludb/, see README)"


@pytest.fixture(scope="session")
def beats():
    """600 synthetic heartbeats (187 samples) and their generating factors."""
    return make_heartbeats(600, random_state=0)


@pytest.fixture
def rng():
    return np.random.default_rng(0)
