"""Launch overhead: no-op tasks through the executor against the same processes spawned directly.

The limit is ``subprocess.Popen`` keeping ``slots`` children alive at a time and starting the
next one as soon as any ends. Rounds are interleaved (limit, wrapper, executor, limit, ...)
and the medians compared, so that drift on a shared machine hits every way alike.

    python bench/launch_overhead.py [--tasks 200] [--slots 2] [--rounds 3] [--no-profile]
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
) -> _report.Stopwatch:
    """Run ``commands`` with at most ``slots`` alive at a time; return wall and CPU time.

    Each child starts a session of its own, as the process launcher does, so that both
    ways place their children alike for the kernel's scheduler.
    """
    waiting = [
        (list(command), None if envs is None else envs[index])
        for index, command in enumerate(commands)
    ]
    running: dict[int, subprocess.Popen[bytes]] = {}
    with _report.Stopwatch() as watch:
        while waiting or running:
            while waiting and len(running) < slots:
                command, env = waiting.pop(0)
                process = subprocess.Popen(
                    command, env=env, stdin=subprocess.DEVNULL, start_new_session=True
                )
                running[process.pid] = process
            pid, status = os.wait()
            finished = running.pop(pid, None)
            if finished is not None:
                finished.returncode = os.waitstatus_to_exitcode(status)
                if finished.returncode != 0:
                    raise RuntimeError(f"a direct no-op exited with {finished.returncode}")
    return watch


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


def run_executor(count: int, slots: int, root: Path) -> dict[str, _report.Stopwatch]:
    """Add ``count`` no-op tasks to a fresh root and run them; time the whole and the run."""
    from executor import Experiment

    with _report.Stopwatch() as total:
        experiment = Experiment(root)
        for _ in range(count):
            experiment.add_task(model="noop", run_command="python -c pass")
        with _report.Stopwatch() as running:
            results = experiment.run_tasks(num_jobs=slots, progress=False)
    results.raise_for_failures()
    return {"executor": total, "run": running}


COUNTED_CALLS = {
    "write_json_atomic": "atomic JSON writes",
    "<built-in method posix.replace>": "renames",
    "<built-in method posix.unlink>": "unlinks",
    "<built-in method posix.mkdir>": "mkdirs",
    "<built-in method _posixsubprocess.fork_exec>": "forks",
    "<built-in method _thread.start_new_thread>": "threads started",
    "artifacts": "workplace walks for artifacts",
}


def profile_executor(count: int, slots: int, scratch: Path, top: int = 12) -> dict[str, Any]:
    """A cProfile of one executor round: the top functions by own time, and calls per task."""
    profiler = cProfile.Profile()
    profiler.enable()
    run_executor(count, slots, scratch / "profiled")
    profiler.disable()

    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream)
    stats.strip_dirs().sort_stats("tottime").print_stats(top)
    listing = stream.getvalue()
    listing = listing[listing.index("ncalls") :] if "ncalls" in listing else listing

    per_task: dict[str, float] = {}
    for (_, _, function), entry in stats.stats.items():  # type: ignore[attr-defined]
        label = COUNTED_CALLS.get(function)
        if label is not None:
            per_task[label] = per_task.get(label, 0.0) + entry[1] / count
    return {"listing": listing.rstrip(), "per_task": per_task}


def measure(count: int, slots: int, rounds: int) -> dict[str, Any]:
    """Rounds of the three ways, in alternating order; return every time and the medians."""
    walls: dict[str, list[float]] = {name: [] for name in LABELS}
    cpus: dict[str, list[float]] = {name: [] for name in LABELS}
    others: list[float] = []
    scratch = Path(tempfile.mkdtemp(prefix="bench-launch-"))
    try:
        direct = [NOOP] * count
        wrapped, wrapped_envs = wrapped_commands(count, scratch / "wrapped")
        ways = {
            "direct": lambda root: {"direct": spawn_directly(direct, slots)},
            "wrapped": lambda root: {"wrapped": spawn_directly(wrapped, slots, wrapped_envs)},
            "executor": lambda root: run_executor(count, slots, root),
        }
        for round_number in range(rounds):
            order = list(ways) if round_number % 2 == 0 else list(reversed(ways))
            for name in order:
                root = scratch / f"root-{round_number}"
                for key, watch in ways[name](root).items():
                    walls[key].append(watch.seconds)
                    cpus[key].append(watch.cpu)
                    others.append(watch.others_cores)
                shutil.rmtree(root, ignore_errors=True)
            print(
                f"round {round_number + 1}/{rounds}: "
                + ", ".join(f"{name} {walls[name][-1]:.2f}s" for name in LABELS),
                flush=True,
            )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return {
        "walls": walls,
        "wall": {name: _report.median(values) for name, values in walls.items()},
        "cpu": {name: _report.median(values) for name, values in cpus.items()},
        "others": _report.median(others),
    }


LABELS = {
    "direct": "direct Popen, 2 at a time (the limit)",
    "wrapped": "direct Popen of the executor's exit wrapper (sh)",
    "executor": "executor: Experiment + add_task + run_tasks",
    "run": "executor: run_tasks alone",
}
HEADERS = ["way", "median wall s", "wall ratio", "median CPU s", "CPU ratio"]


def table_rows(result: dict[str, Any]) -> list[list[Any]]:
    """Rows: way, median wall, its ratio to the direct spawn, median CPU time, its ratio."""
    wall, cpu = result["wall"], result["cpu"]
    return [
        [label, wall[name], wall[name] / wall["direct"], cpu[name], cpu[name] / cpu["direct"]]
        for name, label in LABELS.items()
    ]


def write_report(result: dict[str, Any], args: argparse.Namespace, profile: dict[str, Any]) -> None:
    """Write the section: the table, the goal's verdict and what limits it."""
    ratio = result["wall"]["executor"] / result["wall"]["direct"]
    cpu_ratio = result["cpu"]["executor"] / result["cpu"]["direct"]
    verdict = "meets" if ratio <= GOAL else "misses"
    rounds = ", ".join(
        f"{name} " + " / ".join(f"{value:.1f}" for value in values)
        for name, values in result["walls"].items()
    )
    lines = [
        _report.describe_run(),
        "",
        f"{args.tasks} no-op tasks (`python -c pass`) with {args.slots} slots, {args.rounds} "
        "rounds in alternating order, medians; each executor round uses a fresh root. CPU "
        "time is user + system time of the benchmark process and of the children it waited "
        "for: it counts the work done, and drifts much less than wall time when other jobs "
        "share the machine. The direct spawns start each child in a session of its own, as "
        "the process launcher does.",
        "",
        _report.format_table(HEADERS, table_rows(result)),
        "",
        f"Wall time of every round (s): {rounds}. Other programs kept "
        f"{result['others']:.2f} cores busy meanwhile (median over the runs; the machine's "
        "busy time from `/proc/stat` less this benchmark's own CPU time).",
        "",
        f"Executor / direct, wall time: **{ratio:.2f}** (goal <= {GOAL:.2f}): it {verdict} the "
        f"goal. In CPU time: {cpu_ratio:.2f}.",
    ]
    if ratio < 1.0:
        lines += [
            "",
            "A ratio below 1 does not mean the executor spawns faster than the limit: it "
            "runs the same processes plus its own bookkeeping, so such a ratio is the noise "
            "of a busy machine (see the load average and the rounds), and the CPU ratio is "
            "the steadier figure.",
        ]
    if profile:
        counts = ", ".join(f"{value:.1f} {label}" for label, value in profile["per_task"].items())
        lines += [
            "",
            f"Per task, the executor's process made: {counts}. Its main thread's time by "
            "function (cProfile of one more round, top entries by own time; the lock "
            "acquire is the loop waiting for tasks to end):",
            "",
            "```",
            profile["listing"],
            "```",
        ]
    if ratio > GOAL:
        lines += ["", LIMITS]
    _report.write_section(SECTION, "\n".join(lines))


LIMITS = (
    "What limits it: each attempt runs inside the exit wrapper, a shell around the task "
    "that records its exit status; and the scheduler's main thread, which shares the two "
    "cores with the running children, does the bookkeeping of every attempt one after the "
    "other: it writes the outcome twice (running, then finished) and the pid file, unlinks "
    "three files, starts a waiter thread and walks the workplace for artifacts. A GPU task "
    "also rewrites its meta with its devices."
)


def main(argv: Sequence[str] | None = None) -> int:
    """Measure, print the table and write the section."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--slots", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="60 tasks, 2 rounds")
    parser.add_argument(
        "--no-profile",
        action="store_true",
        help="skip the profiled extra round of the executor (done by default)",
    )
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    if args.quick:
        args.tasks, args.rounds = 60, 2

    result = measure(args.tasks, args.slots, args.rounds)
    _report.print_table(HEADERS, table_rows(result), title=SECTION)

    profile: dict[str, Any] = {}
    if not args.no_profile:
        scratch = Path(tempfile.mkdtemp(prefix="bench-launch-profile-"))
        try:
            profile = profile_executor(args.tasks, args.slots, scratch)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        print(profile["listing"], "\n", profile["per_task"])
    if not args.no_write:
        write_report(result, args, profile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
