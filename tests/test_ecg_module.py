"""skbvae.ecg: the signal-processing functions in one place; the old names in skbvae.datasets still work, warning."""

import numpy as np
import pytest

import skbvae.datasets
import skbvae.ecg
from skbvae.datasets import make_ecg


def test_ecg_holds_the_signal_processing():
    assert {"detect_r_peaks", "cut_heartbeats", "delineate_beats", "measure_beat_features"} <= set(skbvae.ecg.__all__)
    # The loaders' module keeps loaders and generators only.
    assert not set(skbvae.datasets.__all__) & set(skbvae.ecg.__all__)


@pytest.mark.parametrize("name", skbvae.datasets.MOVED_TO_ECG)
def test_the_old_names_still_work_and_say_where_they_moved(name):
    with pytest.warns(FutureWarning, match=rf"skbvae.datasets.{name} moved to skbvae.ecg.{name}"):
        moved = getattr(skbvae.datasets, name)
    assert moved is getattr(skbvae.ecg, name)
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        skbvae.datasets.nothing_here  # noqa: B018


def test_measured_features_carry_their_units():
    ecg, r_peaks = make_ecg(20.0, fs=250, random_state=0)
    features = skbvae.ecg.measure_beat_features(ecg, 250, r_peaks)
    assert features.attrs["units"] == skbvae.ecg.BEAT_FEATURES and "paced" not in features.attrs["units"]
    assert features.attrs["units"]["qrs_duration"] == "s" and features.attrs["units"]["r_amplitude"] == "mV"
    assert 0.05 < np.nanmedian(features["qrs_duration"]) < 0.15  # seconds, not ms
