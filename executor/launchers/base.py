"""What every launcher provides: start one attempt of a task, wait for it, kill it.

The scheduler owns the loop (slots, devices, timeouts, retries, cancellation); a launcher
fills in how one attempt runs, as a local process or as a container.
"""

from __future__ import annotations

import signal as signals
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..contract import Workplace, read_json
from ..errors import ContractError

EXIT_WRAPPER = (
    '"$@"; status=$?; '
    'printf \'{"exit_code": %d}\' "$status" > "$EXECUTOR_WORKPLACE/__exit__.json"; '
    'exit "$status"'
)
"""A POSIX shell wrapper that records the command's exit status in the workplace.

It lets a later run judge a task that ended while the executor was down by what it left.
The status is written with the shell's own ``printf`` (no extra process per task) in one
small write; an exit file that cannot be read is taken as no verdict, and the task reruns.
"""


def read_exit_file(workplace: Workplace) -> ExitStatus | None:
    """The exit status the wrapper recorded, or None when there is none to trust."""
    try:
        payload = read_json(workplace.exit_file, what="exit file")
        return ExitStatus.from_wait_status(int(payload["exit_code"]))
    except (ContractError, KeyError, TypeError, ValueError):
        return None


def wrap_command(command: Sequence[str]) -> list[str]:
    """Wrap ``command`` so that its exit status is written to ``__exit__.json``."""
    return ["/bin/sh", "-c", EXIT_WRAPPER, "executor-task", *command]


@dataclass
class LaunchSpec:
    """Everything a launcher needs to start one attempt of one task."""

    workplace: Workplace
    command: list[str]
    cwd: Path
    env: dict[str, str]
    attempt: int
    devices: list[int] | str = field(default_factory=list)
    cpus: float | None = None
    memory: str | None = None
    image: str | None = None
    network: str | None = None
    mounts: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def stdout_path(self) -> Path:
        """Where this attempt's stdout goes."""
        return self.workplace.stdout_file(self.attempt)

    @property
    def stderr_path(self) -> Path:
        """Where this attempt's stderr goes."""
        return self.workplace.stderr_file(self.attempt)


@dataclass
class ExitStatus:
    """How an attempt ended: an exit code, or the signal that killed it."""

    exit_code: int | None
    signal: int | None = None

    @property
    def succeeded(self) -> bool:
        """True when the command exited with status 0."""
        return self.exit_code == 0 and self.signal is None

    def describe(self) -> str:
        """A short phrase such as ``exit code 3`` or ``signal SIGKILL``."""
        if self.signal is not None:
            try:
                return f"killed by signal {signals.Signals(self.signal).name}"
            except ValueError:
                return f"killed by signal {self.signal}"
        return f"exit code {self.exit_code}"

    @classmethod
    def from_wait_status(cls, code: int) -> ExitStatus:
        """From a ``returncode`` as Popen reports it (negative for a signal)."""
        if code < 0:
            return cls(exit_code=None, signal=-code)
        if code > 128 and code - 128 < 65:
            # The exit wrapper's shell reports a child killed by signal N as 128 + N.
            return cls(exit_code=code, signal=code - 128)
        return cls(exit_code=code)


class RunningTask(ABC):
    """A started attempt, which the scheduler waits for or kills."""

    @abstractmethod
    def wait(self) -> ExitStatus:
        """Block until the attempt ends and return how it ended."""

    @abstractmethod
    def kill(self, grace: float = 2.0) -> None:
        """Stop the attempt and everything it started: a polite signal, then a hard kill."""

    @abstractmethod
    def identity(self) -> dict[str, Any]:
        """What a later run needs to find this attempt again (pid, container id, host)."""


class Launcher(ABC):
    """How a task runs. Subclasses implement ``check``, ``start`` and ``reap``."""

    name: str = "base"

    def check(self, specs: Sequence[LaunchSpec]) -> None:  # noqa: B027 - an optional hook
        """Refuse, before anything starts, tasks this launcher cannot run."""

    @abstractmethod
    def start(self, spec: LaunchSpec) -> RunningTask:
        """Start one attempt; its stdout and stderr go to the spec's log files."""

    @abstractmethod
    def reap(self, workplace: Workplace, identity: dict[str, Any]) -> ExitStatus | None:
        """Stop what a dead run left running for ``workplace``.

        Return the exit status if the attempt is known to have ended on its own.
        """

    def close(self) -> None:  # noqa: B027 - an optional hook
        """Release what the launcher holds (a client connection)."""
