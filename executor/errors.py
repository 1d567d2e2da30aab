"""The exceptions of ``executor``: one base class, each error carrying its evidence.

Every error keeps the facts that explain it (the workplace, the command or image, the exit
status, the tail of stderr) as attributes and in its message, and survives pickling, so
that an error raised on a worker reaches the caller whole.
"""

from __future__ import annotations

from typing import Any


def _rebuild(cls: type[ExecutorError], message: str, evidence: dict[str, Any]) -> ExecutorError:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.message = message
    error.evidence = evidence
    for name, value in evidence.items():
        setattr(error, name, value)
    return error


class ExecutorError(Exception):
    """The base of every error ``executor`` raises on purpose.

    ``evidence`` holds the named facts given at construction; each is also an attribute.
    """

    def __init__(self, message: str, **evidence: Any) -> None:
        details = [f"{name}={value!r}" for name, value in evidence.items() if value is not None]
        full = message if not details else f"{message} ({', '.join(details)})"
        super().__init__(full)
        self.message = full
        self.evidence = evidence
        for name, value in evidence.items():
            setattr(self, name, value)

    def __reduce__(self) -> tuple[Any, ...]:
        return _rebuild, (type(self), self.message, self.evidence)

    def __str__(self) -> str:
        return self.message


class InvalidInputError(ExecutorError, ValueError):
    """An argument given to the public API is malformed; the message names it."""


class DataError(InvalidInputError):
    """Arrays or a data folder do not have the shape, type or content a task needs."""


class ConfigError(InvalidInputError):
    """A task config is not JSON, or names a key the model does not know."""


class UnknownNameError(InvalidInputError, KeyError):
    """A model, metric, searcher or launcher name is not one of the known ones."""

    def __str__(self) -> str:
        return self.message


class WorkplaceKeyError(InvalidInputError):
    """A workplace key is empty, duplicated, or could escape the experiment root."""


class SearchSpaceError(InvalidInputError):
    """A search space has bad bounds or an empty choice."""


class ResourceError(ExecutorError, RuntimeError):
    """A task asks for resources (GPUs, CPUs) that the machine cannot give."""


class ContractError(ExecutorError, RuntimeError):
    """The filesystem contract is broken: a missing, torn or corrupt meta or outcome file."""


class NotInTaskError(ContractError):
    """A task-side helper such as ``get_info`` was called outside a running task."""


class LaunchError(ExecutorError, RuntimeError):
    """A task could not be started: a missing script, image or daemon."""


class DockerUnavailableError(LaunchError):
    """The Docker engine cannot be reached at the address that was tried."""


class ImageNotFoundError(LaunchError):
    """A task names a Docker image that the engine does not have."""


class GPUUnavailableError(LaunchError, ResourceError):
    """GPUs were asked for, but the engine or the machine has no GPU runtime."""


class RootLockedError(ExecutorError, RuntimeError):
    """Another run holds the lock of this experiment root."""


class TaskFailedError(ExecutorError, RuntimeError):
    """One or more tasks did not succeed; ``failures`` lists their outcomes."""


class ModelNotFoundError(ExecutorError, FileNotFoundError):
    """A workplace holds no model that ``task_loader`` can load."""


class SearchFailedError(ExecutorError, RuntimeError):
    """Every candidate of a search failed; the message carries their reasons."""
