"""A run of many short tasks, driven from a separate process so a test can kill or interrupt it.

usage: driver.py ROOT NUM_TASKS SLEEP [--image IMAGE] [--jobs N]

Each task sleeps, writes an artifact, then appends one line to ``count`` in its workplace
(which survives its attempts) as its last act, so the test can count how often it succeeded.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import textwrap
from pathlib import Path

import executor

TASK = textwrap.dedent(
    """
    import os, time
    from executor import get_info
    info = get_info(requires_data=False)
    time.sleep(float(info.kwargs["sleep"]))
    with open(os.path.join(info.workplace, "artifact.txt"), "w") as f:
        f.write("done")
    fd = os.open(os.path.join(info.workplace, "count"), os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    os.write(fd, b"1\\n")
    os.close(fd)
    """
)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("root")
    parser.add_argument("num_tasks", type=int)
    parser.add_argument("sleep", type=float)
    parser.add_argument("--image")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    # Behave like a program started from a terminal even when the test runner ignores SIGINT.
    signal.signal(signal.SIGINT, signal.default_int_handler)

    if not Path("task.py").exists():
        # Written once: rewriting it would let a task of a killed run read a torn script.
        Path("task.py").write_text(TASK)
    experiment = executor.Experiment(args.root)
    for index in range(args.num_tasks):
        experiment.add_task(
            model="short",
            config={"sleep": args.sleep, "index": index},
            run_command="python task.py",
            image=args.image,
        )
    print("tasks added", flush=True)
    results = experiment.run_tasks(num_jobs=args.jobs, grace=1.0, progress=False)
    print(results.summary(), flush=True)
    return 0 if results.succeeded else 1


if __name__ == "__main__":
    sys.exit(main())
