"""Safe model files: skbvae.io round-trips every configuration and refuses bad files without running them."""

import json
import os
import pickle
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.feature_selection import SelectKBest, VarianceThreshold
from sklearn.impute import KNNImputer, SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, MinMaxScaler, OneHotEncoder, RobustScaler, StandardScaler
from sklearn.svm import SVC
from sklearn.utils.validation import check_is_fitted

from conftest import FAST
from skbvae import BetaVAETransformer, io
from test_common import ESTIMATORS

SETTINGS = [
    *({k: v for k, v in estimator.get_params().items() if k not in FAST} for estimator in ESTIMATORS),
    {"architecture": "conv1d", "hidden_layer_sizes": (4, 8)},
    {"architecture": "broadcast", "hidden_layer_sizes": (8,), "decoder_variance": "heteroscedastic"},
    {"scaling": "global", "precision": "bfloat16"},
    {"scaling": None},
    # The default rotation: a model reloaded gives the same codes bit for bit
    # (an F-ordered rotation_ once made them differ by 4e-15).
    {"rotation": "ica", "latent_dim": 6, "max_epochs": 5},
    {"rotation": "varimax", "latent_dim": 6, "max_epochs": 5},
]


def _rows(beats, n_channels=1):
    """Beats as rows of ``n_channels`` leads (the same beat at different gains)."""
    X = beats[0]
    return np.hstack([X * (1 + 0.5 * c) for c in range(n_channels)])


def _fit(beats, **params):
    return BetaVAETransformer(**{**FAST, **params}).fit(_rows(beats, params.get("n_channels", 1))[:200])


def _assert_same_model(a, b, X, same_params=True):
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    np.testing.assert_array_equal(a.transform(X.astype(np.float32)), b.transform(X.astype(np.float32)))
    np.testing.assert_array_equal(a.sample(3, random_state=0, noise=True), b.sample(3, random_state=0, noise=True))
    Z = a.transform(X)
    np.testing.assert_array_equal(a.inverse_transform(Z), b.inverse_transform(Z))
    np.testing.assert_array_equal(a.traverse(X[:2]), b.traverse(X[:2]))
    np.testing.assert_array_equal(a.score_samples(X), b.score_samples(X))
    if same_params:
        assert a.get_params() == b.get_params()


@pytest.mark.parametrize("params", SETTINGS, ids=lambda p: ",".join(f"{k}={v}" for k, v in p.items()) or "default")
def test_round_trip_gives_the_same_model(params, beats, tmp_path):
    vae = _fit(beats, **{k: v for k, v in params.items() if k != "batch_size"})
    loaded = io.load(io.dump(vae, tmp_path / "model.skbvae"))
    check_is_fitted(loaded)
    _assert_same_model(vae, loaded, _rows(beats, vae.n_channels)[200:260])
    for name in ("kl_per_latent_", "active_latents_", "latent_mean_", "center_", "scale_"):
        np.testing.assert_array_equal(getattr(vae, name), getattr(loaded, name))
    assert loaded.n_iter_ == vae.n_iter_ and loaded.n_components_ == vae.n_components_
    assert loaded.history_.equals(vae.history_)


def test_file_is_the_size_of_its_weights_and_arrays(beats, tmp_path):
    vae = BetaVAETransformer(latent_dim=10, max_epochs=1, random_state=0).fit(beats[0])
    path = io.dump(vae, tmp_path / "model.skbvae")
    raw = sum(t.numel() * t.element_size() for t in vae.net_.module_.state_dict().values())
    raw += sum(getattr(vae, name).nbytes for name in ("center_", "scale_", "kl_per_latent_", "latent_mean_",
                                                       "active_latents_", "rotation_", "mixing_"))
    assert os.path.getsize(path) < 1.1 * raw


def test_feature_names_and_warm_start_survive(beats, tmp_path):
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame(beats[0][:200], columns=[f"t{i:03d}" for i in range(187)])
    vae = BetaVAETransformer(**FAST, warm_start=True).fit(X)
    loaded = io.load(io.dump(vae, tmp_path / "model.skbvae"))
    np.testing.assert_array_equal(loaded.feature_names_in_, vae.feature_names_in_)
    steps = loaded.net_.optimizer_steps_
    loaded.fit(X)  # continues: history and optimizer steps go on
    assert loaded.n_iter_ == 2 * vae.n_iter_ and loaded.net_.optimizer_steps_ == 2 * steps


