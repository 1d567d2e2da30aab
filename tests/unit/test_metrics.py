import numpy as np
import pytest
from sklearn import metrics as sk

from executor.errors import DataError, InvalidInputError, UnknownNameError
from executor.metrics import (
    Metric,
    compute_metrics,
    default_metrics,
    get_metric,
    known_metrics,
    register_metric,
)

CLASSIFICATION = ["acc", "auc", "f1", "logloss"]
REGRESSION = ["mae", "mse", "rmse", "r2"]


def _probabilities(rng: np.random.Generator, rows: int, classes: int) -> np.ndarray:
    raw = rng.random((rows, classes)) + 0.05
    return raw / raw.sum(axis=1, keepdims=True)


def _sklearn_classification(y, predictions, probabilities, labels):
    binary = len(labels) == 2
    return {
        "acc": sk.accuracy_score(y, predictions),
        "auc": (
            sk.roc_auc_score(y == labels[1], probabilities[:, 1])
            if binary
            else sk.roc_auc_score(y, probabilities, multi_class="ovr", average="macro")
        ),
        "f1": sk.f1_score(y, predictions, average="macro"),
        "logloss": sk.log_loss(y, probabilities, labels=labels),
    }


@pytest.mark.parametrize("num_classes", [2, 3, 5])
@pytest.mark.parametrize("label_kind", ["int", "str"])
def test_classification_metrics_match_sklearn(num_classes, label_kind):
    rng = np.random.default_rng(num_classes)
    names = np.array([f"class_{i}" for i in range(num_classes)])
    codes = rng.integers(0, num_classes, 300)
    probabilities = _probabilities(rng, 300, num_classes)
    predicted_codes = np.where(rng.random(300) < 0.6, codes, rng.integers(0, num_classes, 300))
    labels = names if label_kind == "str" else np.arange(num_classes) * 10
    y, predictions = labels[codes], labels[predicted_codes]

    ours = compute_metrics(CLASSIFICATION, y.reshape(-1, 1), predictions, probabilities)
    expected = _sklearn_classification(y, predictions, probabilities, labels)

    for name in CLASSIFICATION:
        assert ours[name] == pytest.approx(expected[name], rel=1e-9, abs=1e-12), name


def test_binary_auc_with_ties_and_positive_column_only():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 200)
    positive = np.round(rng.random(200), 1)  # many ties

    ours = compute_metrics(["auc", "logloss"], y, None, positive.reshape(-1, 1))

    assert ours["auc"] == pytest.approx(sk.roc_auc_score(y, positive), rel=1e-12)
    both = np.c_[1 - positive, positive]
    assert ours["logloss"] == pytest.approx(sk.log_loss(y, both), rel=1e-9)


def test_predictions_default_to_most_probable_class():
    y = np.array(["a", "b", "c", "a"])
    probabilities = np.array([[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.6, 0.2, 0.2], [0.2, 0.7, 0.1]])

    assert compute_metrics(["acc"], y, None, probabilities)["acc"] == pytest.approx(0.5)


def test_given_classes_order_the_probability_columns():
    y = np.array(["a", "b", "a", "b"])
    probabilities = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])  # columns b, a

    ours = compute_metrics(["auc", "logloss"], y, None, probabilities, classes=["b", "a"])

    assert ours["auc"] == pytest.approx(1.0)
    expected = sk.log_loss(y, probabilities[:, ::-1], labels=["a", "b"])
    assert ours["logloss"] == pytest.approx(expected)


def test_integer_labels_missing_from_y_true_map_to_column_indices():
    y = np.array([0, 2, 2, 0])
    probabilities = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [0.2, 0.2, 0.6], [0.5, 0.4, 0.1]])

    ours = compute_metrics(["logloss", "acc"], y, None, probabilities)

    assert ours["acc"] == 1.0
    assert ours["logloss"] == pytest.approx(sk.log_loss(y, probabilities, labels=[0, 1, 2]))


@pytest.mark.parametrize("outputs", [1, 3])
@pytest.mark.parametrize("flat", [True, False])
def test_regression_metrics_match_sklearn(outputs, flat):
    rng = np.random.default_rng(outputs)
    y = rng.normal(size=(120, outputs))
    predictions = y + rng.normal(scale=0.3, size=y.shape)
    if flat and outputs == 1:
        y, predictions = y.ravel(), predictions.ravel()

    ours = compute_metrics(REGRESSION, y, predictions)

    assert ours["mae"] == pytest.approx(sk.mean_absolute_error(y, predictions), rel=1e-12)
    assert ours["mse"] == pytest.approx(sk.mean_squared_error(y, predictions), rel=1e-12)
    assert ours["rmse"] == pytest.approx(sk.root_mean_squared_error(y, predictions), rel=1e-12)
    assert ours["r2"] == pytest.approx(sk.r2_score(y, predictions), rel=1e-12)


def test_r2_of_a_constant_target_follows_sklearn():
    y = np.ones(5)

    assert compute_metrics(["r2"], y, y)["r2"] == sk.r2_score(y, y) == 1.0
    assert compute_metrics(["r2"], y, y + 1)["r2"] == sk.r2_score(y, y + 1) == 0.0


def test_directions_and_defaults():
    assert default_metrics("clf") == ["acc", "auc"]
    assert default_metrics("reg") == ["mae", "mse"]
    higher = {name for name in known_metrics() if get_metric(name).higher_is_better}
    assert higher == {"acc", "auc", "f1", "r2"}
    assert {name for name in known_metrics() if get_metric(name).needs_prob} == {"auc", "logloss"}
    assert get_metric("mae").score(0.2, 0.05) == pytest.approx(-0.25)
    assert get_metric("acc").score(0.9, 0.05) == pytest.approx(0.85)
    with pytest.raises(InvalidInputError):
        default_metrics("ranking")


def test_unknown_metric_lists_the_known_ones():
    with pytest.raises(UnknownNameError) as caught:
        compute_metrics(["mae", "mape"], [1.0], [1.0])

    message = str(caught.value)
    assert "'mape'" in message
    for name in CLASSIFICATION + REGRESSION:
        assert name in message


def test_probability_metric_without_probabilities_is_an_error():
    with pytest.raises(InvalidInputError, match="'auc' needs probabilities"):
        compute_metrics(["acc", "auc"], [0, 1], [0, 1])


@pytest.mark.parametrize(
    ("y", "predictions"),
    [([1.0, 2.0], [1.0]), (np.zeros((2, 2, 2)), np.zeros((2, 2, 2))), ([], [])],
)
def test_bad_regression_shapes(y, predictions):
    with pytest.raises(DataError):
        compute_metrics(["mae"], y, predictions)


def test_ambiguous_probability_columns_need_classes():
    with pytest.raises(DataError, match="classes="):
        compute_metrics(["auc"], ["a", "b", "a"], None, np.full((3, 3), 1 / 3))


def test_auc_of_a_single_class_is_an_error():
    with pytest.raises(DataError, match="two classes"):
        compute_metrics(["auc"], [1, 1, 1], None, np.array([0.2, 0.5, 0.9]))


def test_register_a_custom_metric():
    def max_error(inputs):
        return float(np.max(np.abs(inputs.y_true - inputs.predictions)))

    name = "max_error_for_test"
    register_metric(Metric(name, False, False, max_error, "reg"), replace=True)

    assert compute_metrics([name], [1.0, 2.0], [1.5, 4.0]) == {name: 2.0}
    with pytest.raises(InvalidInputError, match="already registered"):
        register_metric(Metric(name, False, False, max_error, "reg"))
