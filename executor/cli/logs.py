"""``executor logs``: a task's stdout and stderr, and ``--follow`` while it runs.

The task's stdout goes to stdout and its stderr to stderr, so either can be redirected.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any, BinaryIO

from ..contract import RootLayout, Workplace
from ..errors import ContractError
from ..outcome import TaskState
from .common import UsageError, active_run, note, open_root, parse_key

POLL_SECONDS = 0.2
IDLE_SECONDS = 3.0
"""How long ``--follow`` waits for a run to take the root before it gives up."""

EXAMPLES = """\
examples:
  executor logs __experiment__ fcnn/0
  executor logs __experiment__ fcnn/0 --attempt 1 2>/dev/null     stdout of the first attempt
  executor logs __experiment__ fcnn/0 --follow                     until the task ends
"""


def add_parser(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Register ``logs``."""
    parser = commands.add_parser(
        "logs",
        parents=parents,
        help="a task's stdout and stderr (the latest attempt by default)",
        description=(
            "Print a task's stdout (to stdout) and stderr (to stderr). With --follow, keep "
            "printing while the task runs, through its retries, until its outcome is final."
        ),
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("root", help="the experiment root, such as __experiment__")
    parser.add_argument("key", help="the task's key, MODEL/NAME such as fcnn/0")
    parser.add_argument("--attempt", type=int, help="the attempt to show, from 1")
    parser.add_argument("-f", "--follow", action="store_true", help="follow until the task ends")
    parser.set_defaults(handler=execute)


def _find_workplace(layout: RootLayout, text: str) -> Workplace:
    key = parse_key(text)
    workplace = layout.workplace(*key)
    if not workplace.meta_file.is_file():
        known = [f"{w.key[0]}/{w.key[1]}" for w in layout.iter_workplaces()[:8]]
        raise UsageError(
            f"no task {text} under this root; tasks include {known}", root=str(layout.root)
        )
    return workplace


def _attempts(workplace: Workplace) -> tuple[list[dict[str, Any]], str | None]:
    """The recorded attempts and the task's state (None before its first run)."""
    payload = workplace.read_outcome()
    if payload is None:
        return [], None
    attempts = [item for item in payload.get("attempts") or [] if isinstance(item, dict)]
    return attempts, str(payload.get("state"))


def _log_paths(
    workplace: Workplace, attempts: list[dict[str, Any]], number: int
) -> tuple[Path, Path]:
    record = attempts[number - 1] if 0 < number <= len(attempts) else {}
    stdout = record.get("stdout")
    stderr = record.get("stderr")
    return (
        workplace.path / stdout if stdout else workplace.stdout_file(number),
        workplace.path / stderr if stderr else workplace.stderr_file(number),
    )


def execute(args: argparse.Namespace) -> int:
    """Print (or follow) the logs of one attempt."""
    layout = open_root(args.root)
    workplace = _find_workplace(layout, args.key)
    attempts, state = _attempts(workplace)

    if args.attempt is not None and not 1 <= args.attempt <= max(len(attempts), 1):
        raise UsageError(
            f"{args.key} has {len(attempts)} attempt(s); --attempt must be in 1..{len(attempts)}",
            attempt=args.attempt,
        )
    if args.follow:
        return _follow(layout, workplace, args.attempt or max(len(attempts), 1))
    if not attempts:
        note(f"{args.key} has not run yet, so it has no logs")
        return 0

    number = args.attempt or len(attempts)
    stdout, stderr = _log_paths(workplace, attempts, number)
    for path, sink in ((stdout, sys.stdout.buffer), (stderr, sys.stderr.buffer)):
        if path.is_file():
            sink.write(path.read_bytes())
            sink.flush()
        else:
            note(f"attempt {number} left no {path.suffix.lstrip('.')} file ({path})")
    return 0


class _Tail:
    """Prints what is appended to a file since the last look."""

    def __init__(self, path: Path, sink: BinaryIO) -> None:
        self.path = path
        self.sink = sink
        self.offset = 0

    def pump(self) -> None:
        try:
            with open(self.path, "rb") as stream:
                stream.seek(self.offset)
                data = stream.read()
        except OSError:
            return
        if data:
            self.offset += len(data)
            self.sink.write(data)
            self.sink.flush()


def _is_final(state: str | None) -> bool:
    try:
        return state is not None and TaskState(state).is_finished()
    except ValueError:
        return False


def _follow(layout: RootLayout, workplace: Workplace, number: int) -> int:
    tails: list[_Tail] | None = None
    idle_since: float | None = None
    while True:
        try:
            attempts, state = _attempts(workplace)
        except ContractError:
            attempts, state = [], None  # a torn read while the run writes: look again
        if tails is None and len(attempts) >= number:
            stdout, stderr = _log_paths(workplace, attempts, number)
            tails = [_Tail(stdout, sys.stdout.buffer), _Tail(stderr, sys.stderr.buffer)]
        for tail in tails or []:
            tail.pump()

        if tails is not None and len(attempts) > number:
            number += 1
            tails = None
            note(f"--- attempt {number} ---")
            continue
        if _is_final(state) and len(attempts) <= number:
            for tail in tails or []:
                tail.pump()
            note(f"{'/'.join(workplace.key)} {state}")
            return 0
        if active_run(layout) is not None:
            idle_since = None
        elif idle_since is None:
            idle_since = time.monotonic()
        elif time.monotonic() - idle_since > IDLE_SECONDS:
            for tail in tails or []:
                tail.pump()
            note("no run is active on this root; stopped following")
            return 0
        time.sleep(POLL_SECONDS)