def test_load_never_unpickles_in_a_fresh_process(beats, tmp_path):
    path = io.dump(_fit(beats), tmp_path / "model.skbvae")
    pipe = io.dump(make_pipeline(StandardScaler(), BetaVAETransformer(**FAST)).fit(beats[0][:100]),
                   tmp_path / "pipe.skbvae")
    np.save(tmp_path / "X.npy", beats[0][:20])
    code = f"""
import pickle, torch, numpy as np
def refuse(*args, **kwargs):
    raise AssertionError("unpickling during load")
pickle.load = pickle.loads = torch.load = refuse
import skbvae.io
X = np.load({str(tmp_path / 'X.npy')!r})
print(skbvae.io.load({str(path)!r}).transform(X).shape, skbvae.io.load({str(pipe)!r}).transform(X).shape)
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "(20, 3) (20, 3)"


def _rewrite(path, out, member, data=None, meta=None):
    """Copy the archive at ``path`` to ``out`` with one member replaced."""
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            content = source.read(name)
            if name == member:
                content = data if meta is None else json.dumps(meta(json.loads(content)))
            target.writestr(name, content)
    return out


class _Payload:
    """Unpickling this would create a file: a stand-in for an attacker's code."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.fixture(scope="module")
def saved(beats, tmp_path_factory):
    return io.dump(_fit(beats), tmp_path_factory.mktemp("saved") / "model.skbvae")


def test_not_a_model_file(tmp_path):
    (tmp_path / "text.skbvae").write_text("hello")
    with pytest.raises(ValueError, match="not a readable skbvae model file"):
        io.load(tmp_path / "text.skbvae")
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as archive:
        archive.writestr("data.csv", "1,2")
    with pytest.raises(ValueError, match="not a skbvae model file: expected the members"):
        io.load(tmp_path / "other.zip")
    with pytest.raises(FileNotFoundError):
        io.load(tmp_path / "missing.skbvae")


def test_truncated_file(saved, tmp_path):
    data = saved.read_bytes()
    (tmp_path / "cut.skbvae").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="not a readable skbvae model file"):
        io.load(tmp_path / "cut.skbvae")


@pytest.mark.parametrize("member", ["weights.safetensors", "arrays.safetensors", "skbvae.json"])
def test_a_pickle_payload_is_refused_without_being_run(member, saved, tmp_path):
    marker = tmp_path / "payload-ran"
    payload = pickle.dumps(_Payload(str(marker)))
    bad = _rewrite(saved, tmp_path / "bad.skbvae", member, payload)
    with pytest.raises(ValueError, match=member.replace(".", r"\.")):
        io.load(bad)
    assert not marker.exists()


def test_shapes_that_disagree_with_the_json(saved, tmp_path):
    def more_features(meta):
        meta["net"]["n_features"] = meta["attributes"]["n_features_in_"] = 190
        return meta

    with pytest.raises(ValueError, match="center_ has shape"):
        io.load(_rewrite(saved, tmp_path / "a.skbvae", "skbvae.json", meta=more_features))

    def wider_code(meta):
        meta["params"]["latent_dim"] = 5
        return meta

    with pytest.raises(ValueError, match="weights do not fit the network"):
        io.load(_rewrite(saved, tmp_path / "b.skbvae", "skbvae.json", meta=wider_code))

    def listed_shape(meta):
        meta["array_shapes"]["kl_per_latent_"] = [7]
        return meta

    with pytest.raises(ValueError, match="kl_per_latent_ has shape"):
        io.load(_rewrite(saved, tmp_path / "c.skbvae", "skbvae.json", meta=listed_shape))


def test_only_the_formats_fitted_attributes_can_be_set(saved, tmp_path):
    def extra_attribute(meta):
        meta["attributes"]["net_"] = 1
        return meta

    with pytest.raises(ValueError, match=r"unknown fitted attributes \['net_'\]"):
        io.load(_rewrite(saved, tmp_path / "a.skbvae", "skbvae.json", meta=extra_attribute))

    def text_attribute(meta):
        meta["attributes"]["n_iter_"] = "many"
        return meta

    with pytest.raises(ValueError, match="n_iter_ must be a number"):
        io.load(_rewrite(saved, tmp_path / "b.skbvae", "skbvae.json", meta=text_attribute))


def test_newer_format_and_bad_parameters(saved, tmp_path):
    def newer(meta):
        meta["format_version"] = io.FORMAT_VERSION + 1
        return meta

    with pytest.raises(ValueError, match="Upgrade skbvae"):
        io.load(_rewrite(saved, tmp_path / "new.skbvae", "skbvae.json", meta=newer))

    def bad_parameter(meta):
        meta["params"]["beta"] = -1
        return meta

    with pytest.raises(ValueError, match="valid BetaVAETransformer"):
        io.load(_rewrite(saved, tmp_path / "param.skbvae", "skbvae.json", meta=bad_parameter))


