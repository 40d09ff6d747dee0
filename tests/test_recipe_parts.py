"""The inter-patient recipe as package parts: RR features and beats relative to their patient's median beat."""

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from skbvae.datasets import make_ecg
from skbvae.ecg import RR_FEATURES, RR_INPUTS, PatientRelative, RRFeatures, cut_heartbeats, rr_feature_table

# scikit-learn's data for these checks has other than the four RR columns RRFeatures takes.
_NOT_FOUR_COLUMNS = [
    "check_dict_unchanged", "check_dont_overwrite_parameters", "check_dtype_object", "check_estimators_dtypes",
    "check_estimators_fit_returns_self", "check_estimators_overwrite_params", "check_estimators_pickle",
    "check_f_contiguous_array_estimator", "check_fit2d_1sample", "check_fit2d_predict1d",
    "check_fit_check_is_fitted", "check_fit_idempotent", "check_fit_score_takes_y",
    "check_methods_sample_order_invariance", "check_methods_subset_invariance", "check_n_features_in",
    "check_pipeline_consistency", "check_readonly_memmap_input", "check_transformer_data_not_an_array",
    "check_transformer_general", "check_transformer_preserve_dtypes",
]


def _expected_failed_checks(estimator):
    if isinstance(estimator, RRFeatures):
        return {name: "RRFeatures takes exactly the loader's four RR columns" for name in _NOT_FOUR_COLUMNS}
    # The median is over the beats being transformed (the new patient's own beats): by design.
    return {"check_methods_subset_invariance": "each patient's median is taken over the beats transformed"}


@parametrize_with_checks([PatientRelative(), RRFeatures()], expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def patients():
    """Beats and metadata of six synthetic patients with N, S and V beats."""
    beats, metas = [], []
    for k, rhythm in enumerate(["bigeminy", "atrial_premature", "trigeminy"] * 2):
        ecg, peaks, kinds = make_ecg(60.0, fs=250, heart_rate=60 + 6 * k, amplitude=0.7 + 0.15 * k, rhythm=rhythm,
                                     random_state=k, return_kinds=True)
        X, meta = cut_heartbeats(ecg, 250, peaks, symbols=kinds, window=(0.25, 0.45))
        beats.append(X)
        metas.append(meta.assign(record=f"p{k}"))
    return np.vstack(beats), pd.concat(metas, ignore_index=True)


def test_rr_features_compare_a_beat_with_its_own_patients_rhythm(patients):
    X, meta = patients
    table = rr_feature_table(meta)
    assert list(table.columns) == list(RR_FEATURES) and table.notna().all().all()
    early = table.loc[meta["aami"].isin(["S", "V"]), "pre/record"]
    assert early.median() < 0.8 < table.loc[meta["aami"] == "N", "pre/record"].median()
    np.testing.assert_allclose(RRFeatures().fit_transform(meta[list(RR_INPUTS)]), table.to_numpy())
    with pytest.raises(ValueError, match=r"meta lacks the RR column\(s\) \['rr_record'\]"):
        rr_feature_table(meta.drop(columns="rr_record"))


def test_patient_relative_by_column_and_by_groups_agree(patients):
    X, meta = patients
    frame = pd.DataFrame(X, columns=[f"t{k}" for k in range(X.shape[1])]).assign(record=meta["record"])
    by_column = PatientRelative(by="record").fit_transform(frame)
    by_groups = PatientRelative().fit_transform(X, groups=meta["record"].to_numpy())
    np.testing.assert_allclose(by_column, by_groups)
    # Each patient's median beat is now zero.
    medians = pd.DataFrame(by_column).groupby(meta["record"].to_numpy()).median().to_numpy()
    np.testing.assert_allclose(medians, 0.0, atol=1e-12)
    assert list(PatientRelative(by="record").fit(frame).get_feature_names_out()) == list(frame.columns[:-1])
    with pytest.raises(ValueError, match="by='patient' names the column of patients"):
        PatientRelative(by="patient").fit(frame)


def test_a_pipeline_of_the_parts_needs_no_hand_written_groupby(patients):
    # The example's recipe, the whole of it in scikit-learn parts, scored on patients never seen.
    X, meta = patients
    samples = [f"t{k}" for k in range(X.shape[1])]
    data = pd.concat([pd.DataFrame(X, columns=samples), meta[["record", *RR_INPUTS]]], axis=1)
    model = make_pipeline(
        ColumnTransformer([("beat", make_pipeline(PatientRelative(by="record"), PCA(5)), [*samples, "record"]),
                           ("rr", RRFeatures(), list(RR_INPUTS))]),
        StandardScaler(), LogisticRegression(class_weight="balanced", max_iter=1000))
    predicted = cross_val_predict(model, data, meta["aami"], groups=meta["record"], cv=GroupKFold(3))
    assert (predicted == meta["aami"]).mean() > 0.9  # measured 0.99: synthetic ectopic beats are clear
