"""The search spec of ``executor tune``: data, model or task, the params space, the budget.

The ``params`` table is shaped like the task's config. A leaf written as a one-key table
is a dimension to search: ``{choice = [...]}``, ``{float = [low, high]}`` or
``{int = [low, high]}``, the last two with an optional ``log = true``; every other leaf is
a fixed value, and so is every key of ``config``. The validation part is the search's own:
``data.validation`` of the rows held out by ``seed`` (unless validation files are given).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .common import UsageError
from .run_spec import (
    OPTION_KEYS,
    DataSpec,
    RunOptions,
    parse_data,
    parse_options,
    parse_workdir,
)
from .spec_reader import SpecReader

DEFAULT_TUNE_ROOT = "__tune__"
SEARCHERS = ("bo", "random", "grid")
TASK_TYPES = ("clf", "reg")
TUNE_KEYS = (
    *(key for key in OPTION_KEYS if key != "jobs"),
    "data",
    "model",
    "config",
    "params",
    "num_search",
    "num_repeat",
    "num_parallel",
    "search",
    "objective",
    "maximize",
    "metrics",
    "task_type",
    "seed",
    "run_command",
    "num_points",
    "workdir",
    "cpus",
    "memory",
    "env",
)
DIMENSION_KINDS = ("choice", "float", "int")


@dataclass
class TuneSpec:
    """A whole search: where it runs, on what data, over what space, with what budget."""

    options: RunOptions
    data: DataSpec | None
    model: str
    config: dict[str, Any]
    params: dict[str, Any] | None
    num_search: int
    num_repeat: int
    num_parallel: int
    search: str
    objective: str | None
    maximize: bool | None
    metrics: list[str] | None
    task_type: str | None
    seed: int
    run_command: str | list[str] | None
    num_points: int | None
    task_options: dict[str, Any]
    workdir: Path


def build_space(reader: SpecReader, raw: Any, where: str = "params") -> Any:
    """The params table with its dimension leaves turned into Choice, Float and Int."""
    from ..hpo.space import Choice, Float, Int

    if not isinstance(raw, dict):
        return copy.deepcopy(raw)
    kinds = [kind for kind in DIMENSION_KINDS if kind in raw]
    if not kinds:
        return {
            str(key): build_space(reader, value, f"{where}.{key}") for key, value in raw.items()
        }

    extra = set(raw) - {*DIMENSION_KINDS, "log"}
    if len(kinds) > 1 or extra:
        raise UsageError(
            f"{reader.source}: {where} must be one of {{choice = [...]}}, "
            "{float = [low, high], log = true} or {int = [low, high]}",
            got=raw,
        )
    kind, value = kinds[0], raw[kinds[0]]
    if kind == "choice":
        if "log" in raw:
            raise UsageError(f"{reader.source}: {where}: log is for float and int ranges")
        if not isinstance(value, list) or not value:
            raise reader.fail(f"{where}.choice", "a non-empty list of values", value)
        return Choice(value)

    if not isinstance(value, list) or len(value) != 2:
        raise reader.fail(f"{where}.{kind}", "a list [low, high]", value)
    log = raw.get("log", False)
    if not isinstance(log, bool):
        raise reader.fail(f"{where}.log", "true or false", log)
    dimension = Float if kind == "float" else Int
    return dimension(value[0], value[1], log=log)


def parse_tune_spec(raw: dict[str, Any], *, source: str, base: Path, cwd: Path) -> TuneSpec:
    """Check a search spec; relative paths are taken from ``base`` (the spec's folder)."""
    reader = SpecReader(source, base)
    reader.table(raw, "the top level", TUNE_KEYS)
    if "root" not in raw:
        raw = {**raw, "root": str(cwd / DEFAULT_TUNE_ROOT)}
    options = parse_options(reader, raw, cwd)

    config = raw.get("config", {})
    if not isinstance(config, dict):
        raise reader.fail("config", "a table (the fixed config of every candidate)", config)
    params_raw = raw.get("params")
    if params_raw is not None and not isinstance(params_raw, dict):
        raise reader.fail("params", "a table shaped like the config", params_raw)
    params = None if params_raw is None else build_space(reader, params_raw)

    run_command = raw.get("run_command")
    if run_command is not None and not (
        isinstance(run_command, str)
        or (isinstance(run_command, list) and all(isinstance(p, str) for p in run_command))
    ):
        raise reader.fail("run_command", "a string or a list of strings", run_command)
    maximize = raw.get("maximize")
    if maximize is not None and not isinstance(maximize, bool):
        raise reader.fail("maximize", "true or false", maximize)

    data = parse_data(reader, raw.get("data"))
    if data is not None and isinstance(raw["data"], dict) and "split_seed" in raw["data"]:
        raise UsageError(
            f"{source}: a search holds out its validation rows by its own seed; "
            "set seed instead of data.split_seed"
        )
    custom = run_command is not None or options.image is not None
    if data is None and not custom:
        raise UsageError(
            f"{source}: a search of a built-in model needs data; add a data table (for "
            "example dataset = 'iris')"
        )
    objective = reader.string(raw.get("objective"), "objective")
    if custom and objective is None:
        raise UsageError(
            f"{source}: a search of a custom task needs objective, the name of a metric "
            "the task reports"
        )

    return TuneSpec(
        options=options,
        data=data,
        model=reader.string(raw.get("model"), "model") or "fcnn",
        config=copy.deepcopy(config),
        params=params,
        num_search=reader.integer(raw.get("num_search"), "num_search", 1) or 10,
        num_repeat=reader.integer(raw.get("num_repeat"), "num_repeat", 1) or 2,
        num_parallel=reader.integer(raw.get("num_parallel"), "num_parallel", 1) or 1,
        search=reader.string(raw.get("search"), "search", SEARCHERS) or "bo",
        objective=objective,
        maximize=maximize,
        metrics=reader.string_list(raw.get("metrics"), "metrics"),
        task_type=reader.string(raw.get("task_type"), "task_type", TASK_TYPES),
        seed=reader.integer(raw.get("seed"), "seed", 0) or 0,
        run_command=run_command,
        num_points=reader.integer(raw.get("num_points"), "num_points", 1),
        task_options=_task_options(reader, raw, options),
        workdir=parse_workdir(reader, raw),
    )


def _task_options(reader: SpecReader, raw: dict[str, Any], options: RunOptions) -> dict[str, Any]:
    """What every task of the search adds: GPUs per task, CPUs, memory, environment."""
    task_options: dict[str, Any] = {"gpus": options.gpus.per_task}
    cpus = reader.number(raw.get("cpus"), "cpus", low=1e-9)
    if cpus is not None:
        task_options["cpus"] = cpus
    memory = reader.string(raw.get("memory"), "memory")
    if memory is not None:
        task_options["memory"] = memory
    env = reader.string_map(raw.get("env"), "env")
    if env:
        task_options["env"] = env
    return task_options
