"""The local loop: slots, devices, timeouts, retries and cancellation for many tasks.

Each running attempt has a waiter thread that blocks on its launcher's ``wait`` and posts
the exit status to a queue; the loop launches into free slots, reads the queue, enforces
deadlines and records every outcome as it happens.
"""

from __future__ import annotations

import logging
import queue
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .contract import DEVICES_ENV, WORKPLACE_ENV, Workplace, hostname, now_iso, write_json_atomic
from .errors import ExecutorError
from .launchers.base import ExitStatus, Launcher, LaunchSpec, RunningTask
from .outcome import Attempt, Outcome, TaskState, failure_reason
from .progress import Progress
from .resources import DevicePool, thread_env
from .spec import TaskSpec, local_argv

logger = logging.getLogger(__name__)

CANCEL_REASON = "cancelled by the user (SIGINT or SIGTERM)"


class Cancelled(BaseException):
    """Raised inside the loop when SIGTERM asks the run to stop."""


@dataclass
class Job:
    """One task as the scheduler tracks it."""

    spec: TaskSpec
    outcome: Outcome
    launcher: Launcher
    gpu_count: int
    retries: int
    timeout: float | None
    cpus: int
    not_before: float = 0.0
    handle: RunningTask | None = None
    deadline: float | None = None
    started: float = 0.0
    devices: list[int] = field(default_factory=list)
    timed_out: bool = False
    first_attempt: int = 0

    @property
    def workplace(self) -> Workplace:
        """The job's workplace."""
        return Workplace(self.outcome.workplace)


