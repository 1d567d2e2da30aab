"""Run a task as a local child process, in a process group of its own."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from ..contract import WORKPLACE_ENV, Workplace, hostname
from ..errors import LaunchError
from .base import ExitStatus, Launcher, LaunchSpec, RunningTask, read_exit_file, wrap_command

logger = logging.getLogger(__name__)

STOP_WAIT_LIMIT = 600.0
"""The longest a dead wrapper waits for a stop in progress to end the task's grace period."""


def _signal_group(pgid: int, signum: int) -> bool:
    try:
        os.killpg(pgid, signum)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def _group_alive(pgid: int) -> bool:
    return _signal_group(pgid, 0)


def stop_group(pgid: int, grace: float) -> None:
    """SIGTERM a process group, wait up to ``grace`` seconds, then SIGKILL what is left."""
    if not _signal_group(pgid, signal.SIGTERM):
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not _group_alive(pgid):
            return
        time.sleep(0.02)
    _signal_group(pgid, signal.SIGKILL)


class ProcessTask(RunningTask):
    """A task running as a child process group."""

    def __init__(self, process: subprocess.Popen[bytes], spec: LaunchSpec) -> None:
        self.process = process
        self.spec = spec
        self.pgid = process.pid

    def wait(self) -> ExitStatus:
        """Wait for the child; then kill what it left in its group (forked children).

        When the exit wrapper died of SIGTERM, a stop is under way (here or from another
        process): the task keeps its grace period to clean up, and the stopper escalates.
        """
        code = self.process.wait()
        if code == -signal.SIGTERM:
            deadline = time.monotonic() + STOP_WAIT_LIMIT
            while _group_alive(self.pgid) and time.monotonic() < deadline:
                time.sleep(0.02)
        _signal_group(self.pgid, signal.SIGKILL)
        return ExitStatus.from_wait_status(code)

    def kill(self, grace: float = 2.0) -> None:
        """Stop the whole process group: SIGTERM, then SIGKILL after ``grace`` seconds."""
        stop_group(self.pgid, grace)

    def identity(self) -> dict[str, Any]:
        """The pid and process group, with the host, for a later run to find them."""
        return {
            "launcher": "process",
            "pid": self.process.pid,
            "pgid": self.pgid,
            "host": hostname(),
        }


class ProcessLauncher(Launcher):
    """Runs each attempt as ``/bin/sh`` wrapping the task's argv, in a new session."""

    name = "process"
    orphan_wait = 5.0

    def start(self, spec: LaunchSpec) -> RunningTask:
        """Start the attempt with its environment; stdout and stderr go to the log files."""
        spec.stdout_path.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **spec.env}
        argv = wrap_command(spec.command)

        with open(spec.stdout_path, "wb") as stdout, open(spec.stderr_path, "wb") as stderr:
            try:
                process = subprocess.Popen(
                    argv,
                    cwd=spec.cwd,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=stdout,
                    stderr=stderr,
                    start_new_session=True,
                )
            except OSError as error:
                raise LaunchError(
                    f"the task could not be started: {error}",
                    workplace=str(spec.workplace.path),
                    command=spec.command,
                ) from None

        logger.debug("started %s as pid %d", spec.workplace.path, process.pid)
        return ProcessTask(process, spec)

    def reap(self, workplace: Workplace, identity: dict[str, Any]) -> ExitStatus | None:
        """Kill every process a dead run left for ``workplace``; then read its exit file.

        Processes are found by the workplace in their environment, so that an attempt
        whose pid was never recorded is found too. They get ``orphan_wait`` seconds to end
        on their own first: a task in its last moments is then judged by its exit file
        rather than killed and run a second time.
        """
        deadline = time.monotonic() + self.orphan_wait
        while find_task_processes(workplace.path) and time.monotonic() < deadline:
            time.sleep(0.05)

        groups = {pgid for pid in find_task_processes(workplace.path) if (pgid := _pgid(pid))}
        for pgid in groups:
            logger.warning("stopping process group %d left by a dead run of %s", pgid, workplace)
            stop_group(pgid, grace=1.0)
        if groups:
            return None

        return read_exit_file(workplace)


def _pgid(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None


def find_task_processes(prefix: Path) -> list[int]:
    """Pids of this user's processes whose ``EXECUTOR_WORKPLACE`` is ``prefix`` or below it."""
    exact = f"{WORKPLACE_ENV}={prefix}".encode()
    below = exact + os.sep.encode()
    found: list[int] = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry.name}/environ", "rb") as stream:
                variables = stream.read().split(b"\0")
        except OSError:
            continue
        if any(item == exact or item.startswith(below) for item in variables):
            found.append(int(entry.name))
    return found
