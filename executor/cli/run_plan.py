"""From the command line to a checked run spec.

The spec file (or the default job), the flags written over it, and the checks of its models
and metrics, all before anything is written or run.
"""

from __future__ import annotations

import argparse
import copy
import json
from pathlib import Path
from typing import Any

from .common import UsageError
from .run_spec import (
    DEFAULT_SPEC,
    ModelEntry,
    RunSpec,
    models_table,
    parse_run_spec,
)
from .spec_reader import SpecReader, load_spec_file, parse_gpus

DATA_SOURCE_KEYS = ("dataset", "x", "y", "x_cv", "y_cv", "csv", "label", "cv_csv")


def _flag_path(value: str | None) -> str | None:
    """A path given on the command line, taken from the current folder."""
    return None if value is None else str(Path(value).expanduser().absolute())


def _flag_config(text: str | None) -> dict[str, Any]:
    if text is None:
        return {}
    try:
        config = json.loads(text)
    except json.JSONDecodeError as error:
        raise UsageError(f"--config is not valid JSON: {error.msg}", config=text) from None
    if not isinstance(config, dict):
        raise UsageError("--config must be a JSON object such as '{\"num_epochs\": 20}'")
    return config


def _apply_data_flags(raw: dict[str, Any], args: argparse.Namespace) -> None:
    given = {
        "dataset": args.dataset,
        "csv": _flag_path(args.csv),
        "label": args.label,
        "x": _flag_path(args.x),
        "y": _flag_path(args.y),
        "x_cv": _flag_path(args.x_cv),
        "y_cv": _flag_path(args.y_cv),
    }
    given = {key: value for key, value in given.items() if value is not None}
    if given and not any(key in given for key in ("dataset", "csv", "x")):
        raise UsageError("--label goes with --csv; --y, --x-cv and --y-cv go with --x")

    data = raw.get("data")
    if data is not None and not isinstance(data, dict):
        raise UsageError("the spec's data must be a table")
    data = dict(data or {})
    if given:
        data = {key: value for key, value in data.items() if key not in DATA_SOURCE_KEYS}
        data.update(given)
    if args.validation is not None:
        data["validation"] = args.validation
    if args.split_seed is not None:
        data["split_seed"] = args.split_seed
    if data:
        raw["data"] = data


def _apply_model_flags(raw: dict[str, Any], args: argparse.Namespace, source: str) -> None:
    models = models_table(SpecReader(source, Path.cwd()), raw.get("models"))
    if args.models is not None:
        names = [name.strip() for name in args.models.split(",") if name.strip()]
        if not names:
            raise UsageError("--models needs at least one name, such as linear,fcnn")
        models = {name: models.get(name, {}) for name in names}

    config = _flag_config(args.config)
    for name, entry in models.items():
        if not isinstance(entry, dict):
            continue  # parse_run_spec names the bad entry
        entry = dict(entry)
        if config:
            entry["config"] = {**dict(entry.get("config") or {}), **config}
        if args.repeats is not None:
            entry.pop("repeats", None)
        if args.run_command is not None:
            entry["run_command"] = args.run_command
        models[name] = entry
    raw["models"] = models


def apply_flags(raw: dict[str, Any], args: argparse.Namespace, source: str) -> dict[str, Any]:
    """The spec with the command line's flags written over it."""
    raw = copy.deepcopy(raw)
    _apply_data_flags(raw, args)
    _apply_model_flags(raw, args, source)
    if args.gpus is not None:
        parse_gpus(args.gpus, "--gpus")

    flags = {
        "root": _flag_path(args.root),
        "repeats": args.repeats,
        "jobs": args.jobs,
        "timeout": args.timeout,
        "retries": args.retries,
        "launcher": args.launcher,
        "image": args.image,
        "gpus": args.gpus,
        "backend": args.backend,
        "address": args.address,
        "network": getattr(args, "network", None),
        "metrics": args.metrics,
    }
    raw.update({key: value for key, value in flags.items() if value is not None})
    return raw


def build_spec(args: argparse.Namespace) -> RunSpec:
    """The run spec from the spec file (or the default job) and the flags."""
    cwd = Path.cwd()
    if args.spec is None:
        raw, source, base = copy.deepcopy(DEFAULT_SPEC), "the default job", cwd
    else:
        raw = load_spec_file(args.spec)
        source, base = args.spec, Path(args.spec).absolute().parent
    return parse_run_spec(apply_flags(raw, args, source), source=source, base=base, cwd=cwd)


def check_model(entry: ModelEntry) -> None:
    """Refuse an unknown model or a bad config before anything is written."""
    if entry.run_command is not None:
        return
    from ..errors import InvalidInputError
    from ..models import known_models, make
    from ..models.config import TORCH_MODELS, resolve_config

    if entry.model not in TORCH_MODELS and "." not in entry.model.strip("."):
        raise UsageError(
            f"models.{entry.name}: unknown model {entry.model!r}; the built-in models are "
            f"{', '.join(known_models())}; name a scikit-learn estimator by its dotted path "
            "(sklearn.svm.SVC), or give the entry a run_command"
        )
    try:
        if entry.model in TORCH_MODELS:
            resolve_config(entry.model, entry.config)
        else:
            make(entry.model, **entry.config)
    except InvalidInputError as error:
        raise UsageError(f"models.{entry.name}: {error}") from None
    except TypeError as error:
        raise UsageError(f"models.{entry.name}: the config does not fit: {error}") from None


def check_metrics(names: list[str] | None) -> None:
    """Refuse an unknown metric before anything runs."""
    from ..metrics import get_metric

    for name in names or []:
        get_metric(name)
