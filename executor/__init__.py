"""Train many models at once, each task in its own workplace, on processes or containers.

Importing the package is light: the task-side helpers (``get_info``, ``report``) need only
the standard library and numpy; everything else is imported on first use.
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

from .errors import *  # noqa: F403 - the exception tree is part of the public API
from .errors import __dict__ as _errors_namespace
from .task_api import TaskInfo, get_info, report, report_failure

logging.getLogger(__name__).addHandler(logging.NullHandler())

_LAZY: dict[str, str] = {}

if TYPE_CHECKING:
    pass

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'executor' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name, __name__), name)
    globals()[name] = value
    return value


_ERRORS = [name for name, value in _errors_namespace.items() if name.endswith("Error")]
__all__ = ["TaskInfo", "get_info", "report", "report_failure", *_ERRORS, *_LAZY]
