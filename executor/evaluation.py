"""``evaluate``: compare pipelines and other models over repeats, in one table.

Each method (a row of the table) has one or more repeats. A repeat that can predict (a
pipeline, or a :class:`ModelPattern` around any callable) is scored on the ``x``, ``y``
given to ``evaluate``; a task of a run that left no loadable model is counted through the
metrics it ``report()``ed itself, for the requested metrics it reported. Those values come
from the task's own data (its validation set, if it had one), not from ``x``, ``y``.

The statistics, the marks and the exports live in :class:`~executor.comparison.Comparison`.
"""

from __future__ import annotations

import logging
import numbers
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .comparison import Comparison
from .errors import InvalidInputError
from .evaluation_sources import Method, MethodCollector
from .metrics import TASK_TYPES, compute_metrics, default_metrics, get_metric

logger = logging.getLogger(__name__)


class ModelPattern:
    """Any model as a predictor: ``predict_method(x)`` and optionally probabilities.

    ``predict_method`` returns predictions with one row per row of ``x`` (labels for
    classification); ``predict_prob_method`` returns class probabilities ``(n, C)``, the
    columns in the order of ``classes`` (by default the sorted training labels).
    """

    def __init__(
        self,
        predict_method: Callable[[Any], Any],
        predict_prob_method: Callable[[Any], Any] | None = None,
        *,
        classes: Sequence[Any] | np.ndarray | None = None,
        task_type: str | None = None,
    ) -> None:
        if not callable(predict_method):
            raise InvalidInputError("predict_method must be callable", got=repr(predict_method))
        if predict_prob_method is not None and not callable(predict_prob_method):
            raise InvalidInputError(
                "predict_prob_method must be callable or None", got=repr(predict_prob_method)
            )
        if task_type is not None and task_type not in TASK_TYPES:
            raise InvalidInputError("task_type must be 'clf' or 'reg'", task_type=task_type)

        self.predict_method = predict_method
        self.predict_prob_method = predict_prob_method
        self.classes_ = None if classes is None else np.asarray(classes)
        self.task_type = task_type

    def __repr__(self) -> str:
        prob = "with" if self.has_prob else "without"
        return f"ModelPattern({self.predict_method!r}, {prob} probabilities)"

    @property
    def has_prob(self) -> bool:
        """Whether the pattern can give class probabilities."""
        return self.predict_prob_method is not None

    def predict(self, x: Any) -> np.ndarray:
        """The predictions of ``predict_method`` as an array."""
        return np.asarray(self.predict_method(x))

    def predict_prob(self, x: Any) -> np.ndarray:
        """The probabilities of ``predict_prob_method``; an error when there is none."""
        if self.predict_prob_method is None:
            raise InvalidInputError("this ModelPattern has no predict_prob_method")
        return np.asarray(self.predict_prob_method(x))


def _has_prob(predictor: Any) -> bool:
    if isinstance(predictor, ModelPattern):
        return predictor.has_prob
    return callable(getattr(predictor, "predict_prob", None))


def _resolve_task_type(
    task_type: str | None, methods: list[Method], metrics: Sequence[str] | None, y: Any
) -> str:
    """The task type: given, else the predictors', else the metrics', else from ``y``."""
    if task_type is not None:
        if task_type not in TASK_TYPES:
            raise InvalidInputError("task_type must be 'clf' or 'reg'", task_type=task_type)
        return task_type

    declared: set[str] = {
        str(getattr(predictor, "task_type", None))
        for method in methods
        for predictor in method.predictors
    } & set(TASK_TYPES)
    if len(declared) > 1:
        raise InvalidInputError("the pipelines mix classification and regression; compare apart")
    if declared:
        return declared.pop()

    if metrics:
        return get_metric(metrics[0]).task_type
    if y is not None:
        labels = np.asarray(y)
        return "reg" if np.issubdtype(labels.dtype, np.floating) else "clf"
    reported_names = [name for method in methods for row in method.reported for name in row]
    for name in reported_names:
        try:
            return get_metric(name).task_type
        except InvalidInputError:
            continue
    raise InvalidInputError("cannot tell the task type; pass task_type='clf' or 'reg'")


