"""``tune_with``: search the params of a model, or of any task, with tasks of an Experiment.

Each candidate is ``num_repeat`` tasks that train with the candidate's params and report
their metrics on validation data; a searcher proposes the candidates (ask) and hears their
scores (tell). The search state is saved in the experiment root as it goes, so that calling
the same ``tune_with`` again resumes where it stopped.
"""

from __future__ import annotations

import copy
import logging
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import ConfigError, InvalidInputError
from .loop import SearchLoop
from .plan import TaskPlan
from .result import TuneResult
from .searchers import SEARCHERS
from .space import Choice, Float, Int, SearchSpace, default_space
from .split import validation_split

logger = logging.getLogger(__name__)

DEFAULT_ROOT = "__tune__"
DEFAULT_SPACE_MODELS = ("linear", "fcnn", "tree_dnn")

__all__ = ["Choice", "Float", "Int", "TuneResult", "tune_with"]


def tune_with(
    x: Any = None,
    y: Any = None,
    x_cv: Any = None,
    y_cv: Any = None,
    task_type: str | None = None,
    model: str = "fcnn",
    params: Mapping[str, Any] | None = None,
    num_search: int = 10,
    num_repeat: int = 2,
    num_parallel: int = 1,
    search: str = "bo",
    metrics: str | Sequence[str] | None = None,
    *,
    run_command: str | Sequence[str] | None = None,
    image: str | None = None,
    objective: str | None = None,
    maximize: bool | None = None,
    root: str | os.PathLike[str] | None = None,
    seed: int = 0,
    config: Mapping[str, Any] | None = None,
    timeout: float | None = None,
    retries: int = 0,
    cv_split: float = 0.2,
    search_options: Mapping[str, Any] | None = None,
    task_options: Mapping[str, Any] | None = None,
    **run_options: Any,
) -> TuneResult:
    """Search ``params`` for ``model`` (or for a task of your own) and return the best.

    Every candidate runs ``num_repeat`` tasks, ``num_parallel`` tasks at a time, and is
    scored on validation data: ``x_cv, y_cv``, or else a fraction ``cv_split`` of ``x``
    held out once by ``seed`` (stratified for classification). ``params`` is a dict shaped
    like the config whose leaves are :class:`Choice`, :class:`Float`, :class:`Int` or
    fixed values; built-in networks default to searching the optimizer and its learning
    rate. ``config`` is a fixed config merged under the params.

    With a ``run_command`` (run as a process, or in ``image``), the candidate's params
    (over ``config``) are the task's config and ``objective`` names the metric it reports.
    The direction is ``maximize``, or by default the metric's own (higher is better for
    unknown names).
    ``search`` is ``"bo"``, ``"random"`` or ``"grid"``; ``search_options`` go to the
    searcher (for grid, ``num_points`` per range). ``task_options`` go to every
    ``add_task`` and ``run_options`` to every ``run_tasks`` (``backend``, ``launcher``...).

    The state is saved under ``<root>/__search__/``; calling again with the same inputs
    resumes and runs no finished candidate again. A candidate whose tasks all fail is
    recorded as failed; :class:`SearchFailedError` is raised when every candidate fails.
    """
    _check_count("num_search", num_search)
    _check_count("num_repeat", num_repeat)
    num_parallel = _parallelism(num_parallel)
    if search not in SEARCHERS:
        from ..errors import UnknownNameError

        raise UnknownNameError("unknown search", search=search, expected=list(SEARCHERS))
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InvalidInputError("seed must be a non-negative integer", input=seed)

    custom = run_command is not None
    metric_names = _metric_names(metrics)
    fixed = _fixed_config(config, custom)
    space = SearchSpace(_params_or_default(params, model, custom))

    if not custom:
        task_type = _builtin_task_type(task_type, y, x)
        fixed = {**fixed, "task_type": task_type}
        if metric_names is None:
            from ..metrics import default_metrics

            metric_names = default_metrics(task_type)
    elif objective is None and metric_names is None:
        raise InvalidInputError(
            "tuning a task of your own needs objective=..., the name of a metric it reports",
            input="objective",
        )
    objective = objective or (metric_names[0] if metric_names else None)
    assert objective is not None  # a built-in model always has default metrics
    metric_names = _with_objective(metric_names, objective)
    if task_type is not None and not custom:
        _check_builtin_metrics(metric_names, task_type)
    directions = _directions(metric_names, objective, maximize)

    data = None
    if x is not None:
        data = validation_split(x, y, x_cv, y_cv, task_type=task_type, fraction=cv_split, seed=seed)
    elif x_cv is not None or y_cv is not None or y is not None:
        raise InvalidInputError("y, x_cv and y_cv need x", input="x")
    elif not custom:
        raise InvalidInputError("a built-in model needs data: give x and y", input="x")

    plan = TaskPlan(
        model=model,
        fixed_config=fixed,
        custom=custom,
        run_command=run_command,
        image=image,
        seed=seed,
        num_repeat=num_repeat,
        timeout=timeout,
        task_options=dict(task_options or {}),
    )
    loop = SearchLoop(
        root=root if root is not None else DEFAULT_ROOT,
        space=space,
        plan=plan,
        search=search,
        search_options=dict(search_options or {}),
        objective=objective,
        maximize=directions[objective],
        metrics=metric_names,
        directions=directions,
        num_parallel=num_parallel,
        retries=retries,
        run_options=run_options,
    )
    loop.prepare(data, metrics)
    return loop.run(num_search)


