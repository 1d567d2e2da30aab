"""Metrics: what each one measures, which direction is better, and how to compute it.

Every metric is a :class:`Metric` in a registry keyed by name. The built-in ones are written
with numpy alone (scikit-learn is not imported), and agree with scikit-learn's:

=========  ===========  ==============  ================================================
name       task         better          meaning
=========  ===========  ==============  ================================================
acc        clf          higher          share of predicted labels equal to the truth
auc        clf          higher          ROC AUC; several classes: one-vs-rest, macro mean
f1         clf          higher          F1 per class, macro mean
logloss    clf          lower           cross-entropy of the predicted probabilities
mae        reg          lower           mean absolute error
mse        reg          lower           mean squared error
rmse       reg          lower           root mean squared error (per output, then mean)
r2         reg          higher          coefficient of determination (per output, then mean)
=========  ===========  ==============  ================================================

Shapes. Targets and predictions may be 1-D, ``(n, 1)`` or, for regression, ``(n, k)``:
a regression metric is computed per output column and averaged uniformly. Classification
targets are one column of labels (ints, strings, anything ``np.unique`` can sort).

Probabilities are ``(n, C)``, one column per class, the columns in the order of
``classes``: by default the sorted distinct labels of the training targets, which is what
``np.unique(y_train)`` returns. When ``classes`` is not given it is inferred: the sorted
labels of ``y_true`` when their count is ``C``, else ``0 .. C-1`` when the labels are
integers in that range. A binary problem may also give ``(n,)`` or ``(n, 1)``
probabilities of the second (positive) class.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from .errors import DataError, InvalidInputError, UnknownNameError

TASK_TYPES = ("clf", "reg")


@dataclass(frozen=True)
class MetricInputs:
    """The arrays a metric function receives, already checked and reshaped.

    ``y_true`` and ``predictions`` are 2-D ``(n, k)`` for regression and 1-D label arrays
    for classification; ``probabilities`` is ``(n, C)`` with columns in ``classes`` order.
    """

    y_true: np.ndarray
    predictions: np.ndarray | None
    probabilities: np.ndarray | None
    classes: np.ndarray | None


@dataclass(frozen=True)
class Metric:
    """One named metric: its direction, whether it needs probabilities, and its function."""

    name: str
    higher_is_better: bool
    needs_prob: bool
    function: Callable[[MetricInputs], float]
    task_type: str = "reg"
    description: str = ""

    def score(self, mean: float, std: float) -> float:
        """``mean - std`` when higher is better, else ``-(mean + std)``: higher is better."""
        return mean - std if self.higher_is_better else -(mean + std)

    def is_better(self, candidate: float, incumbent: float) -> bool:
        """Whether ``candidate`` is strictly better than ``incumbent`` for this metric."""
        return candidate > incumbent if self.higher_is_better else candidate < incumbent


_REGISTRY: dict[str, Metric] = {}


def register_metric(metric: Metric, *, replace: bool = False) -> Metric:
    """Add ``metric`` to the registry; an existing name needs ``replace=True``."""
    if metric.task_type not in TASK_TYPES:
        raise InvalidInputError(
            "a metric's task_type must be 'clf' or 'reg'", metric=metric.name, got=metric.task_type
        )
    if metric.name in _REGISTRY and not replace:
        raise InvalidInputError("a metric of this name is already registered", metric=metric.name)

    _REGISTRY[metric.name] = metric
    return metric


def known_metrics() -> list[str]:
    """The names of every registered metric, sorted."""
    return sorted(_REGISTRY)


def get_metric(name: str) -> Metric:
    """The registered metric called ``name``; an unknown name lists the known ones."""
    metric = _REGISTRY.get(name)
    if metric is None:
        raise UnknownNameError(
            f"unknown metric {name!r}; known metrics: {', '.join(known_metrics())}",
            metric=name,
        )
    return metric


def default_metrics(task_type: str) -> list[str]:
    """The metrics evaluated when none are asked for: acc and auc, or mae and mse."""
    if task_type == "clf":
        return ["acc", "auc"]
    if task_type == "reg":
        return ["mae", "mse"]
    raise InvalidInputError("task_type must be 'clf' or 'reg'", task_type=task_type)


def compute_metrics(
    names: Iterable[str],
    y_true: object,
    predictions: object = None,
    probabilities: object = None,
    *,
    classes: object = None,
) -> dict[str, float]:
    """Compute each named metric of ``predictions`` (and ``probabilities``) against ``y_true``.

    For classification, missing ``predictions`` are taken as the most probable class of
    ``probabilities``. A metric needing probabilities when none are given is an error.
    """
    metrics = [get_metric(name) for name in names]
    results: dict[str, float] = {}
    if not metrics:
        return results

    for task_type in TASK_TYPES:
        chosen = [metric for metric in metrics if metric.task_type == task_type]
        if not chosen:
            continue
        if task_type == "reg":
            inputs = _regression_inputs(y_true, predictions)
        else:
            needs_prob = [metric.name for metric in chosen if metric.needs_prob]
            inputs = _classification_inputs(y_true, predictions, probabilities, classes, needs_prob)
        for metric in chosen:
            results[metric.name] = float(metric.function(inputs))

    return {metric.name: results[metric.name] for metric in metrics}


# ----------------------------------------------------------------------------- input checks


def _as_2d(values: object, name: str) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim == 1:
        array = array.reshape(-1, 1)
    if array.ndim != 2:
        raise DataError(f"{name} must be 1-D or 2-D", shape=array.shape)
    return array


def _regression_inputs(y_true: object, predictions: object) -> MetricInputs:
    if predictions is None:
        raise InvalidInputError("regression metrics need predictions, got None")
    truth = _as_2d(y_true, "y_true").astype(np.float64)
    predicted = _as_2d(predictions, "predictions").astype(np.float64)
    if truth.shape != predicted.shape:
        raise DataError(
            "y_true and predictions must have the same shape",
            y_true=truth.shape,
            predictions=predicted.shape,
        )
    if truth.shape[0] == 0:
        raise DataError("metrics need at least one sample")
    return MetricInputs(truth, predicted, None, None)


def _as_labels(values: object, name: str) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise DataError(
            f"classification {name} must be one column of labels, 1-D or (n, 1)",
            shape=array.shape,
        )
    return array


def _infer_classes(labels: np.ndarray, num_columns: int) -> np.ndarray:
    present = np.unique(labels)
    if len(present) == num_columns:
        return present
    if np.issubdtype(labels.dtype, np.integer) and (
        len(labels) == 0 or (labels.min() >= 0 and labels.max() < num_columns)
    ):
        return np.arange(num_columns)
    raise DataError(
        "cannot tell which probability column is which class; pass classes=",
        columns=num_columns,
        labels=present.tolist()[:20],
    )


def _classification_inputs(
    y_true: object,
    predictions: object,
    probabilities: object,
    classes: object,
    needs_prob: list[str],
) -> MetricInputs:
    truth = _as_labels(y_true, "y_true")
    if len(truth) == 0:
        raise DataError("metrics need at least one sample")
    if probabilities is None and needs_prob:
        raise InvalidInputError(
            f"metric {needs_prob[0]!r} needs probabilities, but none were given",
            metrics=needs_prob,
        )

    class_array = None if classes is None else np.asarray(classes).ravel()
    prob_array = None
    if probabilities is not None:
        prob_array = _as_2d(probabilities, "probabilities").astype(np.float64)
        if prob_array.shape[1] == 1:
            prob_array = np.hstack([1.0 - prob_array, prob_array])
        if prob_array.shape[0] != len(truth):
            raise DataError(
                "probabilities must have one row per sample",
                y_true=len(truth),
                probabilities=prob_array.shape,
            )
        if class_array is None:
            class_array = _infer_classes(truth, prob_array.shape[1])
        if len(class_array) != prob_array.shape[1]:
            raise DataError(
                "probabilities need one column per class",
                classes=len(class_array),
                columns=prob_array.shape[1],
            )

    if predictions is None:
        if prob_array is None or class_array is None:
            raise InvalidInputError("classification metrics need predictions or probabilities")
        predicted = class_array[np.argmax(prob_array, axis=1)]
    else:
        predicted = _as_labels(predictions, "predictions")
    if len(predicted) != len(truth):
        raise DataError(
            "y_true and predictions must have the same length",
            y_true=len(truth),
            predictions=len(predicted),
        )
    return MetricInputs(truth, predicted, prob_array, class_array)


# ----------------------------------------------------------------------------- classification


def _accuracy(inputs: MetricInputs) -> float:
    assert inputs.predictions is not None
    return float(np.mean(inputs.y_true == inputs.predictions))


def _f1_macro(inputs: MetricInputs) -> float:
    assert inputs.predictions is not None
    truth, predicted = inputs.y_true, inputs.predictions
    labels = np.unique(np.concatenate([truth, predicted]))
    scores = []
    for label in labels:
        true_positive = np.sum((truth == label) & (predicted == label))
        false_positive = np.sum((truth != label) & (predicted == label))
        false_negative = np.sum((truth == label) & (predicted != label))
        denominator = 2 * true_positive + false_positive + false_negative
        scores.append(0.0 if denominator == 0 else 2 * true_positive / denominator)
    return float(np.mean(scores))


def _binary_auc(is_positive: np.ndarray, scores: np.ndarray) -> float:
    """ROC AUC as the Mann-Whitney statistic, ties counted as one half (average ranks)."""
    order = np.argsort(scores, kind="mergesort")
    sorted_scores = scores[order]
    ranks = np.empty(len(scores), dtype=np.float64)
    _, starts, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    average_ranks = starts + (counts + 1) / 2.0
    ranks[order] = np.repeat(average_ranks, counts)

    positives = int(is_positive.sum())
    negatives = len(is_positive) - positives
    rank_sum = ranks[is_positive].sum()
    return float((rank_sum - positives * (positives + 1) / 2.0) / (positives * negatives))


def _auc(inputs: MetricInputs) -> float:
    assert inputs.probabilities is not None and inputs.classes is not None
    truth, probabilities, classes = inputs.y_true, inputs.probabilities, inputs.classes
    present = [index for index, label in enumerate(classes) if np.any(truth == label)]
    if len(present) < 2:
        raise DataError("auc needs y_true to hold at least two classes", classes=classes.tolist())

    if len(classes) == 2:
        return _binary_auc(truth == classes[1], probabilities[:, 1])
    per_class = [_binary_auc(truth == classes[i], probabilities[:, i]) for i in present]
    return float(np.mean(per_class))


def _logloss(inputs: MetricInputs) -> float:
    assert inputs.probabilities is not None and inputs.classes is not None
    truth, classes = inputs.y_true, inputs.classes
    eps = np.finfo(np.float64).eps
    probabilities = np.clip(inputs.probabilities, eps, 1.0 - eps)
    probabilities = probabilities / probabilities.sum(axis=1, keepdims=True)

    sorter = np.argsort(classes)
    positions = np.searchsorted(classes, truth, sorter=sorter)
    positions = np.clip(positions, 0, len(classes) - 1)
    columns = sorter[positions]
    unknown = classes[columns] != truth
    if np.any(unknown):
        raise DataError(
            "y_true holds labels that are not among the classes",
            labels=np.unique(truth[unknown]).tolist()[:20],
        )
    picked = probabilities[np.arange(len(truth)), columns]
    return float(-np.mean(np.log(picked)))


# ----------------------------------------------------------------------------- regression


def _residuals(inputs: MetricInputs) -> np.ndarray:
    assert inputs.predictions is not None
    return inputs.y_true - inputs.predictions


def _mae(inputs: MetricInputs) -> float:
    return float(np.mean(np.abs(_residuals(inputs))))


def _mse(inputs: MetricInputs) -> float:
    return float(np.mean(_residuals(inputs) ** 2))


def _rmse(inputs: MetricInputs) -> float:
    return float(np.mean(np.sqrt(np.mean(_residuals(inputs) ** 2, axis=0))))


def _r2(inputs: MetricInputs) -> float:
    residual_sum = np.sum(_residuals(inputs) ** 2, axis=0)
    centered = inputs.y_true - inputs.y_true.mean(axis=0)
    total_sum = np.sum(centered**2, axis=0)

    per_output = np.ones_like(total_sum)
    defined = total_sum != 0
    per_output[defined] = 1.0 - residual_sum[defined] / total_sum[defined]
    per_output[~defined & (residual_sum != 0)] = 0.0
    return float(np.mean(per_output))


def _register_builtins() -> None:
    builtins = [
        Metric("acc", True, False, _accuracy, "clf", "accuracy"),
        Metric("auc", True, True, _auc, "clf", "ROC AUC (one-vs-rest macro for many classes)"),
        Metric("f1", True, False, _f1_macro, "clf", "F1 score, macro mean over classes"),
        Metric("logloss", False, True, _logloss, "clf", "cross-entropy of probabilities"),
        Metric("mae", False, False, _mae, "reg", "mean absolute error"),
        Metric("mse", False, False, _mse, "reg", "mean squared error"),
        Metric("rmse", False, False, _rmse, "reg", "root mean squared error"),
        Metric("r2", True, False, _r2, "reg", "coefficient of determination"),
    ]
    for metric in builtins:
        register_metric(metric)


_register_builtins()

__all__ = [
    "Metric",
    "MetricInputs",
    "compute_metrics",
    "default_metrics",
    "get_metric",
    "known_metrics",
    "register_metric",
]
