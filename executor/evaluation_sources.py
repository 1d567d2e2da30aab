"""Turn what ``evaluate`` is given into named methods, each a list of repeats.

A repeat is either a predictor (anything with ``predict(x)``: a pipeline or a
:class:`~executor.evaluation.ModelPattern`) or the metrics a task reported itself. The
accepted shapes of ``pipelines`` are:

* one predictor, named by its ``model`` attribute, else its class name;
* a list of predictors, grouped by that name (predictors of one name are repeats);
* a mapping of name to a predictor or a list of them;
* the result of ``repeat_with``: its ``pipelines`` mapping of model to list;
* the results of ``run_tasks``: tasks grouped by the model of their workplace key. A task
  with a pipeline is a predictor; a succeeded task without one (no ``task_loader``, or a
  custom task that saved no loadable model) counts through the metrics it reported, when
  it reported any; anything else is skipped with a warning.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import InvalidInputError

logger = logging.getLogger(__name__)


@dataclass
class Method:
    """One row of the comparison: its predictors and its reported metric dicts."""

    name: str
    predictors: list[Any] = field(default_factory=list)
    reported: list[dict[str, Any]] = field(default_factory=list)
    kinds: set[str] = field(default_factory=set)

    @property
    def source(self) -> str:
        """Where the values come from: pipeline, pattern, reported, or a ``+`` mix."""
        return "+".join(sorted(self.kinds))


def default_name(predictor: Any) -> str:
    """A predictor's name: its ``model`` attribute if it is set, else its class name."""
    model = getattr(predictor, "model", None)
    if isinstance(model, str) and model:
        return model
    return type(predictor).__name__


def _check_predictor(predictor: Any, name: str) -> Any:
    if not callable(getattr(predictor, "predict", None)):
        raise InvalidInputError(
            "every pipeline must have a predict(x) method",
            method=name,
            got=type(predictor).__name__,
        )
    return predictor


def _is_run_results(value: Any) -> bool:
    return hasattr(value, "workplace_keys") and hasattr(value, "pipelines")


def _is_repeat_result(value: Any) -> bool:
    return not isinstance(value, Mapping) and isinstance(getattr(value, "pipelines", None), Mapping)


class MethodCollector:
    """Gathers methods by name; a name given by two different arguments is an error."""

    def __init__(self) -> None:
        self.methods: dict[str, Method] = {}
        self._origins: dict[str, str] = {}

    def _method(self, name: str, origin: str) -> Method:
        if not isinstance(name, str) or not name:
            raise InvalidInputError("method names must be non-empty strings", name=name)
        known = self._origins.setdefault(name, origin)
        if known != origin:
            raise InvalidInputError(
                f"the name {name!r} is given by both {known} and {origin}", method=name
            )
        return self.methods.setdefault(name, Method(name))

    def add_predictor(self, name: str, predictor: Any, kind: str, origin: str) -> None:
        """Add one predictor as a repeat of ``name``."""
        method = self._method(name, origin)
        method.predictors.append(_check_predictor(predictor, name))
        method.kinds.add(kind)

    def add_reported(self, name: str, metrics: dict[str, Any], origin: str) -> None:
        """Add the metrics one task reported as a repeat of ``name``."""
        method = self._method(name, origin)
        method.reported.append(metrics)
        method.kinds.add("reported")

    def add_pipelines(self, pipelines: Any) -> None:
        """Add the ``pipelines`` argument of ``evaluate``, in any accepted shape."""
        if pipelines is None:
            return
        if _is_run_results(pipelines):
            self._add_run_results(pipelines)
        elif _is_repeat_result(pipelines):
            self._add_mapping(pipelines.pipelines, "pipeline", "pipelines")
        elif isinstance(pipelines, Mapping):
            self._add_mapping(pipelines, "pipeline", "pipelines")
        elif isinstance(pipelines, list | tuple):
            for predictor in pipelines:
                if predictor is None:
                    raise InvalidInputError("pipelines holds None; give trained pipelines")
                self.add_predictor(default_name(predictor), predictor, "pipeline", "pipelines")
        else:
            self.add_predictor(default_name(pipelines), pipelines, "pipeline", "pipelines")

    def add_patterns(self, patterns: Any) -> None:
        """Add the ``other_patterns`` argument: a mapping of name to pattern(s)."""
        if patterns is None:
            return
        if not isinstance(patterns, Mapping):
            raise InvalidInputError(
                "other_patterns must map names to a ModelPattern or a list of them",
                got=type(patterns).__name__,
            )
        self._add_mapping(patterns, "pattern", "other_patterns")

    def _add_mapping(self, mapping: Mapping[Any, Any], kind: str, origin: str) -> None:
        for name, value in mapping.items():
            items = list(value) if isinstance(value, list | tuple) else [value]
            for predictor in items:
                if predictor is None:
                    logger.warning("skipping a missing pipeline of %s", name)
                    continue
                self.add_predictor(str(name), predictor, kind, origin)

    def _add_run_results(self, results: Any) -> None:
        keys = list(results.workplace_keys)
        pipelines = list(results.pipelines or [None] * len(keys))
        reported = list(getattr(results, "metrics", None) or [{}] * len(keys))
        outcomes = list(getattr(results, "outcomes", None) or [None] * len(keys))
        if not len(keys) == len(pipelines) == len(reported) == len(outcomes):
            raise InvalidInputError(
                "the run results have lists of different lengths",
                keys=len(keys),
                pipelines=len(pipelines),
                metrics=len(reported),
                outcomes=len(outcomes),
            )

        for key, pipeline, metrics, outcome in zip(
            keys, pipelines, reported, outcomes, strict=True
        ):
            model = str(key[0])
            if pipeline is not None:
                self.add_predictor(model, pipeline, "pipeline", "pipelines")
            elif _succeeded(outcome) and metrics:
                self.add_reported(model, dict(metrics), "pipelines")
            else:
                state = getattr(outcome, "state", None)
                logger.warning(
                    "task %s/%s has neither a pipeline nor reported metrics (state %s); "
                    "it is left out of the comparison",
                    key[0],
                    key[1],
                    getattr(state, "value", state),
                )


def _succeeded(outcome: Any) -> bool:
    if outcome is None:
        return True
    succeeded = getattr(outcome, "succeeded", None)
    if isinstance(succeeded, bool):
        return succeeded
    state = getattr(outcome, "state", None)
    return str(getattr(state, "value", state)) == "succeeded"