# ----------------------------------------------------------------------------- checks


def _check_count(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInputError(f"{name} must be an integer of 1 or more", **{name: value})


def _parallelism(num_parallel: Any) -> int:
    """Tasks in flight; 0 (the reference document's "no parallelism") means one at a time."""
    if isinstance(num_parallel, bool) or not isinstance(num_parallel, int) or num_parallel < 0:
        raise InvalidInputError("num_parallel must be an integer, 0 or more", input=num_parallel)
    return max(num_parallel, 1)


def _metric_names(metrics: str | Sequence[str] | None) -> list[str] | None:
    if metrics is None:
        return None
    names = [metrics] if isinstance(metrics, str) else list(metrics)
    if not names or not all(isinstance(name, str) and name for name in names):
        raise InvalidInputError("metrics must be a metric name or a non-empty list of them")
    return names


def _with_objective(names: list[str] | None, objective: str) -> list[str]:
    names = list(names or [])
    return names if objective in names else [objective, *names]


def _fixed_config(config: Mapping[str, Any] | None, custom: bool) -> dict[str, Any]:
    if config is None:
        return {}
    if not isinstance(config, Mapping):
        raise ConfigError(f"config must be a dict, got {type(config).__name__}")
    fixed = copy.deepcopy(dict(config))
    if not custom and "seed" in fixed:
        raise ConfigError(
            "tune_with seeds each repeat itself: pass the base seed as seed=..., not in config",
            seed=fixed["seed"],
        )
    return fixed


def _params_or_default(params: Mapping[str, Any] | None, model: str, custom: bool) -> Any:
    if params is not None:
        return params
    if not custom and model in DEFAULT_SPACE_MODELS:
        return default_space()
    raise InvalidInputError(
        "params are needed: only the built-in networks have a default search space",
        model=model,
        defaults_for=list(DEFAULT_SPACE_MODELS),
    )


def _builtin_task_type(task_type: str | None, y: Any, x: Any) -> str:
    if task_type is not None:
        if task_type not in ("clf", "reg"):
            raise InvalidInputError("task_type must be 'clf' or 'reg'", task_type=task_type)
        return task_type
    if x is None or y is None:
        raise InvalidInputError("a built-in model needs data: give x and y", input="x")

    from ..models.preprocessing import infer_task_type

    labels = np.asarray(y)
    return infer_task_type(labels.reshape(len(labels), -1))


def _check_builtin_metrics(names: list[str], task_type: str) -> None:
    """The built-in task reports only its task type's default metrics: refuse any other."""
    from ..metrics import default_metrics

    reported = default_metrics(task_type)
    unknown = [name for name in names if name not in reported]
    if unknown:
        raise InvalidInputError(
            f"the built-in task reports only {reported} for task_type {task_type!r}",
            metrics=unknown,
        )


def _directions(metrics: list[str], objective: str, maximize: bool | None) -> dict[str, bool]:
    """Whether higher is better, per metric: the registry's word, else ``maximize``."""
    from ..errors import UnknownNameError
    from ..metrics import get_metric

    directions: dict[str, bool] = {}
    for name in metrics:
        try:
            directions[name] = get_metric(name).higher_is_better
        except UnknownNameError:
            directions[name] = True
    if maximize is not None:
        directions[objective] = bool(maximize)
    return directions
