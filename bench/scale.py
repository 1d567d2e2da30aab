"""Scale: an experiment of 10,000 tasks, and the disk cost of tasks sharing one data bundle.

The adding and running happen in a fresh child interpreter (``_scale_worker.py``), so that
its peak resident memory (``VmHWM``) is the executor's own: the tasks (``true``) are
separate processes.

    python bench/scale.py [--tasks 10000] [--run 10000] [--disk 100,1000]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import _report

SECTION = "Scale"
MEMORY_GOAL_MB = 300.0
STATUS_GOAL_S = 1.0


def read_every_outcome(root: Path) -> dict[str, int]:
    """Count the tasks of each state by reading every outcome file with the contract."""
    from executor.contract import RootLayout

    states: dict[str, int] = {}
    for workplace in RootLayout(root).iter_workplaces():
        outcome = workplace.read_outcome()
        state = "none" if outcome is None else str(outcome["state"])
        states[state] = states.get(state, 0) + 1
    return states


def time_status(root: Path, repeats: int = 3) -> dict[str, Any]:
    """Median times of ``python -m executor status ROOT`` and of reading outcomes in-process."""
    figures: dict[str, Any] = {}
    reads = []
    for _ in range(repeats):
        started = time.perf_counter()
        figures["states"] = read_every_outcome(root)
        reads.append(time.perf_counter() - started)
    figures["read_outcomes_s"] = _report.median(reads)
    figures["read_outcomes_all"] = reads

    cli = _report.REPO / "executor" / "cli.py"
    cli_package = _report.REPO / "executor" / "cli" / "__init__.py"
    if cli.exists() or cli_package.exists():
        command = [sys.executable, "-m", "executor", "status", str(root)]
        runs, exits = [], set()
        for _ in range(repeats):
            started = time.perf_counter()
            completed = subprocess.run(command, capture_output=True, text=True, check=False)
            runs.append(time.perf_counter() - started)
            exits.add(completed.returncode)
        figures["cli_s"] = _report.median(runs)
        figures["cli_all"] = runs
        figures["cli_exit"] = max(exits)
        figures["cli_tail"] = completed.stdout.strip().splitlines()[-1:]
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import executor"], check=True)
        figures["interpreter_s"] = time.perf_counter() - started
    return figures


def disk_bytes(path: Path) -> int:
    """Bytes of disk used under ``path`` (allocated blocks, as ``du`` counts them)."""
    total = path.lstat().st_blocks * 512
    for folder, folders, files in os.walk(path):
        for name in folders + files:
            total += (Path(folder) / name).lstat().st_blocks * 512
    return total


def measure_disk(scratch: Path, counts: Sequence[int], rows: int = 20000) -> list[dict[str, Any]]:
    """Add ``counts`` tasks sharing one bundle; split the root's disk into data and tasks."""
    import numpy as np

    from executor import Experiment

    generator = np.random.default_rng(0)
    x, y = generator.normal(size=(rows, 20)), generator.normal(size=(rows, 1))
    measured = []
    for count in counts:
        root = scratch / f"disk-{count}"
        experiment = Experiment(root)
        folder = experiment.dump_data_bundle(x, y, x[:1000], y[:1000])
        for index in range(count):
            experiment.add_task(
                model="fcnn", config={"seed": index}, data_folder=folder, run_command=["true"]
            )
        data = disk_bytes(Path(folder).parent)
        tasks = disk_bytes(root / "fcnn")
        measured.append(
            {"tasks": count, "root": disk_bytes(root), "data": data, "workplaces": tasks}
        )
        shutil.rmtree(root, ignore_errors=True)
    return measured


