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
#: Optional many-patient data: MIT-BIH's inter-patient training records (DS1,
#: with beat annotations) and LUDB (wave boundaries), in ``../shared/data`` or the
#: folder named by SKBVAE_TEST_DATA. Tests that need them skip without them.
SHARED_DATA = Path(os.environ.get("SKBVAE_TEST_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
SHARED_MITDB, SHARED_LUDB = SHARED_DATA / "mitdb", SHARED_DATA / "ludb"


def _needs(folder, files, variable):
    """Skip unless ``folder`` holds every one of ``files``; the reason names those missing and the variable to set.

    Each test names the files it reads: a folder that holds MIT-BIH 100 but
    not PTB's s0010_re once made the s0010_re tests fail instead of skipping.
    """
    missing = [name for name in files if not (folder / name).is_file()]
    return pytest.mark.skipif(bool(missing), reason=(
        f"optional real records not found: {folder} lacks {', '.join(missing)} (set {variable}, see README)"))


def needs_wfdb(*files):
    """Skip unless the sample-records folder (SKBVAE_TEST_WFDB) holds ``files`` ("100.hea", "100.atr", ...)."""
    return _needs(SHARED_WFDB, files, "SKBVAE_TEST_WFDB")


def needs_mitdb(*files):
    """Skip unless ``mitdb/`` under SKBVAE_TEST_DATA holds ``files``."""
    return _needs(SHARED_MITDB, files, "SKBVAE_TEST_DATA")


def needs_ludb(*files):
    """Skip unless ``ludb/`` under SKBVAE_TEST_DATA holds ``files``."""
    return _needs(SHARED_LUDB, files, "SKBVAE_TEST_DATA")


@pytest.fixture(scope="session")
def beats():
    """600 synthetic heartbeats (187 samples) and their generating factors."""
    return make_heartbeats(600, random_state=0)


@pytest.fixture
def rng():
    return np.random.default_rng(0)
