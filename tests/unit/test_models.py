"""The built-in models and pipelines: shapes, labels, save and load, seeds, errors."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import executor
from executor.errors import (
    ConfigError,
    DataError,
    GPUUnavailableError,
    InvalidInputError,
    ModelNotFoundError,
    UnknownNameError,
)
from executor.models import load_pipeline, make, task_loader
from executor.models.devices import resolve_device

torch = pytest.importorskip("torch")

TORCH_MODELS = ["linear", "fcnn", "tree_dnn"]
FAST = {"num_epochs": 15, "batch_size": 32, "seed": 3}


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    # Tiny networks train fastest on one thread, and the machine is shared with other tests.
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def classification_data(rows: int = 160, labels: tuple[object, ...] = (0, 1, 2)) -> tuple:
    generator = np.random.default_rng(0)
    x = generator.normal(size=(rows, 5)) * [1.0, 10.0, 0.1, 5.0, 1.0] + [0, 100, -3, 0, 7]
    score = x[:, 0] + x[:, 1] / 10 - x[:, 3] / 5
    index = np.digitize(score, np.quantile(score, np.linspace(0, 1, len(labels) + 1)[1:-1]))
    y = np.array(labels, dtype=object if isinstance(labels[0], str) else None)[index]
    if isinstance(labels[0], str):
        y = y.astype(str)
    return x, y


def regression_data(rows: int = 160, targets: int = 1) -> tuple[np.ndarray, np.ndarray]:
    generator = np.random.default_rng(1)
    x = generator.normal(size=(rows, 4))
    weights = generator.normal(size=(4, targets))
    y = x @ weights * 50 + 200 + generator.normal(scale=0.1, size=(rows, targets))
    return x, y if targets > 1 else y[:, 0]


@pytest.mark.parametrize("model", TORCH_MODELS)
def test_classification_shapes_and_probabilities(model: str) -> None:
    x, y = classification_data()
    pipeline = make(model, **FAST).fit(x, y)

    predictions = pipeline.predict(x)
    probabilities = pipeline.predict_prob(x)

    assert pipeline.task_type == "clf"
    assert predictions.shape == (len(x), 1)
    assert set(np.unique(predictions)) <= {0, 1, 2}
    assert probabilities.shape == (len(x), 3)
    assert np.allclose(probabilities.sum(axis=1), 1.0)
    assert list(pipeline.classes_) == [0, 1, 2]
    assert (probabilities.argmax(axis=1) == predictions[:, 0]).all()


@pytest.mark.parametrize("model", TORCH_MODELS)
def test_regression_shapes_single_and_multi_output(model: str) -> None:
    x, y = regression_data()
    single = make(model, **FAST).fit(x, y)
    assert single.task_type == "reg"
    assert single.predict(x).shape == (len(x), 1)
    assert single.classes_ is None

    x, y = regression_data(targets=3)
    multi = make(model, **FAST).fit(x, y)
    assert multi.predict(x[:7]).shape == (7, 3)


def test_linear_regression_learns_a_linear_target() -> None:
    x, y = regression_data(rows=400)
    pipeline = make("linear", num_epochs=150, seed=0, patience=None).fit(x, y)

    residual = pipeline.predict(x)[:, 0] - y
    assert np.sqrt(np.mean(residual**2)) < 0.05 * np.std(y)


def test_fcnn_separates_classes_it_trains_on() -> None:
    x, y = classification_data(rows=300, labels=(0, 1))
    pipeline = make("fcnn", num_epochs=60, seed=0).fit(x, y)
    assert (pipeline.predict(x)[:, 0] == y).mean() > 0.9


@pytest.mark.parametrize("model", TORCH_MODELS)
def test_save_and_load_give_identical_predictions(model: str, tmp_path: Path) -> None:
    x, y = classification_data(labels=("cat", "dog", "eel"))
    pipeline = make(model, **FAST).fit(x, y)
    folder = pipeline.save(tmp_path / "saved model")

    loaded = load_pipeline(folder)
    same = executor.Pipeline.load(folder)

    assert type(loaded).__name__ == "TorchPipeline"
    assert np.array_equal(loaded.predict(x), pipeline.predict(x))
    assert np.array_equal(same.predict_prob(x), pipeline.predict_prob(x))
    assert list(loaded.classes_) == ["cat", "dog", "eel"]


def test_saved_form_is_weights_plus_json(tmp_path: Path) -> None:
    x, y = regression_data()
    pipeline = make("fcnn", hidden_units=[8], **FAST).fit(x, y)
    pipeline.save(tmp_path)

    description = json.loads((tmp_path / "pipeline.json").read_text())
    state = torch.load(tmp_path / "weights.pt", weights_only=True)

    assert description["model"] == "fcnn"
    assert description["kind"] == "torch"
    assert description["task_type"] == "reg"
    assert description["config"]["hidden_units"] == [8]
    assert description["config"]["seed"] == 3
    assert np.allclose(description["preprocessing"]["feature_means"], x.mean(axis=0))
    assert np.allclose(description["preprocessing"]["feature_stds"], x.std(axis=0))
    assert description["training"]["seed"] == 3
    assert all(isinstance(tensor, torch.Tensor) for tensor in state.values())


def test_regression_saved_and_loaded(tmp_path: Path) -> None:
    x, y = regression_data(targets=2)
    pipeline = make("tree_dnn", **FAST).fit(x, y)
    loaded = load_pipeline(pipeline.save(tmp_path))
    assert np.array_equal(loaded.predict(x), pipeline.predict(x))


def test_string_labels_come_back_as_strings() -> None:
    x, y = classification_data(labels=("no", "yes"))
    pipeline = make("fcnn", **FAST).fit(x, y.reshape(-1, 1))

    predictions = pipeline.predict(x)
    assert predictions.dtype.kind == "U"
    assert set(predictions[:, 0]) <= {"no", "yes"}
    assert pipeline.predict_prob(x).shape == (len(x), 2)


def test_integer_labels_that_are_not_a_range() -> None:
    x, y = classification_data(labels=(-5, 10, 42))
    pipeline = make("linear", **FAST).fit(x, y)
    assert set(pipeline.predict(x)[:, 0]) <= {-5, 10, 42}
    assert list(pipeline.classes_) == [-5, 10, 42]


@pytest.mark.parametrize("model", TORCH_MODELS)
def test_a_seed_reproduces_training(model: str) -> None:
    x, y = regression_data()
    first = make(model, **FAST).fit(x, y).predict(x)
    second = make(model, **FAST).fit(x, y).predict(x)
    other = make(model, **{**FAST, "seed": 4}).fit(x, y).predict(x)

    assert np.array_equal(first, second)
    assert not np.array_equal(first, other)


def test_without_a_seed_one_is_drawn_and_recorded() -> None:
    x, y = regression_data()
    pipeline = make("linear", num_epochs=2).fit(x, y)
    assert isinstance(pipeline.training["seed"], int)


def test_fitting_leaves_the_callers_random_state_alone() -> None:
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    x, y = regression_data()
    make("fcnn", **FAST).fit(x, y)
    assert torch.equal(torch.rand(3), expected)


def test_task_type_is_inferred_or_given() -> None:
    x, _ = regression_data()
    few_integers = np.arange(len(x)) % 3
    many_integers = np.arange(len(x))

    assert make("linear", num_epochs=1).fit(x, few_integers).task_type == "clf"
    assert make("linear", num_epochs=1).fit(x, many_integers).task_type == "reg"
    assert make("linear", num_epochs=1, task_type="reg").fit(x, few_integers).task_type == "reg"
    with pytest.raises(DataError, match="regression needs a numeric"):
        make("linear", task_type="reg").fit(x, few_integers.astype(str))


def test_early_stopping_on_x_cv_stops_and_records_it() -> None:
    x, y = regression_data()
    noise = np.random.default_rng(5).normal(size=len(y)) * 500
    pipeline = make("fcnn", num_epochs=300, patience=3, seed=0).fit(
        x[:100], y[:100] + noise[:100], x[100:], y[100:]
    )

    assert pipeline.training["validation"] == "x_cv"
    assert pipeline.training["stopped_early"] is True
    assert pipeline.training["epochs_run"] < 300
    assert pipeline.training["best_epoch"] <= pipeline.training["epochs_run"] - 3


def test_a_held_out_part_is_used_without_x_cv() -> None:
    x, y = regression_data()
    held = make("linear", **FAST).fit(x, y)
    none = make("linear", validation_fraction=0.0, **FAST).fit(x, y)

    assert held.training["validation"] == "held_out"
    assert none.training["validation"] == "none"
    assert none.training["epochs_run"] == FAST["num_epochs"]


@pytest.mark.parametrize("optimizer", ["sgd", "rmsprop", "adam", "adamw"])
def test_every_optimizer_trains(optimizer: str) -> None:
    x, y = regression_data()
    pipeline = make(
        "linear", optimizer=optimizer, optimizer_config={"weight_decay": 1e-4}, **FAST
    ).fit(x, y)
    assert np.isfinite(pipeline.predict(x)).all()


def test_sample_weights_change_what_is_learnt() -> None:
    x, y = classification_data(labels=(0, 1))
    config = {**FAST, "optimizer_config": {"lr": 0.1}}
    weighted = make("linear", **config).fit(x, y, sample_weights=np.where(y == 1, 0.0, 1.0))
    plain = make("linear", **config).fit(x, y)

    assert (weighted.predict(x) == 0).mean() > 0.75
    assert (plain.predict(x) == 0).mean() < 0.6


def test_weighted_loss_is_the_weighted_mean_of_row_losses() -> None:
    from executor.models.training import batch_loss

    outputs = torch.tensor([[1.0], [3.0], [0.0]])
    targets = torch.zeros(3, 1)
    weights = torch.tensor([1.0, 0.0, 3.0])

    assert float(batch_loss(outputs, targets, weights, "reg")) == pytest.approx(0.25)
    assert float(batch_loss(outputs, targets, None, "reg")) == pytest.approx(10 / 3)


def test_unknown_model_lists_the_known_ones() -> None:
    with pytest.raises(UnknownNameError) as caught:
        make("fcn")
    assert "fcn" in str(caught.value)
    assert caught.value.known == ["linear", "fcnn", "tree_dnn"]


def test_unknown_config_key_is_named_with_the_known_ones() -> None:
    with pytest.raises(ConfigError) as caught:
        make("fcnn", hiden_units=[3])
    assert "hiden_units" in str(caught.value)
    assert "hidden_units" in caught.value.known
    assert "num_trees" not in caught.value.known


@pytest.mark.parametrize(
    "config",
    [
        {"optimizer": "lbfgs"},
        {"batch_size": 0},
        {"num_epochs": 2.5},
        {"dropout": 1.0},
        {"hidden_units": [8, -1]},
        {"device": "gpu"},
        {"validation_fraction": 1},
        {"seed": True},
        {"task_type": "classification"},
        {"optimizer_config": 0.1},
        {"patience": 0},
    ],
)
def test_bad_config_values_are_config_errors(config: dict) -> None:
    with pytest.raises(ConfigError):
        make("fcnn", **config)


def test_a_config_that_is_not_json_is_refused() -> None:
    with pytest.raises(ConfigError, match="not plain JSON"):
        make("fcnn", hidden_units=np.array([3]))


def test_unknown_optimizer_option_is_named() -> None:
    with pytest.raises(ConfigError) as caught:
        make("linear", optimizer="sgd", optimizer_config={"learning_rate": 0.1})
    assert "learning_rate" in str(caught.value)
    assert "lr" in caught.value.known


def test_bad_inputs_are_data_errors() -> None:
    x, y = classification_data()
    pipeline = make("linear", **FAST)

    with pytest.raises(DataError, match="2-D"):
        pipeline.fit(x[:, 0], y)
    with pytest.raises(DataError, match="rows"):
        pipeline.fit(x, y[:-1])
    with pytest.raises(DataError, match="NaN"):
        pipeline.fit(np.where(x > 1, np.nan, x), y)
    with pytest.raises(DataError, match="two classes"):
        pipeline.fit(x, np.zeros(len(x), dtype=int))
    with pytest.raises(DataError, match="not trained on"):
        pipeline.fit(x, y, x[:10], np.full(10, 7))
    with pytest.raises(InvalidInputError, match="together"):
        pipeline.fit(x, y, x_cv=x)

    pipeline.fit(x, y)
    with pytest.raises(DataError, match="features"):
        pipeline.predict(x[:, :3])


def test_unfitted_and_regression_misuse_are_clear() -> None:
    x, y = regression_data()
    with pytest.raises(InvalidInputError, match="not fitted"):
        make("fcnn").predict(x)
    with pytest.raises(InvalidInputError, match="not fitted"):
        make("fcnn").save("anywhere")
    with pytest.raises(InvalidInputError, match="classification"):
        make("linear", **FAST).fit(x, y).predict_prob(x)


def test_device_auto_is_cpu_when_a_task_was_given_no_gpu(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EXECUTOR_DEVICES", "")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert resolve_device("auto") == "cpu"
    assert resolve_device("cpu") == "cpu"
    with pytest.raises(GPUUnavailableError, match="no GPU"):
        resolve_device("cuda")


def test_no_cuda_is_initialised_without_a_gpu() -> None:
    code = (
        "import os, numpy as np, torch, executor\n"
        "torch.set_num_threads(1)\n"
        "os.environ['EXECUTOR_DEVICES'] = ''\n"
        "x = np.random.default_rng(0).normal(size=(40, 3)); y = x[:, 0]\n"
        "p = executor.make('fcnn', num_epochs=2).fit(x, y)\n"
        "assert p.training['device'] == 'cpu', p.training\n"
        "assert not torch.cuda.is_initialized()\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_importing_the_package_loads_no_torch_or_sklearn() -> None:
    code = (
        "import sys, executor, executor.models\n"
        "executor.make, executor.task_loader, executor.load_pipeline, executor.repeat_with\n"
        "heavy = {'torch', 'sklearn'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_task_loader_names_a_workplace_without_a_model(tmp_path: Path) -> None:
    workplace = tmp_path / "fcnn" / "0"
    workplace.mkdir(parents=True)
    with pytest.raises(ModelNotFoundError) as caught:
        task_loader(str(workplace))
    assert str(workplace) in str(caught.value)

    with pytest.raises(ModelNotFoundError):
        load_pipeline(tmp_path)


def test_task_loader_loads_what_a_task_saved(tmp_path: Path) -> None:
    x, y = regression_data()
    pipeline = make("linear", **FAST).fit(x, y)
    pipeline.save(tmp_path / "linear" / "0" / "model")

    loaded = task_loader(tmp_path / "linear" / "0")
    assert np.array_equal(loaded.predict(x), pipeline.predict(x))


def test_sklearn_estimator_by_dotted_path(tmp_path: Path) -> None:
    x, y = regression_data()
    pipeline = make("sklearn.svm.SVR", C=5.0).fit(x, y)
    assert pipeline.task_type == "reg"
    assert pipeline.predict(x).shape == (len(x), 1)

    loaded = load_pipeline(pipeline.save(tmp_path))
    assert np.array_equal(loaded.predict(x), pipeline.predict(x))
    assert json.loads((tmp_path / "pipeline.json").read_text())["config"] == {"C": 5.0}


def test_sklearn_classifier_with_string_labels_and_a_seed() -> None:
    x, y = classification_data(labels=("a", "b", "c"))
    pipeline = make("sklearn.ensemble.RandomForestClassifier", n_estimators=5, seed=7)
    pipeline.fit(x, y)

    assert pipeline.estimator.random_state == 7
    assert set(pipeline.predict(x)[:, 0]) <= {"a", "b", "c"}
    assert pipeline.predict_prob(x).shape == (len(x), 3)


def test_sklearn_errors_are_clear() -> None:
    x, y = classification_data()
    with pytest.raises(ConfigError) as caught:
        make("sklearn.svm.SVC", gamma_value=1)
    assert "gamma" in caught.value.known

    with pytest.raises(UnknownNameError, match="cannot import"):
        make("sklearn.svm.NoSuchModel")
    with pytest.raises(UnknownNameError, match="not a scikit-learn estimator"):
        make("os.path.join")
    with pytest.raises(ConfigError, match="does not match"):
        make("sklearn.svm.SVC", task_type="reg")
    with pytest.raises(InvalidInputError, match="probabilities"):
        make("sklearn.svm.SVC").fit(x, y).predict_prob(x)
