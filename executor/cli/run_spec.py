"""The run spec: what ``executor run`` trains, on what data, with what resources.

A spec is a TOML or JSON file; flags on the command line override it, and without either
the embedded default runs (the three built-in models, three repeats each, on scikit-learn's
breast cancer data with a fixed held-out split). ``docs/cli.md`` describes every key.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..spec import LAUNCHERS
from .common import UsageError
from .spec_reader import GpuPlan, SpecReader, parse_gpus

DEFAULT_ROOT = "__experiment__"
DEFAULT_VALIDATION = 0.2
"""The fraction of the rows held out for evaluation when no validation files are given."""
DEFAULT_MODELS = ("linear", "fcnn", "tree_dnn")
DEFAULT_SPEC: dict[str, Any] = {
    "jobs": 2,
    "repeats": 3,
    "data": {"dataset": "breast_cancer", "validation": 0.2, "split_seed": 0},
    "models": list(DEFAULT_MODELS),
}
"""The embedded main job that ``executor run`` runs when it is given nothing."""

BACKENDS = ("local", "ray")
OPTION_KEYS = (
    "root",
    "jobs",
    "timeout",
    "retries",
    "launcher",
    "image",
    "gpus",
    "backend",
    "address",
    "network",
)
RUN_KEYS = (*OPTION_KEYS, "repeats", "metrics", "config", "data", "models", "workdir")
DATA_KEYS = (
    "dataset",
    "x",
    "y",
    "x_cv",
    "y_cv",
    "csv",
    "label",
    "cv_csv",
    "validation",
    "split_seed",
)
MODEL_KEYS = (
    "model",
    "config",
    "repeats",
    "run_command",
    "image",
    "launcher",
    "gpus",
    "cpus",
    "memory",
    "timeout",
    "retries",
    "env",
    "network",
)


@dataclass
class RunOptions:
    """Where and how the tasks of a run or a search run."""

    root: Path
    jobs: int = 1
    timeout: float | None = None
    retries: int = 0
    launcher: str | None = None
    image: str | None = None
    gpus: GpuPlan = field(default_factory=GpuPlan)
    backend: str = "local"
    address: str | None = None
    network: str | None = None

    def backend_options(self) -> dict[str, Any]:
        """The extra keyword arguments ``run_tasks`` passes to its backend."""
        return {} if self.address is None else {"address": self.address}


@dataclass
class DataSpec:
    """Where the data comes from, and how a validation part is held out."""

    dataset: str | None = None
    x: Path | None = None
    y: Path | None = None
    x_cv: Path | None = None
    y_cv: Path | None = None
    csv: Path | None = None
    label: str | None = None
    cv_csv: Path | None = None
    validation: float | None = None
    split_seed: int = 0


@dataclass
class ModelEntry:
    """One row of the comparison: a model, its config, and how many times it runs."""

    name: str
    model: str
    config: dict[str, Any]
    repeats: int
    run_command: str | list[str] | None = None
    image: str | None = None
    launcher: str | None = None
    gpus: int | str | None = None
    cpus: float | None = None
    memory: str | None = None
    timeout: float | None = None
    retries: int | None = None
    env: dict[str, str] = field(default_factory=dict)
    network: str | None = None


@dataclass
class RunSpec:
    """A whole run: options, data, models, and the metrics of its table."""

    options: RunOptions
    data: DataSpec | None
    models: list[ModelEntry]
    metrics: list[str] | None
    workdir: Path


def parse_options(reader: SpecReader, raw: dict[str, Any], cwd: Path) -> RunOptions:
    """The run options of a spec's top level."""
    root = reader.path(raw.get("root"), "root") or cwd / DEFAULT_ROOT
    jobs = reader.integer(raw.get("jobs"), "jobs", 1)
    retries = reader.integer(raw.get("retries"), "retries", 0)
    options = RunOptions(
        root=root,
        jobs=1 if jobs is None else jobs,
        timeout=reader.number(raw.get("timeout"), "timeout", low=1e-9),
        retries=0 if retries is None else retries,
        launcher=reader.string(raw.get("launcher"), "launcher", LAUNCHERS),
        image=reader.string(raw.get("image"), "image"),
        gpus=parse_gpus(raw.get("gpus"), f"{reader.source}: gpus"),
        backend=reader.string(raw.get("backend"), "backend", BACKENDS) or "local",
        address=reader.string(raw.get("address"), "address"),
        network=reader.string(raw.get("network"), "network"),
    )
    if options.address is not None and options.backend != "ray":
        raise UsageError(f"{reader.source}: address is for backend 'ray'; set backend = 'ray'")
    return options


