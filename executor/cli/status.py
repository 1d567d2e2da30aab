"""``executor status``: one line per task of a root, read from the outcome files only."""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import dataclass
from typing import Any

from ..contract import META_FILE, OUTCOME_FILE, RootLayout
from .common import active_run, format_duration, open_root, say, summarize_reason

EXAMPLES = """\
examples:
  executor status __experiment__
  executor status __experiment__ --state failed
  executor status __experiment__ --json > status.json
"""

STALE_NOTE = "recorded as running, but no run holds the root; the next run will recover it"


def add_parser(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Register ``status``."""
    parser = commands.add_parser(
        "status",
        parents=parents,
        help="one line per task of a root: state, attempts, duration, reason",
        description="Show the state of every task under an experiment root, and totals.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("root", help="the experiment root, such as __experiment__")
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")
    parser.add_argument(
        "--state", action="append", help="show only tasks in this state (repeatable)"
    )
    parser.set_defaults(handler=execute)


@dataclass
class TaskLine:
    """What ``status`` shows of one task."""

    key: str
    state: str
    attempts: int
    duration: float | None
    reason: str | None
    workplace: str


def scan(layout: RootLayout) -> list[TaskLine]:
    """Every task of the root, in key order, from its outcome file (pending without one)."""
    lines: list[TaskLine] = []
    with os.scandir(layout.root) as entries:
        model_dirs = sorted(
            (entry for entry in entries if entry.is_dir() and not entry.name.startswith("__")),
            key=lambda entry: entry.name,
        )
    for model_dir in model_dirs:
        with os.scandir(model_dir.path) as entries:
            task_dirs = sorted(
                (entry for entry in entries if entry.is_dir()),
                key=lambda entry: (
                    (0, int(entry.name), "") if entry.name.isdigit() else (1, 0, entry.name)
                ),
            )
        for task_dir in task_dirs:
            line = _read_task(model_dir.name, task_dir.name, task_dir.path)
            if line is not None:
                lines.append(line)
    return lines


def _read_task(model: str, name: str, path: str) -> TaskLine | None:
    key = f"{model}/{name}"
    try:
        with open(os.path.join(path, OUTCOME_FILE), encoding="utf-8") as stream:
            payload = json.load(stream)
    except FileNotFoundError:
        if not os.path.isfile(os.path.join(path, META_FILE)):
            return None
        return TaskLine(key, "pending", 0, None, "not run yet", path)
    except (OSError, ValueError) as error:
        return TaskLine(key, "unreadable", 0, None, f"outcome file: {error}", path)

    if not isinstance(payload, dict):
        return TaskLine(key, "unreadable", 0, None, "outcome file is not a JSON object", path)
    attempts = payload.get("attempts") or []
    duration = attempts[-1].get("duration") if attempts and isinstance(attempts[-1], dict) else None
    return TaskLine(
        key=key,
        state=str(payload.get("state", "unknown")),
        attempts=len(attempts),
        duration=duration if isinstance(duration, int | float) else None,
        reason=payload.get("reason"),
        workplace=path,
    )


def totals(lines: list[TaskLine]) -> dict[str, int]:
    """How many tasks are in each state."""
    counts: dict[str, int] = {}
    for line in lines:
        counts[line.state] = counts.get(line.state, 0) + 1
    return dict(sorted(counts.items()))


def execute(args: argparse.Namespace) -> int:
    """Print the table (or JSON) of the root's tasks."""
    layout = open_root(args.root)
    lines = scan(layout)
    holder = active_run(layout)
    if holder is None:
        for line in lines:
            if line.state == "running":
                line.reason = STALE_NOTE
    if args.state:
        lines = [line for line in lines if line.state in set(args.state)]

    if args.json:
        payload = {
            "root": str(layout.root),
            "active_run": holder,
            "tasks": [dict(vars(line)) for line in lines],
            "totals": totals(lines),
        }
        say(json.dumps(payload, indent=2))
        return 0

    _print_table(lines)
    summary = ", ".join(f"{count} {state}" for state, count in totals(lines).items())
    say(f"{len(lines)} task(s){': ' + summary if summary else ''}")
    if holder is not None:
        say(f"a run is active on this root (pid {holder.get('pid')}, since {holder.get('since')})")
    return 0


def _print_table(lines: list[TaskLine]) -> None:
    if not lines:
        return
    rows = [
        (
            line.key,
            line.state,
            str(line.attempts),
            format_duration(line.duration),
            summarize_reason(line.reason),
        )
        for line in lines
    ]
    header = ("KEY", "STATE", "ATTEMPTS", "DURATION", "REASON")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(4)]
    text = []
    for row in [header, *rows]:
        cells = [cell.ljust(width) for cell, width in zip(row[:4], widths, strict=True)]
        text.append("  ".join([*cells, row[4]]).rstrip())
    say("\n".join(text))
