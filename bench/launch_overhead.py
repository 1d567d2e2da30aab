"""Launch overhead: no-op tasks through the executor against the same processes spawned directly.

The limit is ``subprocess.Popen`` keeping ``slots`` children alive at a time and starting the
next one as soon as any ends. Rounds are interleaved (limit, wrapper, executor, limit, ...)
and the medians compared, so that drift on a shared machine hits every way alike.

    python bench/launch_overhead.py [--tasks 200] [--slots 2] [--rounds 3] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import _report

SECTION = "Launch overhead"
GOAL = 1.10
NOOP = [sys.executable, "-c", "pass"]


def spawn_directly(
    commands: Sequence[Sequence[str]], slots: int, envs: Sequence[dict[str, str]] | None = None
) -> float:
    """Run ``commands`` with at most ``slots`` alive at a time; return the wall time."""
    waiting = [
        (list(command), None if envs is None else envs[index])
        for index, command in enumerate(commands)
    ]
    running: dict[int, subprocess.Popen[bytes]] = {}
    with _report.Stopwatch() as watch:
        while waiting or running:
            while waiting and len(running) < slots:
                command, env = waiting.pop(0)
                process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL)
                running[process.pid] = process
            pid, status = os.wait()
            finished = running.pop(pid, None)
            if finished is not None:
                finished.returncode = os.waitstatus_to_exitcode(status)
                if finished.returncode != 0:
                    raise RuntimeError(f"a direct no-op exited with {finished.returncode}")
    return watch.seconds


def wrapped_commands(count: int, scratch: Path) -> tuple[list[list[str]], list[dict[str, str]]]:
    """The no-op inside the executor's exit wrapper, as the process launcher starts it."""
    from executor.launchers.base import wrap_command

    commands, envs = [], []
    for index in range(count):
        folder = scratch / str(index)
        folder.mkdir(parents=True, exist_ok=True)
        commands.append(wrap_command(NOOP))
        envs.append({**os.environ, "EXECUTOR_WORKPLACE": str(folder)})
    return commands, envs


def run_executor(count: int, slots: int, root: Path) -> dict[str, float]:
    """Add ``count`` no-op tasks to a fresh root and run them; return add, run and total times."""
    from executor import Experiment

    with _report.Stopwatch() as total:
        experiment = Experiment(root)
        with _report.Stopwatch() as adding:
            for _ in range(count):
                experiment.add_task(model="noop", run_command="python -c pass")
        with _report.Stopwatch() as running:
            results = experiment.run_tasks(num_jobs=slots, progress=False)
    results.raise_for_failures()
    return {"add": adding.seconds, "run": running.seconds, "total": total.seconds}


def profile_executor(count: int, slots: int, scratch: Path, top: int = 18) -> str:
    """A cProfile of one executor round (main thread), sorted by cumulative time."""
    profiler = cProfile.Profile()
    profiler.enable()
    run_executor(count, slots, scratch / "profiled")
    profiler.disable()
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream)
    stats.strip_dirs().sort_stats("tottime").print_stats(top)
    return stream.getvalue()


def count_writes(root: Path) -> dict[str, float]:
    """Files left per task in a run root (each written at least once by the executor)."""
    tasks = [path for path in (root / "noop").iterdir() if path.is_dir()]
    files = sum(1 for task in tasks for path in task.rglob("*") if path.is_file())
    return {"tasks": len(tasks), "files_per_task": files / max(1, len(tasks))}


