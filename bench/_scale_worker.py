"""The measured half of the scale part, run in a fresh interpreter by ``scale.py``.

It adds the tasks, runs them and prints one JSON line of figures, so that the peak resident
memory it reports is that of the executor alone.

    python bench/_scale_worker.py ROOT --tasks 10000 --run 10000 --slots 2
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def memory_mb(field: str) -> float:
    """A memory figure of this process from ``/proc/self/status`` (VmRSS, VmHWM), in MB."""
    with open("/proc/self/status", encoding="ascii") as stream:
        for line in stream:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not found in /proc/self/status")


def worker(root: Path, tasks: int, run: int, slots: int) -> dict[str, Any]:
    """In a fresh interpreter: add ``tasks`` no-op tasks, run ``run`` of them; measure."""
    from executor import Experiment

    figures: dict[str, Any] = {"rss_after_import_mb": memory_mb("VmRSS")}
    experiment = Experiment(root)
    started = time.perf_counter()
    for _ in range(tasks):
        experiment.add_task(model="noop", run_command=["true"])
    figures["add_s"] = time.perf_counter() - started
    figures["rss_after_add_mb"] = memory_mb("VmRSS")

    if run < tasks:
        started = time.perf_counter()
        figures["carried_over"] = carry_over(experiment, run)
        figures["carry_s"] = time.perf_counter() - started

    started = time.perf_counter()
    results = experiment.run_tasks(num_jobs=slots, progress=False)
    figures["run_s"] = time.perf_counter() - started
    figures["outcomes"] = len(results.outcomes)
    figures["ran"] = sum(1 for outcome in results.outcomes if not outcome.resumed)
    figures["succeeded"] = sum(1 for outcome in results.outcomes if outcome.succeeded)
    figures["peak_rss_mb"] = memory_mb("VmHWM")
    return figures


def carry_over(experiment: Any, run: int) -> int:
    """Record every task after the first ``run`` as succeeded in an earlier run.

    ``run_tasks`` then reads all their outcome files and skips them, as when resuming a
    large experiment, so the run still handles every task while launching only ``run``.
    """
    from executor.contract import hostname, now_iso
    from executor.outcome import Attempt, Outcome, TaskState

    carried = experiment.tasks[run:]
    for spec in carried:
        workplace = experiment.layout.workplace(*spec.key)
        attempt = Attempt(number=1, started_at=now_iso(), host=hostname(), exit_code=0)
        attempt.state, attempt.ended_at, attempt.duration = "succeeded", now_iso(), 0.0
        Outcome(
            key=spec.key,
            workplace=str(workplace.path),
            state=TaskState.SUCCEEDED,
            fingerprint=spec.fingerprint(),
            attempts=[attempt],
        ).save()
    return len(carried)


def main(argv: Sequence[str] | None = None) -> int:
    """Measure one run and print its figures as a JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--tasks", type=int, required=True)
    parser.add_argument("--run", type=int, required=True)
    parser.add_argument("--slots", type=int, default=2)
    args = parser.parse_args(argv)

    print(json.dumps(worker(args.root, args.tasks, args.run, args.slots)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
