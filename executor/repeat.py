"""``repeat_with``: train several copies of each model on the same data, through one Experiment.

Every repeat is a task of an :class:`~executor.experiment.Experiment`, so sequential and
parallel runs share one code path (``num_jobs`` only sets how many run at once). Repeat
``i`` of every model gets the seed ``seed + i``, written into its config and so into its
meta: each repeat can be reproduced alone, and the models of one repeat share a seed.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import ConfigError, InvalidInputError, TaskFailedError
from .experiment import Experiment, Results
from .models import make
from .models import task_loader as default_task_loader
from .outcome import Outcome

logger = logging.getLogger(__name__)

DEFAULT_ROOT = "__repeat__"


@dataclass
class RepeatResult:
    """What ``repeat_with`` trained.

    ``pipelines`` maps each model to the pipelines of its succeeded repeats, in repeat
    order; ``outcomes`` maps each model to the outcome of every repeat; ``failures`` lists
    the outcomes of repeats that did not succeed (their ``reason`` says why), and
    ``load_errors`` the succeeded repeats whose pipeline could not be loaded.
    """

    pipelines: dict[str, list[Any]]
    outcomes: dict[str, list[Outcome]]
    seeds: dict[str, list[int]]
    experiment: Experiment
    results: Results
    failures: list[Outcome] = field(default_factory=list)
    load_errors: dict[tuple[str, str], str] = field(default_factory=dict)

    @property
    def succeeded(self) -> bool:
        """True when every repeat succeeded and was loaded."""
        return not self.failures and not self.load_errors

    def raise_for_failures(self) -> None:
        """Raise :class:`TaskFailedError` if any repeat failed."""
        self.results.raise_for_failures()


def repeat_with(
    x: Any,
    y: Any,
    x_cv: Any = None,
    y_cv: Any = None,
    models: str | Sequence[str] = ("fcnn",),
    num_repeat: int = 3,
    num_jobs: int = 1,
    config: Mapping[str, Any] | None = None,
    root: str | os.PathLike[str] | None = None,
    seed: int = 0,
    task_loader: Callable[[str], Any] | None = default_task_loader,
    task_options: Mapping[str, Any] | None = None,
    **run_options: Any,
) -> RepeatResult:
    """Train ``num_repeat`` copies of each of ``models`` on ``x, y`` and load them back.

    ``config`` is one config for every model, or a mapping of model name to its config.
    ``task_options`` go to every ``add_task`` (``gpus``, ``timeout``, ``image``, ``env``,
    ...); ``run_options`` go to ``run_tasks`` (``backend``, ``launcher``, ``retries``,
    ``cuda_list``, ``force``, ...). The experiment lives in ``root`` (``__repeat__`` by
    default), where a second call with the same inputs skips the repeats already done.

    Failed repeats are logged and listed in the result's ``failures``; if no repeat at all
    succeeded, :class:`TaskFailedError` is raised with their reasons.
    """
    model_names = _check_models(models)
    _check_count("num_repeat", num_repeat)
    _check_count("num_jobs", num_jobs)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InvalidInputError("seed must be a non-negative integer", input=seed)
    configs = _configs_by_model(config, model_names)
    options = dict(task_options or {})
    if "run_command" not in options:
        for name in model_names:
            make(name, **{**configs[name], "seed": seed})

    experiment = Experiment(root if root is not None else DEFAULT_ROOT)
    data_folder = experiment.dump_data_bundle(x, y, x_cv, y_cv)
    seeds = {name: [seed + index for index in range(num_repeat)] for name in model_names}
    for name in model_names:
        for repeat_seed in seeds[name]:
            experiment.add_task(
                model=name,
                config={**configs[name], "seed": repeat_seed},
                data_folder=data_folder,
                **options,
            )

    results = experiment.run_tasks(num_jobs=num_jobs, task_loader=task_loader, **run_options)
    return _gather(experiment, results, model_names, seeds, task_loader is not None)


def _gather(
    experiment: Experiment,
    results: Results,
    model_names: list[str],
    seeds: dict[str, list[int]],
    loaded: bool,
) -> RepeatResult:
    outcomes: dict[str, list[Outcome]] = {name: [] for name in model_names}
    pipelines: dict[str, list[Any]] = {name: [] for name in model_names}
    tasks = zip(experiment.tasks, results.outcomes, results.pipelines, strict=True)
    for spec, outcome, pipeline in tasks:
        outcomes[spec.model].append(outcome)
        if pipeline is not None:
            pipelines[spec.model].append(pipeline)

    failures = results.failures
    for outcome in failures:
        logger.warning("a repeat failed: %s", outcome.describe())
    if failures and len(failures) == len(results.outcomes):
        reasons = "\n".join(f"- {outcome.describe()}" for outcome in failures)
        raise TaskFailedError(
            f"every one of the {len(failures)} repeats failed:\n{reasons}",
            failures=[outcome.workplace for outcome in failures],
        )

    return RepeatResult(
        pipelines=pipelines if loaded else {name: [] for name in model_names},
        outcomes=outcomes,
        seeds=seeds,
        experiment=experiment,
        results=results,
        failures=failures,
        load_errors=dict(results.load_errors),
    )


def _check_models(models: str | Sequence[str]) -> list[str]:
    names = [models] if isinstance(models, str) else list(models)
    if not names or not all(isinstance(name, str) and name for name in names):
        raise InvalidInputError("models must be a model name or a non-empty list of them")
    if len(set(names)) != len(names):
        raise InvalidInputError("models names a model twice", models=names)
    return names


def _check_count(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInputError(f"{name} must be an integer of 1 or more", **{name: value})


def _configs_by_model(
    config: Mapping[str, Any] | None, model_names: list[str]
) -> dict[str, dict[str, Any]]:
    """One config per model, from a shared config or a mapping of model to config."""
    if config is None:
        return {name: {} for name in model_names}
    if not isinstance(config, Mapping):
        raise ConfigError(f"config must be a dict, got {type(config).__name__}")

    per_model = [key for key in config if key in model_names]
    if not per_model:
        shared = dict(config)
        _refuse_seed(shared)
        return {name: dict(shared) for name in model_names}

    others = sorted(set(config) - set(model_names))
    if others:
        raise ConfigError(
            "config mixes per-model configs with shared keys; give one or the other",
            models=per_model,
            other_keys=others,
        )
    configs: dict[str, dict[str, Any]] = {}
    for name in model_names:
        value = config.get(name) or {}
        if not isinstance(value, Mapping):
            raise ConfigError(f"the config of {name!r} must be a dict", model=name)
        configs[name] = dict(value)
        _refuse_seed(configs[name])
    return configs


def _refuse_seed(config: dict[str, Any]) -> None:
    if "seed" in config:
        raise ConfigError(
            "repeat_with sets each repeat's seed: pass the base seed as seed=..., not in config",
            seed=config["seed"],
        )
