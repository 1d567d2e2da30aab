"""Train many models at once, each task in its own workplace, on processes or containers.

Importing the package is light: the task-side helpers (``get_info``, ``report``) need only
the standard library and numpy; everything else is imported on first use, so that
``import executor`` never loads torch, docker, scikit-learn or ray.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import (
    ConfigError,
    ContractError,
    DataError,
    DockerUnavailableError,
    ExecutorError,
    GPUUnavailableError,
    ImageNotFoundError,
    InvalidInputError,
    LaunchError,
    ModelNotFoundError,
    NotInTaskError,
    ResourceError,
    RootLockedError,
    SearchFailedError,
    SearchSpaceError,
    TaskFailedError,
    UnknownNameError,
    WorkplaceKeyError,
)
from .task_api import TaskInfo, get_info, report, report_failure

if TYPE_CHECKING:
    from .evaluation import Comparison, ModelPattern, evaluate
    from .experiment import Experiment, Results
    from .hpo.space import Choice, Float, Int
    from .hpo.tune import TuneResult, tune_with
    from .models import Pipeline, load_pipeline, make, task_loader
    from .outcome import Outcome, TaskState
    from .repeat import RepeatResult, repeat_with

__version__ = "0.1.0"

_LAZY: dict[str, str] = {
    "Experiment": ".experiment",
    "Results": ".experiment",
    "Outcome": ".outcome",
    "TaskState": ".outcome",
    "make": ".models",
    "Pipeline": ".models",
    "load_pipeline": ".models",
    "task_loader": ".models",
    "repeat_with": ".repeat",
    "RepeatResult": ".repeat",
    "evaluate": ".evaluation",
    "ModelPattern": ".evaluation",
    "Comparison": ".evaluation",
    "Choice": ".hpo.space",
    "Float": ".hpo.space",
    "Int": ".hpo.space",
    "tune_with": ".hpo.tune",
    "TuneResult": ".hpo.tune",
}


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'executor' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name, __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "ConfigError",
    "ContractError",
    "DataError",
    "DockerUnavailableError",
    "ExecutorError",
    "GPUUnavailableError",
    "ImageNotFoundError",
    "InvalidInputError",
    "LaunchError",
    "ModelNotFoundError",
    "NotInTaskError",
    "ResourceError",
    "RootLockedError",
    "SearchFailedError",
    "SearchSpaceError",
    "TaskFailedError",
    "UnknownNameError",
    "WorkplaceKeyError",
    "TaskInfo",
    "get_info",
    "report",
    "report_failure",
    "Experiment",
    "Results",
    "Outcome",
    "TaskState",
    "make",
    "Pipeline",
    "load_pipeline",
    "task_loader",
    "repeat_with",
    "RepeatResult",
    "evaluate",
    "ModelPattern",
    "Comparison",
    "Choice",
    "Float",
    "Int",
    "tune_with",
    "TuneResult",
]