def _check_metrics(metric_names: list[str], task_type: str, methods: list[Method]) -> None:
    """Reject metrics of the other task type, and probability metrics with no probabilities."""
    for name in metric_names:
        metric = get_metric(name)
        if metric.task_type != task_type:
            raise InvalidInputError(
                f"metric {name!r} is for task type {metric.task_type!r}, not {task_type!r}",
                metric=name,
                task_type=task_type,
            )
        if not metric.needs_prob:
            continue
        for method in methods:
            if any(not _has_prob(predictor) for predictor in method.predictors):
                raise InvalidInputError(
                    f"metric {name!r} needs probabilities, but method {method.name!r} has no "
                    "predict_prob method (give ModelPattern a predict_prob_method)",
                    method=method.name,
                    metric=name,
                )


def _score_predictor(
    predictor: Any, x: Any, y: Any, metric_names: list[str], task_type: str, classes: Any
) -> dict[str, float]:
    predictions = predictor.predict(x)
    probabilities = None
    predictor_classes = getattr(predictor, "classes_", None)
    if task_type == "clf" and any(get_metric(name).needs_prob for name in metric_names):
        probabilities = predictor.predict_prob(x)
    return compute_metrics(
        metric_names,
        y,
        predictions,
        probabilities,
        classes=predictor_classes if predictor_classes is not None else classes,
    )


def _reported_values(row: dict[str, Any], metric_names: list[str]) -> dict[str, float]:
    values = {}
    for name in metric_names:
        value = row.get(name)
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            values[name] = float(value)
    return values


def evaluate(
    x: Any,
    y: Any,
    metrics: str | Sequence[str] | None = None,
    pipelines: Any = None,
    other_patterns: Any = None,
    *,
    task_type: str | None = None,
    print_table: bool = True,
    classes: Sequence[Any] | np.ndarray | None = None,
    precision: int = 6,
) -> Comparison:
    """Score every method on ``x``, ``y`` and compare them; print the table by default.

    ``metrics`` defaults to acc and auc (classification) or mae and mse (regression).
    ``pipelines`` is one pipeline, a list, a mapping of name to pipeline(s), the result of
    ``repeat_with`` or the results of ``run_tasks``; ``other_patterns`` maps names to a
    :class:`ModelPattern` or a list of them. ``classes`` orders the probability columns of
    predictors that do not say it themselves (``classes_``).
    """
    collector = MethodCollector()
    collector.add_pipelines(pipelines)
    collector.add_patterns(other_patterns)
    methods = list(collector.methods.values())
    if not methods:
        raise InvalidInputError("nothing to evaluate: give pipelines or other_patterns")

    requested = (
        [metrics] if isinstance(metrics, str) else None if metrics is None else list(metrics)
    )
    resolved_type = _resolve_task_type(task_type, methods, requested, y)
    metric_names = requested if requested else default_metrics(resolved_type)
    _check_metrics(metric_names, resolved_type, methods)
    if any(method.predictors for method in methods) and (x is None or y is None):
        raise InvalidInputError("x and y are needed to score pipelines and patterns")

    values: dict[str, dict[str, list[float]]] = {}
    for method in methods:
        per_metric: dict[str, list[float]] = {name: [] for name in metric_names}
        for predictor in method.predictors:
            scored = _score_predictor(predictor, x, y, metric_names, resolved_type, classes)
            for name, value in scored.items():
                per_metric[name].append(value)
        for row in method.reported:
            for name, value in _reported_values(row, metric_names).items():
                per_metric[name].append(value)
        values[method.name] = per_metric

    comparison = Comparison(
        metrics=metric_names,
        values=values,
        sources={method.name: method.source for method in methods},
        task_type=resolved_type,
        precision=precision,
    )
    if print_table:
        comparison.show()
    else:
        logger.info("comparison of %d methods:\n%s", len(values), comparison.table())
    return comparison


__all__ = ["Comparison", "ModelPattern", "evaluate"]