def test_model_fitted_for_cuda_loads_on_cpu(saved, beats, tmp_path):
    def on_gpu(meta):
        meta["params"]["device"] = "cuda"
        return meta

    path = _rewrite(saved, tmp_path / "gpu.skbvae", "skbvae.json", meta=on_gpu)
    loaded = io.load(path, device="cpu")
    assert loaded.device == "cpu" and str(loaded.net_.device) == "cpu"
    _assert_same_model(io.load(saved), loaded, beats[0][:30], same_params=False)
    if not __import__("torch").cuda.is_available():
        with pytest.raises(ValueError, match="cuda"):
            io.load(path)


def test_dump_refuses_unfitted_or_foreign_estimators(tmp_path):
    from sklearn.decomposition import PCA
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        io.dump(BetaVAETransformer(), tmp_path / "x.skbvae")
    with pytest.raises(TypeError, match="BetaVAETransformer or a scikit-learn estimator"):
        io.dump({"not": "an estimator"}, tmp_path / "x.skbvae")
    pca = PCA(2).fit(np.random.default_rng(0).normal(size=(20, 4)))  # no β-VAE in it: skops alone
    np.testing.assert_array_equal(io.load(io.dump(pca, tmp_path / "pca.skbvae")).components_, pca.components_)
    assert clone(BetaVAETransformer()).get_params()["device"] == "auto"


# ------------------------------------------------------------------ estimators that hold β-VAEs
class RecordMeans(TransformerMixin, BaseEstimator):
    """A user's own transformer: a type the file may name but skops does not trust by default."""

    def fit(self, X, y=None):
        self.mean_ = np.asarray(X).mean(axis=0)
        return self

    def transform(self, X):
        return np.asarray(X) - self.mean_


@pytest.fixture(scope="module")
def labelled(beats):
    X, factors = beats
    return X[:300], (factors["st_shift"][:300] > 0).to_numpy().astype(int)


def test_a_fitted_pipeline_round_trips_whole(labelled, tmp_path):
    X, y = labelled
    pipe = make_pipeline(StandardScaler(), BetaVAETransformer(**{**FAST, "rotation": "ica"}),
                         LogisticRegression()).fit(X, y)
    path = io.dump(pipe, tmp_path / "pipe.skbvae")
    loaded = io.load(path)
    assert [name for name, _ in loaded.steps] == [name for name, _ in pipe.steps]
    np.testing.assert_array_equal(loaded.predict_proba(X), pipe.predict_proba(X))
    np.testing.assert_array_equal(loaded[:-1].transform(X), pipe[:-1].transform(X))
    _assert_same_model(pipe[1], loaded[1], StandardScaler().fit(X).transform(X)[:40])
    assert pipe[1].net_ is not loaded[1].net_  # the caller's pipeline was not touched by dump
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == ["estimator.skops", "models/0.skbvae", "skbvae.json"]
        assert json.loads(archive.read("skbvae.json"))["format_version"] == 2


def test_a_grid_search_and_its_best_estimator_round_trip(labelled, tmp_path):
    X, y = labelled
    search = GridSearchCV(make_pipeline(BetaVAETransformer(**FAST), LogisticRegression()),
                          {"betavaetransformer__beta": [1.0, 4.0]}, cv=2).fit(X, y)
    best = io.load(io.dump(search.best_estimator_, tmp_path / "best.skbvae"))
    np.testing.assert_array_equal(best.predict_proba(X), search.predict_proba(X))
    # The search itself holds a splitter and a scorer, which skops does not trust
    # by default but skbvae does (scikit-learn's own classes).
    loaded = io.load(io.dump(search, tmp_path / "search.skbvae"))
    np.testing.assert_array_equal(loaded.predict_proba(X), search.predict_proba(X))
    assert loaded.best_params_ == search.best_params_
    template = loaded.estimator[0]  # the unfitted estimator the search clones: its parameters are stored
    assert not template.__sklearn_is_fitted__() and template.get_params() == search.estimator[0].get_params()


def _catalogue():
    """The scikit-learn parts users put around a transformer, each as (name, estimator before the β-VAE, after it)."""
    return {
        "SimpleImputer": ([SimpleImputer()], [LogisticRegression()]),
        "KNNImputer": ([KNNImputer()], [LogisticRegression()]),
        "scalers": ([RobustScaler(), MinMaxScaler()], [StandardScaler(), LogisticRegression()]),
        "FunctionTransformer": ([FunctionTransformer(np.tanh)], [LogisticRegression()]),
        "feature selection": ([VarianceThreshold()], [SelectKBest(k=2), SVC()]),
        "random forest": ([], [RandomForestClassifier(n_estimators=3, random_state=0)]),
        "gradient boosting": ([], [HistGradientBoostingClassifier(max_iter=3)]),
        "nearest neighbours": ([], [KNeighborsClassifier(algorithm="kd_tree")]),
        "OneHotEncoder": ([], [FunctionTransformer(np.rint), ColumnTransformer([("bins", OneHotEncoder(handle_unknown="ignore"), [0])],
                                                 remainder="passthrough"), LogisticRegression()]),
    }


