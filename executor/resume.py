"""Deciding, before a run, what each task's last recorded outcome means.

A task that succeeded with the same fingerprint is skipped. A task recorded ``running``
belongs to a run that died (the caller holds the root lock): what that run left running is
stopped, and the task is judged by what it left, its exit file, never blindly trusted.
"""

from __future__ import annotations

import logging

from .contract import Workplace, hostname, now_iso, read_json
from .errors import ContractError
from .launchers.base import Launcher
from .outcome import Attempt, Outcome, TaskState, load_outcome
from .spec import TaskSpec

logger = logging.getLogger(__name__)


def fresh_outcome(spec: TaskSpec, workplace: Workplace) -> Outcome:
    """A pending outcome with no attempts."""
    return Outcome(
        key=spec.key,
        workplace=str(workplace.path),
        state=TaskState.PENDING,
        fingerprint=spec.fingerprint(),
    )


def recover(workplace: Workplace, outcome: Outcome, launcher: Launcher) -> Outcome:
    """Close the attempt a dead run left ``running``, judging it by what it left."""
    identity = {}
    if workplace.pid_file.is_file():
        try:
            identity = read_json(workplace.pid_file, what="pid file")
        except ContractError as error:
            logger.warning("ignoring an unreadable pid file: %s", error)

    status = launcher.reap(workplace, identity if isinstance(identity, dict) else {})
    workplace.pid_file.unlink(missing_ok=True)

    if not outcome.attempts:
        outcome.attempts.append(Attempt(number=1, started_at=now_iso(), host=hostname()))
    attempt = outcome.attempts[-1]
    attempt.ended_at = attempt.ended_at or now_iso()

    if status is not None and status.succeeded:
        attempt.exit_code, attempt.state = 0, TaskState.SUCCEEDED.value
        attempt.reason = "finished while the executor was down; judged by its exit file"
        outcome.state, outcome.reason = TaskState.SUCCEEDED, None
        outcome.artifacts = workplace.artifacts()
        logger.info("%s had finished before its run died; kept as succeeded", workplace.path)
    else:
        attempt.state = TaskState.CANCELLED.value
        if status is not None:
            attempt.exit_code, attempt.signal = status.exit_code, status.signal
        attempt.reason = "its run died before the attempt was recorded as ended"
        outcome.state, outcome.reason = TaskState.PENDING, attempt.reason
        logger.warning("%s was left running by a dead run; it will run again", workplace.path)

    outcome.save()
    return outcome


def previous_outcome(
    spec: TaskSpec, workplace: Workplace, launcher: Launcher, *, force: bool
) -> tuple[Outcome, bool]:
    """The outcome a run starts from, and whether the task can be skipped."""
    recorded = load_outcome(workplace)
    if recorded is None:
        return fresh_outcome(spec, workplace), False

    if recorded.state is TaskState.RUNNING:
        recorded = recover(workplace, recorded, launcher)

    if recorded.fingerprint != spec.fingerprint():
        logger.info("%s changed since its last run; it runs again", workplace.path)
        return fresh_outcome(spec, workplace), False
    if recorded.state is TaskState.SUCCEEDED and not force:
        recorded.resumed = True
        return recorded, True
    return recorded, False