def measure(count: int, slots: int, rounds: int) -> dict[str, Any]:
    """Interleaved rounds of the three ways; return every time and the medians."""
    times: dict[str, list[float]] = {"direct": [], "wrapped": [], "executor": [], "run": []}
    scratch = Path(tempfile.mkdtemp(prefix="bench-launch-"))
    try:
        direct = [NOOP] * count
        wrapped, wrapped_envs = wrapped_commands(count, scratch / "wrapped")
        files: dict[str, float] = {}
        for round_number in range(rounds):
            times["direct"].append(spawn_directly(direct, slots))
            times["wrapped"].append(spawn_directly(wrapped, slots, wrapped_envs))
            root = scratch / f"root-{round_number}"
            executor_times = run_executor(count, slots, root)
            times["executor"].append(executor_times["total"])
            times["run"].append(executor_times["run"])
            files = count_writes(root)
            shutil.rmtree(root, ignore_errors=True)
            print(
                f"round {round_number + 1}/{rounds}: direct {times['direct'][-1]:.2f}s, "
                f"wrapped {times['wrapped'][-1]:.2f}s, executor {executor_times['total']:.2f}s "
                f"(add {executor_times['add']:.2f}s, run {executor_times['run']:.2f}s)",
                flush=True,
            )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    medians = {name: _report.median(values) for name, values in times.items()}
    return {"times": times, "medians": medians, "files": files}


def table_rows(result: dict[str, Any], count: int) -> list[list[Any]]:
    """Rows: way, median seconds, milliseconds per task, ratio to the direct spawn."""
    medians = result["medians"]
    limit = medians["direct"]
    labels = {
        "direct": "direct Popen, 2 at a time (the limit)",
        "wrapped": "direct Popen of the executor's exit wrapper (sh + mv)",
        "executor": "executor: Experiment + add_task + run_tasks",
        "run": "executor: run_tasks alone",
    }
    return [
        [label, medians[name], 1000 * medians[name] / count, medians[name] / limit]
        for name, label in labels.items()
    ]


def write_report(
    result: dict[str, Any], rows: list[list[Any]], args: argparse.Namespace, profile: str
) -> None:
    """Write the section: the table, the goal's verdict and what limits it."""
    ratio = result["medians"]["executor"] / result["medians"]["direct"]
    wrapper_share = result["medians"]["wrapped"] / result["medians"]["direct"]
    verdict = "meets" if ratio <= GOAL else "misses"
    lines = [
        _report.describe_run(),
        "",
        f"{args.tasks} no-op tasks (`python -c pass`) with {args.slots} slots, "
        f"{args.rounds} interleaved rounds, medians. Each executor round uses a fresh root.",
        "",
        _report.format_table(["way", "median s", "ms per task", "ratio to direct"], rows),
        "",
        f"Executor / direct: **{ratio:.2f}** (goal <= {GOAL:.2f}): it {verdict} the goal.",
        f"The exit wrapper alone (a `/bin/sh` that runs the command, then writes "
        f"`__exit__.json` with `printf` and `mv`) costs {wrapper_share:.2f}x the direct spawn.",
        f"Each task leaves {result['files'].get('files_per_task', 0):.0f} files in its workplace "
        "(meta, outcome, exit file, two log files).",
    ]
    if ratio > GOAL:
        lines += ["", *_limits_paragraph(result)]
    if profile:
        lines += ["", "Where the executor's main thread spends its time (cProfile, by own time):"]
        lines += ["", "```", profile.strip(), "```"]
    _report.write_section(SECTION, "\n".join(lines))


def _limits_paragraph(result: dict[str, Any]) -> list[str]:
    del result
    return [
        "What limits it: every attempt is launched through the exit wrapper, which adds a "
        "shell and an `mv` process to each task; and the scheduler's main thread, which "
        "shares the two cores with the two running children, writes the meta, the outcome "
        "(twice) and the pid file per attempt and walks the workplace for artifacts. On a "
        "2-core machine this bookkeeping competes directly with the tasks it launches.",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """Measure, print the table and write the section."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--slots", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="60 tasks, 2 rounds")
    parser.add_argument("--profile", action="store_true", help="add a cProfile of one round")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    if args.quick:
        args.tasks, args.rounds = 60, 2

    result = measure(args.tasks, args.slots, args.rounds)
    rows = table_rows(result, args.tasks)
    _report.print_table(["way", "median s", "ms per task", "ratio to direct"], rows, title=SECTION)

    profile = ""
    if args.profile:
        scratch = Path(tempfile.mkdtemp(prefix="bench-launch-profile-"))
        try:
            profile = profile_executor(args.tasks, args.slots, scratch)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        print(profile)
    if not args.no_write:
        write_report(result, rows, args, profile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