@pytest.mark.parametrize("name", list(_catalogue()))
def test_pipelines_of_scikit_learn_parts_load_without_trusted(name, labelled, tmp_path):
    # A newcomer's ordinary pipeline must not need trusted= (SimpleImputer's
    # numpy dtype, forests' trees, KD-trees and SelectKBest's f_classif were refused).
    X, y = labelled
    before, after = _catalogue()[name]
    pipe = make_pipeline(*before, BetaVAETransformer(**FAST), *after).fit(X, y)
    loaded = io.load(io.dump(pipe, tmp_path / "pipe.skbvae"))
    np.testing.assert_array_equal(loaded.predict(X), pipe.predict(X))
    if hasattr(pipe, "predict_proba") and name != "feature selection":
        np.testing.assert_array_equal(loaded.predict_proba(X), pipe.predict_proba(X))


def test_a_grid_search_by_patient_loads_without_trusted(labelled, tmp_path):
    X, y = labelled
    search = GridSearchCV(make_pipeline(BetaVAETransformer(**FAST), LogisticRegression()), {"logisticregression__C": [0.1, 1.0]},
                          cv=GroupKFold(3), scoring="balanced_accuracy").fit(X, y, groups=np.arange(len(X)) % 6)
    loaded = io.load(io.dump(search, tmp_path / "search.skbvae"))
    np.testing.assert_array_equal(loaded.predict_proba(X), search.predict_proba(X))
    assert loaded.cv.__class__ is GroupKFold and loaded.best_params_ == search.best_params_


def test_functions_from_outside_scikit_learn_are_still_refused(labelled, tmp_path):
    X, y = labelled
    pipe = make_pipeline(FunctionTransformer(_halve), BetaVAETransformer(**FAST)).fit(X)
    path = io.dump(pipe, tmp_path / "own-function.skbvae")
    with pytest.raises(ValueError, match=r"not trusted by default: \['test_io._halve'\]"):
        io.load(path)
    np.testing.assert_array_equal(io.load(path, trusted=["test_io._halve"]).transform(X), pipe.transform(X))


def _halve(X):
    return np.asarray(X) / 2


def test_a_column_transformer_with_a_vae_on_the_samples(labelled, tmp_path):
    X, y = labelled
    rr = np.random.default_rng(0).uniform(0.6, 1.2, size=(len(X), 2))
    features = np.hstack([X, rr])
    model = make_pipeline(
        ColumnTransformer([("vae", BetaVAETransformer(**FAST), slice(0, 187)), ("rr", "passthrough", [187, 188])]),
        LogisticRegression()).fit(features, y)
    loaded = io.load(io.dump(model, tmp_path / "columns.skbvae"))
    np.testing.assert_array_equal(loaded.predict_proba(features), model.predict_proba(features))


def test_types_skops_does_not_trust_are_refused_unless_trusted(labelled, tmp_path):
    X, y = labelled
    pipe = make_pipeline(RecordMeans(), BetaVAETransformer(**FAST)).fit(X)
    path = io.dump(pipe, tmp_path / "own.skbvae")
    with pytest.raises(ValueError, match=r"names types that are not trusted by default: \['test_io.RecordMeans'\]"):
        io.load(path)
    loaded = io.load(path, trusted=["test_io.RecordMeans"])
    np.testing.assert_array_equal(loaded.transform(X), pipe.transform(X))


def test_a_damaged_estimator_file_says_what_is_wrong(labelled, tmp_path):
    X, y = labelled
    path = io.dump(make_pipeline(BetaVAETransformer(**FAST), LogisticRegression()).fit(X, y), tmp_path / "p.skbvae")
    with pytest.raises(ValueError, match="estimator.skops is not a valid skops file"):
        io.load(_rewrite(path, tmp_path / "bad.skbvae", "estimator.skops", b"not a zip"))
    with pytest.raises(ValueError, match="expected the members"):
        io.load(_rewrite(path, tmp_path / "missing.skbvae", "skbvae.json",
                         meta=lambda m: {**m, "models": [{"file": "models/7.skbvae"}]}))
    with pytest.raises(ValueError, match=r"\(model 0\).*not a readable skbvae model file"):
        io.load(_rewrite(path, tmp_path / "model.skbvae", "models/0.skbvae", b"truncated"))
    with pytest.raises(ValueError, match="format version 3"):
        io.load(_rewrite(path, tmp_path / "newer.skbvae", "skbvae.json", meta=lambda m: {**m, "format_version": 3}))