def parse_data(reader: SpecReader, raw: Any) -> DataSpec | None:
    """The ``data`` table: a scikit-learn data set, .npy files, or a .csv file."""
    if raw is None:
        return None
    table = reader.table(raw, "data", DATA_KEYS)
    data = DataSpec(
        dataset=reader.string(table.get("dataset"), "data.dataset"),
        x=reader.path(table.get("x"), "data.x"),
        y=reader.path(table.get("y"), "data.y"),
        x_cv=reader.path(table.get("x_cv"), "data.x_cv"),
        y_cv=reader.path(table.get("y_cv"), "data.y_cv"),
        csv=reader.path(table.get("csv"), "data.csv"),
        label=reader.string(table.get("label"), "data.label"),
        cv_csv=reader.path(table.get("cv_csv"), "data.cv_csv"),
        validation=reader.number(table.get("validation"), "data.validation", low=0.0, high=1.0),
        split_seed=reader.integer(table.get("split_seed"), "data.split_seed", 0) or 0,
    )

    sources = [
        name
        for name, given in (("dataset", data.dataset), ("x", data.x), ("csv", data.csv))
        if given is not None
    ]
    if len(sources) != 1:
        raise UsageError(
            f"{reader.source}: data needs exactly one of dataset, x (with y) or csv (with "
            f"label); got {sources or 'none'}"
        )
    if data.x is not None and data.y is None:
        raise UsageError(f"{reader.source}: data.x needs data.y (the labels, a .npy file)")
    if data.csv is not None and data.label is None:
        raise UsageError(f"{reader.source}: data.csv needs data.label (the label column's name)")
    if (data.x_cv is None) != (data.y_cv is None):
        raise UsageError(f"{reader.source}: data.x_cv and data.y_cv go together")
    if data.x_cv is not None and data.x is None:
        raise UsageError(f"{reader.source}: data.x_cv is for .npy data (with data.x)")
    if data.cv_csv is not None and data.csv is None:
        raise UsageError(f"{reader.source}: data.cv_csv is for .csv data (with data.csv)")
    if data.validation and (data.x_cv is not None or data.cv_csv is not None):
        raise UsageError(
            f"{reader.source}: give either data.validation (a fraction to hold out) or "
            "validation files (x_cv/y_cv or cv_csv), not both"
        )
    return data


def models_table(reader: SpecReader, raw: Any) -> dict[str, Any]:
    """The ``models`` as a table of name to entry; a list of names is accepted too."""
    if raw is None:
        raw = list(DEFAULT_MODELS)
    if isinstance(raw, list):
        entries: dict[str, Any] = {}
        for item in raw:
            if isinstance(item, str) and item.strip():
                entries[item] = {}
            elif isinstance(item, dict) and isinstance(item.get("name"), str):
                entries[item["name"]] = {k: v for k, v in item.items() if k != "name"}
            else:
                raise reader.fail(
                    "each item of models", "a model name or a table with a name", item
                )
        raw = entries
    if not isinstance(raw, dict) or not raw:
        raise reader.fail("models", "a non-empty list of names or table of models", raw)
    return dict(raw)


def parse_models(
    reader: SpecReader, raw: Any, repeats: int, shared_config: dict[str, Any]
) -> list[ModelEntry]:
    """The ``models``: a list of names, or a table of name to entry."""
    raw = models_table(reader, raw)
    models = []
    for name, entry_raw in raw.items():
        where = f"models.{name}"
        entry = reader.table(entry_raw, where, MODEL_KEYS)
        config = entry.get("config", {})
        if not isinstance(config, dict):
            raise reader.fail(f"{where}.config", "a table", config)
        run_command = entry.get("run_command")
        if run_command is not None and not (
            isinstance(run_command, str)
            or (isinstance(run_command, list) and all(isinstance(p, str) for p in run_command))
        ):
            raise reader.fail(f"{where}.run_command", "a string or a list of strings", run_command)
        gpus = entry.get("gpus")
        if (
            gpus is not None
            and gpus != "all"
            and (isinstance(gpus, bool) or not isinstance(gpus, int) or gpus < 0)
        ):
            raise reader.fail(f"{where}.gpus", "a count of GPUs per task, or 'all'", gpus)

        entry_repeats = reader.integer(entry.get("repeats"), f"{where}.repeats", 1)
        models.append(
            ModelEntry(
                name=name,
                model=reader.string(entry.get("model"), f"{where}.model") or name,
                config={**copy.deepcopy(shared_config), **copy.deepcopy(config)},
                repeats=repeats if entry_repeats is None else entry_repeats,
                run_command=run_command,
                image=reader.string(entry.get("image"), f"{where}.image"),
                launcher=reader.string(entry.get("launcher"), f"{where}.launcher", LAUNCHERS),
                gpus=gpus,
                cpus=reader.number(entry.get("cpus"), f"{where}.cpus", low=1e-9),
                memory=reader.string(entry.get("memory"), f"{where}.memory"),
                timeout=reader.number(entry.get("timeout"), f"{where}.timeout", low=1e-9),
                retries=reader.integer(entry.get("retries"), f"{where}.retries", 0),
                env=reader.string_map(entry.get("env"), f"{where}.env"),
                network=reader.string(entry.get("network"), f"{where}.network"),
            )
        )
    return models


def parse_run_spec(raw: dict[str, Any], *, source: str, base: Path, cwd: Path) -> RunSpec:
    """Check a whole run spec; relative paths are taken from ``base`` (the spec's folder)."""
    reader = SpecReader(source, base)
    reader.table(raw, "the top level", RUN_KEYS)

    shared_config = raw.get("config", {})
    if not isinstance(shared_config, dict):
        raise reader.fail("config", "a table (the config every model shares)", shared_config)
    repeats = reader.integer(raw.get("repeats"), "repeats", 1)

    options = parse_options(reader, raw, cwd)
    models = parse_models(reader, raw.get("models"), repeats or 1, shared_config)
    data = parse_data(reader, raw.get("data"))
    if data is None and any(entry.run_command is None for entry in models):
        raise UsageError(
            f"{source}: the built-in models need data; add a data table (for example "
            "dataset = 'breast_cancer')"
        )
    return RunSpec(
        options=options,
        data=data,
        models=models,
        metrics=reader.string_list(raw.get("metrics"), "metrics"),
        workdir=parse_workdir(reader, raw),
    )


def parse_workdir(reader: SpecReader, raw: dict[str, Any]) -> Path:
    """The folder tasks run in (a Docker task's mounted current folder): the spec's own."""
    workdir = reader.path(raw.get("workdir"), "workdir") or reader.base
    if not workdir.is_dir():
        raise UsageError(f"{reader.source}: workdir is not a folder", workdir=str(workdir))
    return workdir
