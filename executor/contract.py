"""The filesystem contract between the executor and a task.

One object names every path of an experiment root (:class:`RootLayout`) and one every
file of a workplace (:class:`Workplace`), so that no file name is spelled anywhere else.
Everything the executor writes about a task is plain JSON written atomically.

This module needs only the standard library: a task in a lean image imports it.
"""

from __future__ import annotations

import json
import os
import socket
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .errors import ContractError

CONTRACT_VERSION = 1
WORKPLACE_ENV = "EXECUTOR_WORKPLACE"
"""The environment variable that tells a task the absolute path of its workplace."""
DEVICES_ENV = "EXECUTOR_DEVICES"
"""The environment variable listing the GPU ids assigned to a task (comma separated)."""

DATA_DIR = "__data__"
META_FILE = "__meta__.json"
OUTCOME_FILE = "__outcome__.json"
METRICS_FILE = "__metrics__.json"
FAILURE_FILE = "__failure__.txt"
EXIT_FILE = "__exit__.json"
PID_FILE = "__pid__.json"
LOGS_DIR = "_logs"
MODEL_DIR = "model"
LOCK_FILE = "__lock__"
LOCK_INFO_FILE = "__lock__.json"
SEARCH_DIR = "__search__"

OWN_FILES = frozenset({META_FILE, OUTCOME_FILE, EXIT_FILE, PID_FILE, LOGS_DIR})
"""Files of a workplace that the executor writes: not counted as the task's artifacts."""


def now_iso() -> str:
    """The current UTC time as an ISO 8601 string."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def hostname() -> str:
    """The name of this machine, as recorded in attempts."""
    return socket.gethostname()


def _temporary_beside(path: Path) -> tuple[int, str]:
    """A new temporary file in ``path``'s folder, made (with its parents) when missing."""
    try:
        return tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        return tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)


def write_json_atomic(path: Path, payload: Any) -> None:
    """Write ``payload`` as JSON to ``path`` through a temporary file and a rename.

    A reader sees either the old file or the new one, never a torn one, whatever happens to
    the writing process. The file is not fsynced: an fsync costs milliseconds per write,
    which would dominate runs of many short tasks, so a power loss may lose the latest
    writes (a later run then reports the damaged file with its path).
    """
    path = Path(path)
    text = json.dumps(payload, indent=2, sort_keys=False, allow_nan=True)
    handle, temporary = _temporary_beside(path)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (temporary file, then rename)."""
    path = Path(path)
    handle, temporary = _temporary_beside(path)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read_json(path: Path, *, what: str = "file") -> Any:
    """Read a JSON file, raising :class:`ContractError` that names the path if it is corrupt."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ContractError(f"the {what} is missing", path=str(path)) from None
    except OSError as error:
        raise ContractError(f"the {what} cannot be read: {error}", path=str(path)) from None
    except UnicodeDecodeError:
        raise ContractError(f"the {what} is not UTF-8 text", path=str(path)) from None

    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ContractError(
            f"the {what} is not valid JSON ({error.msg} at line {error.lineno})", path=str(path)
        ) from None


def read_versioned(path: Path, *, what: str) -> dict[str, Any]:
    """Read a contract JSON object and check its contract version."""
    payload = read_json(path, what=what)
    if not isinstance(payload, dict):
        raise ContractError(f"the {what} is not a JSON object", path=str(path))

    version = payload.get("contract_version")
    if version != CONTRACT_VERSION:
        raise ContractError(
            f"the {what} has contract version {version!r}, expected {CONTRACT_VERSION}",
            path=str(path),
        )
    return payload


