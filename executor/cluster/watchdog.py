"""A small process that stops an attempt when the Ray worker that launched it dies.

A task runs in a session of its own, so when its Ray worker is killed (a forced
cancellation, Ray's memory monitor, a raylet that died) nothing else would stop it. The
worker starts this watchdog beside each attempt and kills it when the attempt ends; if the
worker dies first, the watchdog is re-parented, notices, stops the attempt and removes the
attempt's scratch folder.

Usage: ``python -m executor.cluster.watchdog WORKER_PID LAUNCHER IDENTITY WORKPLACE SCRATCH``
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from typing import Any

POLL_SECONDS = 0.5
STOP_GRACE = 2.0


def start_watchdog(
    launcher: str, identity: dict[str, Any], workplace: str, scratch: str | None
) -> subprocess.Popen[bytes]:
    """Start a watchdog for the attempt launched by this process."""
    argv = [
        sys.executable,
        "-m",
        "executor.cluster.watchdog",
        str(os.getpid()),
        launcher,
        json.dumps(identity),
        workplace,
        scratch or "",
    ]
    return subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def stop_watchdog(watchdog: subprocess.Popen[bytes]) -> None:
    """End a watchdog whose attempt ended normally."""
    watchdog.kill()
    watchdog.wait()


def main(argv: list[str]) -> int:
    """Wait while the worker lives; if it dies first, stop the attempt and clean up."""
    worker, launcher, identity, workplace, scratch = argv
    while os.getppid() == int(worker):
        time.sleep(POLL_SECONDS)

    from .node import stop_attempt

    try:
        stop_attempt(launcher, json.loads(identity), workplace, STOP_GRACE)
    finally:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
