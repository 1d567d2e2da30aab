"""A small process that stops an attempt when the Ray worker that launched it dies.

A task runs in a session of its own, so when its Ray worker is killed (a forced
cancellation, Ray's memory monitor, a raylet that died) nothing else would stop it. Each
Ray worker starts one watchdog, on its first attempt, and keeps it for every later one
(Ray reuses its workers): before an attempt it writes what to watch down a pipe, and after
it writes that the attempt is done. The watchdog blocks reading that pipe; when the
worker dies the pipe closes, and if an attempt was being watched the watchdog stops it and
removes its scratch folder. Waiting costs nothing, and no process is started per attempt.

Usage (by the worker only): ``python -m executor.cluster.watchdog``, messages on stdin.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
import threading
from typing import Any

logger = logging.getLogger(__name__)

STOP_GRACE = 2.0

_watchdog: list[subprocess.Popen[bytes]] = []
_lock = threading.Lock()


def _send(message: dict[str, Any]) -> None:
    """Write one message to this worker's watchdog, starting it (again) when needed."""
    line = (json.dumps(message) + "\n").encode()
    with _lock:
        for _ in range(2):
            if not _watchdog or _watchdog[0].poll() is not None:
                _watchdog[:] = [_start()]
            stream = _watchdog[0].stdin
            assert stream is not None
            try:
                stream.write(line)
                stream.flush()
                return
            except OSError:
                _watchdog.clear()
        logger.warning("the watchdog of this worker cannot be reached")


def _start() -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "executor.cluster.watchdog"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def watch(launcher: str, identity: dict[str, Any], workplace: str, scratch: str | None) -> None:
    """Have the watchdog stop this attempt if the worker dies before calling ``unwatch``."""
    _send(
        {
            "watch": {
                "launcher": launcher,
                "identity": identity,
                "workplace": workplace,
                "scratch": scratch,
            }
        }
    )


def unwatch() -> None:
    """The attempt ended normally: nothing is left to stop."""
    _send({"watch": None})


def main() -> int:
    """Follow the worker's messages until the pipe closes; then stop what is watched."""
    watched: dict[str, Any] | None = None
    while True:
        line = sys.stdin.buffer.readline()
        if not line:
            break
        try:
            watched = json.loads(line)["watch"]
        except (ValueError, KeyError, TypeError):
            continue

    if watched is None:
        return 0
    from .node import stop_attempt

    try:
        stop_attempt(watched["launcher"], watched["identity"], watched["workplace"], STOP_GRACE)
    finally:
        if watched.get("scratch"):
            shutil.rmtree(watched["scratch"], ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