def run_worker(root: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Add and run the tasks in a fresh interpreter (``_scale_worker.py``); its figures."""
    command = [
        sys.executable,
        str(Path(__file__).resolve().with_name("_scale_worker.py")),
        str(root),
        "--tasks",
        str(args.tasks),
        "--run",
        str(args.run),
        "--slots",
        str(args.slots),
    ]
    with _report.Stopwatch() as watch:
        completed = subprocess.run(command, capture_output=True, text=True, check=True)
    figures = dict(json.loads(completed.stdout.strip().splitlines()[-1]))
    figures["worker_s"] = watch.seconds
    return figures


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Every figure of the part: adding, memory, status and disk."""
    scratch = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    try:
        root = scratch / "many"
        figures = run_worker(root, args)
        print(
            f"added {args.tasks} in {figures['add_s']:.1f}s, ran {figures['ran']} in "
            f"{figures['run_s']:.1f}s, peak RSS {figures['peak_rss_mb']:.0f} MB "
            f"(the worker took {figures['worker_s']:.1f}s in all)",
            flush=True,
        )
        with _report.Stopwatch() as watch:
            figures["status"] = time_status(root)
        print(f"status timed in {watch.seconds:.1f}s", flush=True)
        with _report.Stopwatch() as watch:
            figures["disk"] = measure_disk(scratch, args.disk)
        print(f"disk measured in {watch.seconds:.1f}s", flush=True)
    finally:
        with _report.Stopwatch() as watch:
            shutil.rmtree(scratch, ignore_errors=True)
        print(f"removed the roots in {watch.seconds:.1f}s", flush=True)
    return figures


def table_rows(figures: dict[str, Any], args: argparse.Namespace) -> list[list[Any]]:
    """Rows: measure, value, goal, verdict."""
    status = figures["status"]
    rows: list[list[Any]] = [
        [f"add {args.tasks} tasks", f"{figures['add_s']:.2f} s", "", ""],
        [
            f"run {figures['ran']} no-op tasks (`true`), {args.slots} slots",
            f"{figures['run_s']:.1f} s ({1000 * figures['run_s'] / max(1, figures['ran']):.1f} "
            "ms per task)",
            "",
            f"{figures['succeeded']} of {figures['outcomes']} succeeded",
        ],
        [
            "executor peak RSS (VmHWM)",
            f"{figures['peak_rss_mb']:.0f} MB (after imports {figures['rss_after_import_mb']:.0f},"
            f" after adding {figures['rss_after_add_mb']:.0f})",
            f"< {MEMORY_GOAL_MB:.0f} MB",
            _verdict(figures["peak_rss_mb"] < MEMORY_GOAL_MB),
        ],
        [
            f"read every outcome file in-process ({args.tasks} tasks, median of 3)",
            f"{status['read_outcomes_s']:.2f} s",
            f"< {STATUS_GOAL_S:.0f} s",
            _verdict(status["read_outcomes_s"] < STATUS_GOAL_S),
        ],
    ]
    if "cli_s" in status:
        rows.append(
            [
                "`python -m executor status ROOT` (a fresh interpreter, median of 3)",
                f"{status['cli_s']:.2f} s (exit {status['cli_exit']}; bare `import executor` "
                f"{status['interpreter_s']:.2f} s)",
                f"< {STATUS_GOAL_S:.0f} s",
                _verdict(status["cli_s"] < STATUS_GOAL_S and status["cli_exit"] == 0),
            ]
        )
    for entry in figures["disk"]:
        rows.append(
            [
                f"disk of {entry['tasks']} tasks sharing one bundle",
                f"root {_kb(entry['root'])}: data {_kb(entry['data'])}, "
                f"workplaces {_kb(entry['workplaces'])} "
                f"({entry['workplaces'] / entry['tasks'] / 1024:.1f} KB per task)",
                "data O(1)",
                "",
            ]
        )
    disk = figures["disk"]
    if len(disk) >= 2:
        constant = disk[0]["data"] == disk[-1]["data"]
        rows[-1][3] = _verdict(constant)
    return rows


def _verdict(met: bool) -> str:
    return "meets" if met else "misses"


def _kb(size: int) -> str:
    return f"{size / 1024:,.0f} KB"


HEADERS = ["measure", "value", "goal", "verdict"]


def write_report(figures: dict[str, Any], args: argparse.Namespace) -> None:
    """Write the section."""
    status = figures["status"]
    subset = (
        f"all {args.tasks} were run"
        if figures["ran"] == args.tasks
        else f"{figures['ran']} of them were run, to keep the suite short: the other "
        f"{figures.get('carried_over', 0)} were given outcome files saying they had succeeded "
        "in an earlier run, so `run_tasks` read and skipped them as when resuming, and held "
        "all of them in memory"
    )
    lines = [
        _report.describe_run(),
        "",
        f'{args.tasks} tasks with `run_command=["true"]` were added in a fresh interpreter; '
        f"{subset}, {args.slots} at a time. The peak memory is that interpreter's `VmHWM` "
        "(imports included); the tasks are separate processes. The disk figures add tasks "
        "that share one bundle of 20,000 x 20 floats (plus a 1,000-row validation part) "
        "without running them: each workplace holds only its `__meta__.json` until it runs.",
        "",
        _report.format_table(HEADERS, table_rows(figures, args)),
        "",
        f"Outcome states after the run: {status['states']}. Every status time (s): "
        + ", ".join(f"{value:.2f}" for value in status.get("cli_all", []))
        + "; every in-process read (s): "
        + ", ".join(f"{value:.2f}" for value in status["read_outcomes_all"])
        + ".",
    ]
    if status.get("cli_s", 0.0) >= STATUS_GOAL_S:
        lines += [
            "",
            f"What limits `status`: it opens and parses one outcome file per task "
            f"({args.tasks} files) and prints a line for each, after starting an interpreter "
            f"(a bare `import executor` took {status['interpreter_s']:.2f} s here); on a busy "
            "machine each small read waits for the disk and the CPU. A summary kept by the run "
            "(one file of counts per root) would let `status` answer without reading every "
            "task's file.",
        ]
    if "cli_s" not in status:
        lines.append(
            "The `status` command of the CLI was not in the package when this ran, so the "
            "figure is the time to read every outcome file in-process."
        )
    _report.write_section(SECTION, "\n".join(lines))


def main(argv: Sequence[str] | None = None) -> int:
    """Measure, print the table and write the section."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=10000)
    parser.add_argument("--run", type=int, default=None, help="tasks to run (default: all)")
    parser.add_argument("--slots", type=int, default=2)
    parser.add_argument("--disk", type=lambda text: [int(part) for part in text.split(",")])
    parser.add_argument("--quick", action="store_true", help="2,000 tasks, 300 run")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    if args.quick:
        args.tasks, args.run = 2000, args.run or 300
    args.run = min(args.tasks, args.run or args.tasks)
    args.disk = args.disk or [100, 1000]

    figures = measure(args)
    _report.print_table(HEADERS, table_rows(figures, args), title=SECTION)
    if not args.no_write:
        write_report(figures, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
