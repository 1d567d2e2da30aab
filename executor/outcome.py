"""The outcome of a task: its state, every attempt, and the reason it failed.

The outcome file (``__outcome__.json``) belongs to the executor; the task never writes it.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from typing import Any

from .contract import CONTRACT_VERSION, Workplace, now_iso, write_json_atomic

STDERR_TAIL_LINES = 20
STDERR_TAIL_BYTES = 4000


class TaskState(enum.StrEnum):
    """Where a task stands."""

    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    CANCELLED = "cancelled"

    def is_finished(self) -> bool:
        """True for the states a task ends in."""
        return self not in (TaskState.PENDING, TaskState.RUNNING)


@dataclass
class Attempt:
    """One try at running a task."""

    number: int
    started_at: str
    host: str
    ended_at: str | None = None
    duration: float | None = None
    exit_code: int | None = None
    signal: int | None = None
    state: str = TaskState.RUNNING.value
    reason: str | None = None
    stdout: str | None = None
    stderr: str | None = None
    devices: list[int] | str = field(default_factory=list)


@dataclass
class Outcome:
    """What became of one task, as recorded in its outcome file."""

    key: tuple[str, str]
    workplace: str
    state: TaskState
    fingerprint: str
    attempts: list[Attempt] = field(default_factory=list)
    reason: str | None = None
    artifacts: list[str] = field(default_factory=list)
    resumed: bool = False
    updated_at: str = field(default_factory=now_iso)

    @property
    def exit_code(self) -> int | None:
        """The exit code of the last attempt."""
        return self.attempts[-1].exit_code if self.attempts else None

    @property
    def duration(self) -> float | None:
        """The duration in seconds of the last attempt."""
        return self.attempts[-1].duration if self.attempts else None

    @property
    def succeeded(self) -> bool:
        """True when the task succeeded."""
        return self.state is TaskState.SUCCEEDED

    def describe(self) -> str:
        """One line: key, state, attempts and reason."""
        key = "/".join(self.key)
        text = f"{key}: {self.state.value} after {len(self.attempts)} attempt(s)"
        return f"{text}: {self.reason}" if self.reason else text

    def to_json(self) -> dict[str, Any]:
        """The outcome as the JSON object of the outcome file."""
        return {
            "contract_version": CONTRACT_VERSION,
            "key": list(self.key),
            "state": self.state.value,
            "fingerprint": self.fingerprint,
            "reason": self.reason,
            "attempts": [asdict(attempt) for attempt in self.attempts],
            "artifacts": self.artifacts,
            "updated_at": self.updated_at,
        }

    @classmethod
    def from_json(cls, workplace: Workplace, payload: dict[str, Any]) -> Outcome:
        """Rebuild an outcome from its file's JSON object."""
        return cls(
            key=(str(payload["key"][0]), str(payload["key"][1])),
            workplace=str(workplace.path),
            state=TaskState(payload["state"]),
            fingerprint=str(payload.get("fingerprint", "")),
            reason=payload.get("reason"),
            attempts=[Attempt(**attempt) for attempt in payload.get("attempts", [])],
            artifacts=list(payload.get("artifacts", [])),
            updated_at=str(payload.get("updated_at", "")),
        )

    def save(self) -> None:
        """Write the outcome file atomically."""
        self.updated_at = now_iso()
        write_json_atomic(Workplace(self.workplace).outcome_file, self.to_json())


def load_outcome(workplace: Workplace) -> Outcome | None:
    """The recorded outcome of a workplace, or None; a corrupt file raises ContractError."""
    payload = workplace.read_outcome()
    return None if payload is None else Outcome.from_json(workplace, payload)


def tail(path: str, *, lines: int = STDERR_TAIL_LINES, limit: int = STDERR_TAIL_BYTES) -> str:
    """The last lines of a text file (empty when it is missing)."""
    try:
        with open(path, "rb") as stream:
            stream.seek(0, 2)
            size = stream.tell()
            stream.seek(max(0, size - limit))
            data = stream.read()
    except OSError:
        return ""
    text = data.decode("utf-8", errors="replace")
    return "\n".join(text.strip().splitlines()[-lines:])


def failure_reason(workplace: Workplace, status_text: str, stderr_path: str) -> str:
    """The reason a task failed: its own failure file if it left one, else the stderr tail."""
    if workplace.failure_file.is_file():
        own = workplace.failure_file.read_text(encoding="utf-8", errors="replace").strip()
        if own:
            return f"{status_text}: {own}"

    stderr_tail = tail(stderr_path)
    if stderr_tail:
        return f"{status_text}; stderr tail:\n{stderr_tail}"
    return f"{status_text}; stderr was empty"
