"""What a running task calls: ``get_info()``, ``report()`` and ``report_failure()``.

A task needs no command-line arguments: the executor puts the absolute path of its
workplace in the ``EXECUTOR_WORKPLACE`` environment variable. This module needs only the
standard library, plus numpy when the task asks for its data.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .contract import (
    DEVICES_ENV,
    WORKPLACE_ENV,
    Workplace,
    now_iso,
    read_json,
    write_json_atomic,
    write_text_atomic,
)
from .errors import ContractError, NotInTaskError

BUNDLE_PARTS = ("x", "y", "x_cv", "y_cv")


@dataclass
class TaskInfo:
    """Everything a task knows about itself, as read from its meta file."""

    workplace: str
    meta: dict[str, Any]
    kwargs: dict[str, Any]
    data_list: list[Any] = field(default_factory=lambda: [None, None, None, None])
    devices: list[int] = field(default_factory=list)

    @property
    def data_folder(self) -> str | None:
        """The absolute path of the task's data bundle, if it has one."""
        relative = self.meta.get("data_folder")
        if relative is None:
            return None
        return str(Workplace(self.workplace).root / relative)


def current_workplace() -> Workplace:
    """The workplace of the running task, from ``EXECUTOR_WORKPLACE``."""
    value = os.environ.get(WORKPLACE_ENV)
    if not value:
        raise NotInTaskError(
            f"not inside an executor task: the environment variable {WORKPLACE_ENV} is not set"
        )

    workplace = Workplace(value)
    if not workplace.path.is_dir():
        raise NotInTaskError(
            f"{WORKPLACE_ENV} points at a folder that does not exist", workplace=value
        )
    return workplace


def load_bundle(folder: str | os.PathLike[str]) -> list[Any]:
    """Load ``[x, y, x_cv, y_cv]`` from a data bundle folder; absent parts are None."""
    import numpy as np

    folder = Path(folder)
    if not (folder / "x.npy").is_file():
        raise ContractError("the data folder is not a bundle: it has no x.npy", path=str(folder))

    parts: list[Any] = []
    for name in BUNDLE_PARTS:
        path = folder / f"{name}.npy"
        parts.append(np.load(path, allow_pickle=False) if path.is_file() else None)
    return parts


def get_info(requires_data: bool = True) -> TaskInfo:
    """Read the running task's meta and, when ``requires_data``, its data bundle.

    Raises :class:`NotInTaskError` outside a task and :class:`ContractError` when the
    meta file is missing or corrupt, naming the path.
    """
    workplace = current_workplace()
    meta = workplace.read_meta()

    kwargs = dict(meta.get("config") or {})
    kwargs.setdefault("model", meta.get("model"))

    devices_text = os.environ.get(DEVICES_ENV)
    if devices_text is not None:
        devices = [int(part) for part in devices_text.split(",") if part.strip()]
    else:
        devices = [int(device) for device in meta.get("devices") or []]

    info = TaskInfo(workplace=str(workplace.path), meta=meta, kwargs=kwargs, devices=devices)
    if requires_data and info.data_folder is not None:
        info.data_list = load_bundle(info.data_folder)
    return info


def report(metrics: dict[str, Any]) -> None:
    """Record the task's metrics; the last call wins and every call is kept in the history.

    Values must be JSON numbers (or anything JSON can hold); numpy scalars are converted.
    """
    if not isinstance(metrics, dict):
        raise TypeError(f"report() takes a dict of metric name to value, got {type(metrics)}")

    workplace = current_workplace()
    clean = {str(name): _plain(value) for name, value in metrics.items()}

    history: list[dict[str, Any]] = []
    if workplace.metrics_file.exists():
        previous = read_json(workplace.metrics_file, what="metrics file")
        history = list(previous.get("history", [])) if isinstance(previous, dict) else []
    history.append({"time": now_iso(), "metrics": clean})

    write_json_atomic(workplace.metrics_file, {"latest": clean, "history": history})


def report_failure(reason: str) -> None:
    """Leave a failure reason that the executor shows in the task's outcome.

    Call it before exiting with a non-zero status; the reason replaces the stderr tail.
    """
    workplace = current_workplace()
    write_text_atomic(workplace.failure_file, str(reason))


def _plain(value: Any) -> Any:
    if hasattr(value, "item") and callable(value.item):
        return value.item()
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value
