"""Ray overhead: the same no-op tasks on the local scheduler and on the Ray backend.

A local Ray instance is started once (its start-up is reported apart) and warmed with one
small run; then rounds of the local scheduler, the Ray backend copying each workplace to
the node and back, and the Ray backend on shared storage are interleaved, and the medians
compared. The difference per task is what the Ray backend adds to each task.

    python bench/ray_overhead.py [--tasks 50] [--slots 2] [--rounds 3] [--quick] [--no-write]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import _report

SECTION = "Ray"
WAYS = {
    "local": ("local scheduler (process launcher)", {}),
    "ray": ("Ray backend, workplaces copied to the node and back", {"backend": "ray"}),
    "shared": (
        "Ray backend, shared storage (nothing copied)",
        {"backend": "ray", "shared_storage": True},
    ),
}


def run_once(root: Path, count: int, slots: int, options: dict[str, Any]) -> float:
    """Add ``count`` no-op tasks to a fresh root, run them, and return the run's wall time."""
    from executor import Experiment

    experiment = Experiment(root)
    for _ in range(count):
        experiment.add_task(model="noop", run_command="python -c pass")
    with _report.Stopwatch() as watch:
        results = experiment.run_tasks(num_jobs=slots, progress=False, **options)
    results.raise_for_failures()
    return watch.seconds


def measure(count: int, slots: int, rounds: int) -> dict[str, Any]:
    """Start Ray, warm it, then interleave the rounds; return every time and the medians."""
    from executor.cluster.ray import RaySettings, connect, disconnect

    scratch = Path(tempfile.mkdtemp(prefix="bench-ray-"))
    walls: dict[str, list[float]] = {name: [] for name in WAYS}
    try:
        started = time.perf_counter()
        connect(RaySettings())
        startup = time.perf_counter() - started
        run_once(scratch / "warm", min(count, 4), slots, {"backend": "ray"})

        for round_number in range(rounds):
            order = list(WAYS) if round_number % 2 == 0 else list(reversed(WAYS))
            for name in order:
                root = scratch / f"{name}-{round_number}"
                walls[name].append(run_once(root, count, slots, WAYS[name][1]))
                shutil.rmtree(root, ignore_errors=True)
            print(
                f"round {round_number + 1}/{rounds}: "
                + ", ".join(f"{name} {walls[name][-1]:.2f}s" for name in WAYS),
                flush=True,
            )
    finally:
        disconnect()
        shutil.rmtree(scratch, ignore_errors=True)
    return {
        "startup": startup,
        "walls": walls,
        "wall": {name: _report.median(values) for name, values in walls.items()},
    }


HEADERS = ["way", "median wall s", "ms per task", "added ms per task", "ratio to local"]


def table_rows(result: dict[str, Any], count: int) -> list[list[Any]]:
    """Rows: way, median wall, per task, added per task against local, ratio to local."""
    wall = result["wall"]
    return [
        [
            label,
            wall[name],
            1000 * wall[name] / count,
            1000 * (wall[name] - wall["local"]) / count,
            wall[name] / wall["local"],
        ]
        for name, (label, _) in WAYS.items()
    ]


def write_report(result: dict[str, Any], args: argparse.Namespace) -> None:
    """Write the section: the table, every round, and what the figures mean."""
    rounds = ", ".join(
        f"{name} " + " / ".join(f"{value:.1f}" for value in values)
        for name, values in result["walls"].items()
    )
    added = 1000 * (result["wall"]["ray"] - result["wall"]["local"]) / args.tasks
    lines = [
        _report.describe_run(),
        "",
        f"{args.tasks} no-op tasks (`python -c pass`) with {args.slots} slots, {args.rounds} "
        "rounds in alternating order, medians of the wall time of `run_tasks`; each round "
        'uses a fresh root. Ray is a local instance on this machine (`backend="ray"` with '
        "no address), started once before the rounds and warmed with one small run.",
        "",
        _report.format_table(HEADERS, table_rows(result, args.tasks)),
        "",
        f"Wall time of every round (s): {rounds}.",
        "",
        f"The Ray backend adds **{added:.0f} ms per task** here over the local scheduler "
        f"(with {args.slots} tasks at a time). Starting the local Ray instance took "
        f"{result['startup']:.1f} s, once per process; a run on a cluster that is already "
        "up pays only the connection. Per attempt the backend submits a Ray task, packs "
        "and unpacks the workplace on both sides, tells the node's watchdog what to guard "
        "and removes the node's scratch copy; shared storage leaves out the copies. Worth it "
        "when tasks last seconds or more, or when one machine is not enough.",
    ]
    _report.write_section(SECTION, "\n".join(lines))


def main() -> int:
    """Measure, print the table and, unless ``--no-write``, replace the Ray section."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=50)
    parser.add_argument("--slots", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="20 tasks, 1 round")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    if args.quick:
        args.tasks, args.rounds = 20, 1

    result = measure(args.tasks, args.slots, args.rounds)
    _report.print_table(HEADERS, table_rows(result, args.tasks), title=SECTION)
    print(f"Ray start-up: {result['startup']:.1f} s")
    if not args.no_write:
        write_report(result, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
