"""Docker launcher overhead: no-op container tasks through the executor against `docker run`.

The baseline is the Docker CLI running the same image and command, ``slots`` containers
at a time (`docker run --rm IMAGE python -c pass`). The executor runs the same command as
tasks with ``launcher="docker"``: each gets its workplace, data and current-directory
mounts, the exit-status wrapper, labels, log streaming, and is removed after its status
is read. Rounds alternate their order and the medians are compared.

    python bench/docker_overhead.py [--image executor:lean] [--tasks 20] [--slots 2] [--rounds 3]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import _report
from launch_overhead import spawn_directly

SECTION = "Docker"
NOOP = ["python", "-c", "pass"]
LABELS = {
    "cli": "`docker run --rm` (the baseline)",
    "executor": "executor: run_tasks(launcher='docker')",
}
HEADERS = ["way", "median wall s", "ratio", "s per task", "median CPU s"]


def cli_commands(image: str, count: int) -> list[list[str]]:
    """The baseline: one plain ``docker run --rm`` per task."""
    docker = shutil.which("docker") or "docker"
    return [[docker, "run", "--rm", image, *NOOP] for _ in range(count)]


def run_executor(image: str, count: int, slots: int, root: Path) -> _report.Stopwatch:
    """Run ``count`` no-op container tasks in a fresh root."""
    from executor import Experiment

    experiment = Experiment(root)
    for _ in range(count):
        experiment.add_task(model="noop", run_command=NOOP, image=image)
    with _report.Stopwatch() as watch:
        results = experiment.run_tasks(num_jobs=slots, launcher="docker", progress=False)
    results.raise_for_failures()
    return watch


def measure(image: str, count: int, slots: int, rounds: int) -> dict[str, Any]:
    """Rounds of both ways in alternating order; every wall time and the medians."""
    walls: dict[str, list[float]] = {name: [] for name in LABELS}
    cpus: dict[str, list[float]] = {name: [] for name in LABELS}
    scratch = Path(tempfile.mkdtemp(prefix="bench-docker-"))
    try:
        ways = {
            "cli": lambda root: spawn_directly(cli_commands(image, count), slots),
            "executor": lambda root: run_executor(image, count, slots, root),
        }
        for round_number in range(rounds):
            order = list(ways) if round_number % 2 == 0 else list(reversed(ways))
            for name in order:
                root = scratch / f"root-{round_number}"
                watch = ways[name](root)
                walls[name].append(watch.seconds)
                cpus[name].append(watch.cpu)
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
    }


def table_rows(result: dict[str, Any], count: int) -> list[list[Any]]:
    """Rows: way, median wall, ratio to the CLI, wall seconds per task, median CPU."""
    wall, cpu = result["wall"], result["cpu"]
    return [
        [label, wall[name], wall[name] / wall["cli"], wall[name] / count, cpu[name]]
        for name, label in LABELS.items()
    ]


def report_text(result: dict[str, Any], args: argparse.Namespace) -> str:
    """The section: what was run, the table, and the per-task difference."""
    wall = result["wall"]
    per_task = (wall["executor"] - wall["cli"]) / args.tasks
    rounds = ", ".join(
        f"{name} " + " / ".join(f"{value:.1f}" for value in values)
        for name, values in result["walls"].items()
    )
    engine = subprocess.run(
        ["docker", "version", "--format", "{{.Server.Version}}"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return "\n".join(
        [
            _report.describe_run(),
            "",
            f"{args.tasks} no-op tasks (`{' '.join(NOOP)}`) in the image `{args.image}` on "
            f"Docker Engine {engine or 'unknown'}, {args.slots} at a time, {args.rounds} rounds "
            "in alternating order, medians. The executor's figure is `run_tasks` alone (the "
            "tasks were added before the clock starts); CPU time is the benchmark process's "
            "and its waited-for children's (the engine's own work is not in it).",
            "",
            _report.format_table(HEADERS, table_rows(result, args.tasks)),
            "",
            f"Wall time of every round (s): {rounds}.",
            "",
            f"Executor / `docker run --rm`, wall time: **{wall['executor'] / wall['cli']:.2f}**; "
            f"the executor adds {per_task:+.2f} s per task. Per container it does more than the "
            "plain CLI run: three bind mounts, the exit-status wrapper (`/bin/sh` and a rename "
            "in the workplace), an init process, two log streams copied to files, an inspect "
            "for the OOM flag, and the outcome files of the contract.",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    """Measure, print the table and write the ``## Docker`` section."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", default="executor:lean", help="an image with this package")
    parser.add_argument("--tasks", type=int, default=20)
    parser.add_argument("--slots", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="6 tasks, 1 round")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    if args.quick:
        args.tasks, args.rounds = 6, 1

    result = measure(args.image, args.tasks, args.slots, args.rounds)
    _report.print_table(HEADERS, table_rows(result, args.tasks), title=SECTION)
    if not args.no_write:
        _report.write_section(SECTION, report_text(result, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
