"""What every command shares: the argument parser, logging, errors, and experiment roots."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

from ..contract import DATA_DIR, LOCK_FILE, META_FILE, SEARCH_DIR, RootLayout, hostname, read_json
from ..errors import ContractError, InvalidInputError

PROG = "executor"
FAILED_EXIT = 1
USAGE_EXIT = 2
PER_TASK_LOGGERS = ("executor.scheduler", "executor.experiment")
"""Loggers whose line per finished task the commands replace with their own."""


class UsageError(InvalidInputError):
    """The command line itself is wrong: a missing file, a bad value, an unknown name."""


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line naming the command's help."""

    def error(self, message: str) -> NoReturn:
        """Print ``executor: error: ...`` and exit with the usage status."""
        sys.stderr.write(f"{PROG}: error: {message} (see '{self.prog} --help')\n")
        sys.exit(USAGE_EXIT)


def add_log_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    """The options every command takes: -v, -q and --debug.

    On subcommands the defaults are suppressed, so that ``executor -v run`` and
    ``executor run -v`` both work.
    """
    suppressed: Any = argparse.SUPPRESS
    group = parser.add_argument_group("output")
    group.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=suppressed if suppress else 0,
        help="say more: -v for progress details, -vv for debugging (with tracebacks)",
    )
    group.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=suppressed if suppress else False,
        help="say only errors and the results",
    )
    group.add_argument(
        "--debug",
        action="store_true",
        default=suppressed if suppress else False,
        help="show the traceback of an error",
    )


def install_logging(verbose: int, quiet: bool) -> None:
    """Send the ``executor`` loggers to stderr at the level the options ask for."""
    if quiet:
        level = logging.ERROR
    elif verbose >= 2:
        level = logging.DEBUG
    elif verbose == 1:
        level = logging.INFO
    else:
        level = logging.WARNING

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_LevelFormatter())
    logger = logging.getLogger("executor")
    for existing in list(logger.handlers):
        if getattr(existing, "_executor_cli", False):
            logger.removeHandler(existing)
    handler._executor_cli = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.setLevel(level)

    # The commands report each task's end themselves; at the default level the library's
    # own line per finished task would say it twice.
    for name in PER_TASK_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET if verbose else logging.ERROR)


class _LevelFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = record.getMessage()
        if record.exc_info and logging.getLogger("executor").level <= logging.DEBUG:
            text += "\n" + self.formatException(record.exc_info)
        return f"{PROG}: {record.levelname.lower()}: {text}"


def say(text: str = "") -> None:
    """Write a line of the command's result to stdout."""
    print(text, flush=True)


def note(text: str) -> None:
    """Write a progress or advice line to stderr."""
    print(f"{PROG}: {text}", file=sys.stderr, flush=True)


def looks_like_root(path: Path) -> bool:
    """True when ``path`` holds what a run leaves: a workplace, a data folder or a lock."""
    if not path.is_dir():
        return False
    if (path / DATA_DIR).is_dir() or (path / LOCK_FILE).exists() or (path / SEARCH_DIR).is_dir():
        return True
    for model_dir in path.iterdir():
        if not model_dir.is_dir() or model_dir.name.startswith("__"):
            continue
        for task_dir in model_dir.iterdir():
            if (task_dir / META_FILE).is_file():
                return True
    return False


def open_root(text: str) -> RootLayout:
    """The layout of an existing experiment root, or a usage error saying what is wrong."""
    path = Path(text)
    if not path.exists():
        raise UsageError("the experiment root does not exist", root=str(path.absolute()))
    if not path.is_dir():
        raise UsageError("the experiment root is not a folder", root=str(path.absolute()))
    if not looks_like_root(path):
        raise UsageError(
            "this folder is not an experiment root (no workplaces, no __data__ folder); "
            "name the root a run wrote, such as __experiment__",
            root=str(path.absolute()),
        )
    return RootLayout(path)


def parse_key(text: str) -> tuple[str, str]:
    """A task key ``model/name`` such as ``fcnn/0``."""
    model, slash, name = text.strip("/").partition("/")
    if not slash or not model or not name or "/" in name:
        raise UsageError("a task key reads MODEL/NAME, such as fcnn/0", key=text)
    return model, name


def active_run(layout: RootLayout) -> dict[str, Any] | None:
    """Who holds the root's run lock, when that process still lives on this host."""
    try:
        holder = read_json(layout.lock_info_file, what="lock info file")
    except ContractError:
        return None
    if not isinstance(holder, dict):
        return None

    pid = holder.get("pid")
    if holder.get("host") != hostname() or not isinstance(pid, int):
        return holder
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return holder
    return holder


def format_duration(seconds: float | None) -> str:
    """``12.3s``, ``4m05s`` or ``1h02m``; ``-`` when unknown."""
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, rest = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes}m{rest:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def summarize_reason(reason: str | None, limit: int = 160) -> str:
    """A failure reason on one line: its first line, and the last line of a stderr tail."""
    lines = [line.strip() for line in (reason or "").strip().splitlines() if line.strip()]
    if not lines:
        return ""
    text = lines[0]
    if len(lines) > 1 and text.endswith("stderr tail:"):
        text = f"{text} {lines[-1]}"
    return text if len(text) <= limit else text[: limit - 3] + "..."