class Scheduler:
    """Runs jobs on this machine, ``num_jobs`` at a time."""

    def __init__(
        self,
        num_jobs: int,
        gpu_ids: Sequence[int],
        *,
        retry_delay: float = 1.0,
        grace: float = 3.0,
        progress: bool | None = None,
        on_finish: Callable[[Outcome], None] | None = None,
    ) -> None:
        self.num_jobs = num_jobs
        self.devices = DevicePool(gpu_ids)
        self.retry_delay = retry_delay
        self.grace = grace
        self.show_progress = progress
        self.on_finish = on_finish
        self.finished: queue.Queue[tuple[Job, ExitStatus | BaseException]] = queue.Queue()

    def run(self, jobs: Sequence[Job]) -> None:
        """Run every job to a final state; on Ctrl-C or SIGTERM cancel them all and re-raise."""
        pending = list(jobs)
        running: list[Job] = []
        progress = Progress(len(jobs), enabled=self.show_progress)
        previous_handler = _install_sigterm()
        try:
            self._loop(pending, running, progress)
        except (KeyboardInterrupt, Cancelled) as interruption:
            logger.warning("interrupted: cancelling %d running task(s)", len(running))
            self._cancel(pending, running, progress)
            if isinstance(interruption, Cancelled):
                raise SystemExit(128 + signal.SIGTERM) from None
            raise
        finally:
            progress.close()
            _restore_sigterm(previous_handler)

    def _loop(self, pending: list[Job], running: list[Job], progress: Progress) -> None:
        while pending or running:
            self._launch_ready(pending, running, progress)

            try:
                job, result = self.finished.get(timeout=self._wait_time(pending, running))
            except queue.Empty:
                self._enforce_deadlines(running)
                continue

            running.remove(job)
            self.devices.give_back(job.devices)
            self._settle(job, result, pending, progress)
            self._enforce_deadlines(running)

    def _wait_time(self, pending: list[Job], running: list[Job]) -> float:
        now = time.monotonic()
        moments = [job.deadline for job in running if job.deadline is not None]
        moments += [job.not_before for job in pending if job.not_before > now]
        if not moments:
            return 0.5
        return min(0.5, max(0.005, min(moments) - now))

    def _launch_ready(self, pending: list[Job], running: list[Job], progress: Progress) -> None:
        now = time.monotonic()
        for job in list(pending):
            if len(running) >= self.num_jobs:
                return
            if job.not_before > now:
                continue
            devices = self.devices.take(job.gpu_count)
            if devices is None:
                continue
            pending.remove(job)
            job.devices = devices
            self._start(job, running, progress)

    def _start(self, job: Job, running: list[Job], progress: Progress) -> None:
        workplace = job.workplace
        attempt_number = len(job.outcome.attempts) + 1
        for stale in (workplace.exit_file, workplace.failure_file):
            stale.unlink(missing_ok=True)

        spec = self._launch_spec(job, attempt_number)
        if job.devices:  # add_task wrote the meta with no devices: a CPU task's stays true
            write_json_atomic(workplace.meta_file, job.spec.to_meta(devices=job.devices))
        attempt = Attempt(
            number=attempt_number,
            started_at=now_iso(),
            host=hostname(),
            devices=list(job.devices),
            stdout=spec.stdout_path.relative_to(workplace.path).as_posix(),
            stderr=spec.stderr_path.relative_to(workplace.path).as_posix(),
        )
        job.outcome.attempts.append(attempt)
        job.outcome.state = TaskState.RUNNING
        job.outcome.reason = None
        job.handle = None
        job.started = time.monotonic()
        job.timed_out = False
        # Counted as running before it starts, so that an interrupt arriving in between
        # still finds the job (and, through the launcher's reap, whatever it started).
        running.append(job)
        job.outcome.save()

        try:
            handle = job.launcher.start(spec)
        except ExecutorError as error:
            logger.error("%s could not start: %s", workplace.path, error)
            self.finished.put((job, error))
            return

        job.handle = handle
        job.deadline = job.started + job.timeout if job.timeout else None
        write_json_atomic(workplace.pid_file, handle.identity())
        progress.update(running=len(running))
        threading.Thread(target=self._wait_for, args=(job, handle), daemon=True).start()

    def _launch_spec(self, job: Job, attempt: int) -> LaunchSpec:
        workplace = job.workplace
        visible = ",".join(str(device) for device in job.devices)
        env = {
            **job.spec.env,
            **thread_env(job.cpus),
            WORKPLACE_ENV: str(workplace.path),
            DEVICES_ENV: visible,
            "CUDA_VISIBLE_DEVICES": visible,
            "PYTHONUNBUFFERED": "1",
        }
        command = (
            job.spec.command if job.launcher.name == "docker" else local_argv(job.spec.command)
        )
        return LaunchSpec(
            workplace=workplace,
            command=command,
            cwd=Path(job.spec.cwd),
            env=env,
            attempt=attempt,
            devices=list(job.devices),
            cpus=job.spec.resources.cpus,
            memory=job.spec.resources.memory,
            image=job.spec.image,
            network=job.spec.network,
            mounts=list(job.spec.mounts),
            labels={"executor.key": "/".join(job.spec.key)},
        )

    def _wait_for(self, job: Job, handle: RunningTask) -> None:
        try:
            status: ExitStatus | BaseException = handle.wait()
        except BaseException as error:  # the waiter must always report back
            status = error
        self.finished.put((job, status))

    def _enforce_deadlines(self, running: list[Job]) -> None:
        now = time.monotonic()
        for job in running:
            if job.deadline is not None and now >= job.deadline and not job.timed_out:
                job.timed_out = True
                logger.warning(
                    "%s passed its timeout of %ss: killing it", job.workplace.path, job.timeout
                )
                handle = job.handle
                if handle is not None:
                    threading.Thread(target=handle.kill, args=(self.grace,), daemon=True).start()

    def _settle(
        self, job: Job, result: ExitStatus | BaseException, pending: list[Job], progress: Progress
    ) -> None:
        workplace = job.workplace
        attempt = job.outcome.attempts[-1]
        attempt.ended_at = now_iso()
        attempt.duration = round(time.monotonic() - job.started, 4) if job.started else 0.0
        workplace.pid_file.unlink(missing_ok=True)

        reason: str | None
        if isinstance(result, BaseException):
            state, reason = TaskState.FAILED, f"could not start: {result}"
        else:
            attempt.exit_code, attempt.signal = result.exit_code, result.signal
            state, reason = self._judge(job, result, attempt)
        attempt.state, attempt.reason = state.value, reason

        attempts_left = job.retries + 1 - (len(job.outcome.attempts) - job.first_attempt)
        if state is not TaskState.SUCCEEDED and attempts_left > 0:
            logger.warning(
                "%s %s (%s); retrying, %d attempt(s) left",
                workplace.path,
                state.value,
                reason,
                attempts_left,
            )
            job.outcome.state, job.outcome.reason = TaskState.PENDING, reason
            job.outcome.save()
            job.not_before = time.monotonic() + self.retry_delay
            job.started = 0.0
            pending.insert(0, job)
            return

        self._finish(job, state, reason, progress)

    def _judge(
        self, job: Job, status: ExitStatus, attempt: Attempt
    ) -> tuple[TaskState, str | None]:
        workplace = job.workplace
        stderr = str(workplace.path / attempt.stderr) if attempt.stderr else ""
        if job.timed_out:
            text = f"timed out after {job.timeout}s and was killed"
            return TaskState.TIMED_OUT, failure_reason(workplace, text, stderr)
        if status.succeeded:
            return TaskState.SUCCEEDED, None
        text = status.describe()
        if getattr(job.handle, "oom_killed", False):
            text += " (out of memory: the container passed its memory limit)"
        return TaskState.FAILED, failure_reason(workplace, text, stderr)

    def _finish(self, job: Job, state: TaskState, reason: str | None, progress: Progress) -> None:
        job.outcome.state, job.outcome.reason = state, reason
        job.outcome.artifacts = job.workplace.artifacts()
        job.outcome.save()
        progress.advance(succeeded=state is TaskState.SUCCEEDED)
        if state is TaskState.SUCCEEDED:
            logger.info("%s succeeded", job.workplace.path)
        else:
            logger.warning("%s %s: %s", job.workplace.path, state.value, reason)
        if self.on_finish is not None:
            self.on_finish(job.outcome)

    def _cancel(self, pending: list[Job], running: list[Job], progress: Progress) -> None:
        for job in running:
            if job.handle is not None:
                threading.Thread(target=job.handle.kill, args=(self.grace,), daemon=True).start()

        deadline = time.monotonic() + self.grace + 5.0
        while running and time.monotonic() < deadline:
            try:
                job, result = self.finished.get(timeout=0.1)
            except queue.Empty:
                continue
            except KeyboardInterrupt:
                logger.warning("second interrupt: killing every task at once")
                for other in running:
                    if other.handle is not None:
                        other.handle.kill(0.0)
                continue
            if job in running:
                running.remove(job)
                self._close_attempt(job, result)
                self._finish(job, TaskState.CANCELLED, CANCEL_REASON, progress)

        for job in running:
            if job.handle is not None:
                job.handle.kill(0.0)
            else:
                job.launcher.reap(job.workplace, {})
            self._close_attempt(job, None)
            self._finish(job, TaskState.CANCELLED, CANCEL_REASON, progress)
        for job in pending:
            self._finish(job, TaskState.CANCELLED, CANCEL_REASON, progress)

    def _close_attempt(self, job: Job, result: ExitStatus | BaseException | None) -> None:
        attempt = job.outcome.attempts[-1]
        attempt.ended_at = now_iso()
        attempt.duration = round(time.monotonic() - job.started, 4) if job.started else 0.0
        attempt.state = TaskState.CANCELLED.value
        if isinstance(result, ExitStatus):
            attempt.exit_code, attempt.signal = result.exit_code, result.signal
        job.workplace.pid_file.unlink(missing_ok=True)


def _raise_cancelled(signum: int, frame: Any) -> None:
    raise Cancelled()


def _install_sigterm() -> Any:
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, _raise_cancelled)


def _restore_sigterm(previous: Any) -> None:
    if previous is not None:
        signal.signal(signal.SIGTERM, previous)