class RootLayout:
    """Every path of an experiment root."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).absolute()

    @property
    def data_dir(self) -> Path:
        """The folder holding every shared data bundle."""
        return self.root / DATA_DIR

    @property
    def lock_file(self) -> Path:
        """The lock that one run at a time holds."""
        return self.root / LOCK_FILE

    @property
    def lock_info_file(self) -> Path:
        """Who holds the run lock (pid, host, since when)."""
        return self.root / LOCK_INFO_FILE

    @property
    def search_dir(self) -> Path:
        """Where searches keep their state."""
        return self.root / SEARCH_DIR

    def workplace(self, model: str, name: str) -> Workplace:
        """The workplace of the task keyed ``(model, name)``."""
        return Workplace(self.root / model / name)

    def iter_workplaces(self) -> list[Workplace]:
        """Every workplace under the root that has a meta file, in key order."""
        found: list[Workplace] = []
        if not self.root.is_dir():
            return found
        for model_dir in sorted(self.root.iterdir()):
            if not model_dir.is_dir() or model_dir.name.startswith("__"):
                continue
            for task_dir in sorted(model_dir.iterdir(), key=_natural_key):
                if (task_dir / META_FILE).is_file():
                    found.append(Workplace(task_dir))
        return found


def _natural_key(path: Path) -> tuple[int, int | str]:
    return (0, int(path.name)) if path.name.isdigit() else (1, path.name)


class Workplace:
    """Every file of one task's workplace, ``<root>/<model>/<name>/``."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).absolute()

    def __repr__(self) -> str:
        return f"Workplace({str(self.path)!r})"

    def __fspath__(self) -> str:
        return str(self.path)

    @property
    def root(self) -> Path:
        """The experiment root this workplace belongs to."""
        return self.path.parent.parent

    @property
    def key(self) -> tuple[str, str]:
        """The ``(model, name)`` key of this workplace."""
        return (self.path.parent.name, self.path.name)

    @property
    def meta_file(self) -> Path:
        """The task's inputs, written by the executor before launch."""
        return self.path / META_FILE

    @property
    def outcome_file(self) -> Path:
        """The executor-owned record of the task's state and attempts."""
        return self.path / OUTCOME_FILE

    @property
    def metrics_file(self) -> Path:
        """The metrics the task reported."""
        return self.path / METRICS_FILE

    @property
    def failure_file(self) -> Path:
        """A failure reason the task left for the executor."""
        return self.path / FAILURE_FILE

    @property
    def exit_file(self) -> Path:
        """The exit status written by the launch wrapper when the command ends."""
        return self.path / EXIT_FILE

    @property
    def pid_file(self) -> Path:
        """The process or container of the running attempt."""
        return self.path / PID_FILE

    @property
    def logs_dir(self) -> Path:
        """The folder of the task's stdout and stderr files."""
        return self.path / LOGS_DIR

    @property
    def model_dir(self) -> Path:
        """Where the built-in task saves its trained pipeline."""
        return self.path / MODEL_DIR

    def stdout_file(self, attempt: int) -> Path:
        """The stdout of the given attempt (counted from 1)."""
        return self.logs_dir / f"attempt-{attempt}.stdout"

    def stderr_file(self, attempt: int) -> Path:
        """The stderr of the given attempt (counted from 1)."""
        return self.logs_dir / f"attempt-{attempt}.stderr"

    def read_meta(self) -> dict[str, Any]:
        """The task's meta, checked for its contract version."""
        return read_versioned(self.meta_file, what="meta file")

    def read_outcome(self) -> dict[str, Any] | None:
        """The task's outcome, or None when it has none yet."""
        if not self.outcome_file.exists():
            return None
        return read_versioned(self.outcome_file, what="outcome file")

    def read_metrics(self) -> dict[str, Any]:
        """The last metrics the task reported (empty when it reported none)."""
        if not self.metrics_file.exists():
            return {}
        payload = read_json(self.metrics_file, what="metrics file")
        latest = payload.get("latest") if isinstance(payload, dict) else None
        if not isinstance(latest, dict):
            raise ContractError(
                "the metrics file has no 'latest' object", path=str(self.metrics_file)
            )
        return latest

    def artifacts(self) -> list[str]:
        """The files the task produced, relative to the workplace, sorted."""
        found: list[str] = []
        for path in sorted(self.path.rglob("*")):
            relative = path.relative_to(self.path)
            if relative.parts[0] in OWN_FILES or not path.is_file():
                continue
            if path.name.startswith(".") and path.name.endswith(".tmp"):
                continue
            found.append(relative.as_posix())
        return found
