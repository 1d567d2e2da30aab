"""A task's definition: what it runs, on what data, with what resources.

The spec is what ``__meta__.json`` records, and its fingerprint is what resume compares.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shlex
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .contract import CONTRACT_VERSION, now_iso
from .errors import ConfigError, InvalidInputError, WorkplaceKeyError

BUILTIN_COMMAND = ("python", "-m", "executor.task")
LAUNCHERS = ("process", "docker")


@dataclass
class Resources:
    """What a task asks of the machine."""

    cpus: float | None = None
    gpus: int | str = 0
    memory: str | None = None


@dataclass
class TaskSpec:
    """Everything that defines one task."""

    key: tuple[str, str]
    model: str
    config: dict[str, Any]
    data_folder: str | None
    command: list[str]
    cwd: str
    launcher: str | None = None
    image: str | None = None
    resources: Resources = field(default_factory=Resources)
    timeout: float | None = None
    retries: int | None = None
    env: dict[str, str] = field(default_factory=dict)
    network: str | None = None
    mounts: list[str] = field(default_factory=list)
    added_fingerprint: str = ""
    """The fingerprint as ``add_task`` saw it, before run-level defaults (an image) applied."""

    def fingerprint(self) -> str:
        """A hash of everything that defines the task (not where or when it runs)."""
        defining = {
            "model": self.model,
            "config": self.config,
            "data_folder": self.data_folder,
            "command": self.command,
            "image": self.image,
            "resources": vars(self.resources),
            "env": self.env,
            "mounts": self.mounts,
        }
        text = json.dumps(defining, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    def to_meta(self, devices: Sequence[int] | str = ()) -> dict[str, Any]:
        """The JSON object written to ``__meta__.json``."""
        return {
            "contract_version": CONTRACT_VERSION,
            "key": list(self.key),
            "model": self.model,
            "config": self.config,
            "data_folder": self.data_folder,
            "command": self.command,
            "cwd": self.cwd,
            "launcher": self.launcher,
            "image": self.image,
            "resources": vars(self.resources),
            "timeout": self.timeout,
            "retries": self.retries,
            "env": self.env,
            "network": self.network,
            "mounts": self.mounts,
            "devices": devices if isinstance(devices, str) else list(devices),
            "fingerprint": self.fingerprint(),
            "key_fingerprint": self.added_fingerprint or self.fingerprint(),
            "created_at": now_iso(),
        }


def check_key_part(part: Any, what: str) -> str:
    """Check one part of a workplace key: a non-empty name that stays inside the root."""
    if not isinstance(part, str) or not part.strip():
        raise WorkplaceKeyError(
            f"the {what} of a workplace key must be a non-empty string", value=part
        )
    if part in (".", "..") or "/" in part or "\\" in part or os.sep in part or "\x00" in part:
        raise WorkplaceKeyError(
            f"the {what} of a workplace key must be a plain folder name "
            "(no path separator, no '.' or '..')",
            value=part,
        )
    if part.startswith("__"):
        raise WorkplaceKeyError(
            f"the {what} of a workplace key may not start with '__' (reserved)", value=part
        )
    return part


def check_config(config: Any) -> dict[str, Any]:
    """Check that a config is a JSON object; name the first key that is not JSON."""
    if config is None:
        return {}
    if not isinstance(config, dict):
        raise ConfigError(f"config must be a dict, got {type(config).__name__}", input="config")

    def visit(value: Any, path: str) -> None:
        if value is None or isinstance(value, bool | str | int):
            return
        if isinstance(value, float):
            if not math.isfinite(value):
                raise ConfigError(
                    f"config key {path!r} holds {value}, which JSON cannot hold", key=path
                )
            return
        if isinstance(value, list | tuple):
            for index, item in enumerate(value):
                visit(item, f"{path}[{index}]")
            return
        if isinstance(value, dict):
            for name, item in value.items():
                if not isinstance(name, str):
                    raise ConfigError(
                        f"config key {name!r} under {path!r} is not a string", key=path
                    )
                visit(item, f"{path}.{name}" if path else name)
            return
        raise ConfigError(
            f"config key {path!r} holds a {type(value).__name__}, which is not JSON-serialisable",
            key=path,
        )

    visit(config, "")
    return json.loads(json.dumps(config))


def parse_command(run_command: str | Sequence[str] | None) -> list[str]:
    """The argv of a task: split like a shell would (never run through one)."""
    if run_command is None:
        return list(BUILTIN_COMMAND)
    if isinstance(run_command, str):
        try:
            argv = shlex.split(run_command)
        except ValueError as error:
            raise InvalidInputError(
                f"run_command cannot be split: {error}", input=run_command
            ) from None
    elif isinstance(run_command, Sequence) and all(isinstance(part, str) for part in run_command):
        argv = list(run_command)
    else:
        raise InvalidInputError(
            "run_command must be a string or a list of strings", input=run_command
        )
    if not argv:
        raise InvalidInputError("run_command is empty", input=run_command)
    return argv


def check_script(argv: Sequence[str], cwd: str) -> None:
    """Refuse a ``python script.py`` command whose script does not exist."""
    if Path(argv[0]).name not in ("python", "python3") or len(argv) < 2:
        return
    script = argv[1]
    if script.startswith("-"):
        return
    path = Path(script) if Path(script).is_absolute() else Path(cwd) / script
    if not path.is_file():
        raise InvalidInputError(
            "run_command names a script that does not exist", script=str(path), cwd=cwd
        )


def local_argv(command: Sequence[str]) -> list[str]:
    """The argv for a local process: a leading ``python`` runs under this interpreter."""
    argv = list(command)
    if argv and argv[0] in ("python", "python3"):
        argv[0] = sys.executable
    return argv


def check_positive(name: str, value: float | None, *, allow_zero: bool = False) -> None:
    """Refuse a negative (or zero) number for ``name``."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInputError(f"{name} must be a number, got {value!r}", input=name)
    if value < 0 or (value == 0 and not allow_zero):
        expected = "zero or more" if allow_zero else "more than zero"
        raise InvalidInputError(f"{name} must be {expected}, got {value!r}", input=name)


def check_count(name: str, value: int, *, minimum: int) -> None:
    """Refuse a ``value`` for ``name`` that is not an integer of at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        expected = "0 or more" if minimum == 0 else f"{minimum} or more"
        raise InvalidInputError(f"{name} must be an integer, {expected}", input=value)
