"""Run the benchmark suite: every part, or the ones named, each in a process of its own.

    python bench/run_all.py                      # every part whose script exists
    python bench/run_all.py --quick              # smaller sizes
    python bench/run_all.py --only launch,scale  # some parts (repeatable)
    python bench/run_all.py --skip peers

Each part prints its own table and replaces its section of docs/benchmarks.md; a part
whose script is not there is reported as missing, and a part that fails does not stop the
others (the suite exits non-zero at the end).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Any

import _report

PARTS: dict[str, str] = {
    "launch": "launch_overhead.py",
    "parallel": "parallel_efficiency.py",
    "scale": "scale.py",
    "peers": "peers.py",
    "docker": "docker_overhead.py",
    "ray": "ray_overhead.py",
    "models": "models_accuracy.py",
    "search": "search_quality.py",
}
"""Each part's name on the command line and its script under bench/, in the order run."""


def chosen_parts(only: Sequence[str], skip: Sequence[str]) -> list[str]:
    """The parts to run, in suite order; unknown names are refused."""
    wanted = _split(only) or list(PARTS)
    unwanted = _split(skip)
    unknown = sorted(set(wanted + unwanted) - set(PARTS))
    if unknown:
        raise SystemExit(f"unknown part(s) {unknown}; known: {', '.join(PARTS)}")
    return [part for part in PARTS if part in wanted and part not in unwanted]


def _split(values: Sequence[str]) -> list[str]:
    return [name.strip() for value in values for name in value.split(",") if name.strip()]


def part_command(part: str, quick: bool, no_write: bool) -> list[str] | None:
    """The command that runs ``part``, or None when its script does not exist."""
    script = _report.BENCH_DIR / PARTS[part]
    if not script.is_file():
        return None
    source = script.read_text(encoding="utf-8")
    command = [sys.executable, str(script)]
    if quick and '"--quick"' in source:
        command.append("--quick")
    if no_write and '"--no-write"' in source:
        command.append("--no-write")
    return command


def run_part(part: str, command: list[str], suite_command: str) -> dict[str, Any]:
    """Run one part in a child process, its output streamed; return its exit and time."""
    shown = ["python", f"bench/{PARTS[part]}", *command[2:]]
    print(f"\n=== {part}: {' '.join(shown)}", flush=True)
    env = {**os.environ, _report.SUITE_COMMAND_ENV: suite_command}
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=_report.REPO, env=env, check=False)
    return {"exit": completed.returncode, "seconds": time.perf_counter() - started}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the chosen parts one after the other and print a summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", default=[], help=f"of: {', '.join(PARTS)}")
    parser.add_argument("--skip", action="append", default=[], help="parts to leave out")
    parser.add_argument("--quick", action="store_true", help="smaller sizes in every part")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)

    suite_command = _report.command_line()
    summary: list[list[Any]] = []
    failed = False
    for part in chosen_parts(args.only, args.skip):
        command = part_command(part, args.quick, args.no_write)
        if command is None:
            summary.append([part, PARTS[part], "missing", ""])
            continue
        outcome = run_part(part, command, suite_command)
        failed = failed or outcome["exit"] != 0
        state = "ok" if outcome["exit"] == 0 else f"failed (exit {outcome['exit']})"
        summary.append([part, PARTS[part], state, f"{outcome['seconds']:.0f}"])

    _report.print_table(["part", "script", "result", "seconds"], summary, title="Suite")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
