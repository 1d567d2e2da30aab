"""The command line: ``python -m executor`` (or ``executor``) with one command per job.

``run`` trains, ``status`` and ``logs`` look at a run, ``evaluate`` compares its models,
``tune`` searches hyper-parameters, ``clean`` removes what a run left behind. Errors are
one line; a usage error exits with status 2, a failed task with status 1.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback
from collections.abc import Sequence

from ..errors import ExecutorError, InvalidInputError
from .common import FAILED_EXIT, PROG, USAGE_EXIT, Parser, add_log_options, install_logging

logger = logging.getLogger(__name__)

INTERRUPTED_EXIT = 130
BROKEN_PIPE_EXIT = 141

EXAMPLES = """\
examples:
  executor run                         train the default job and print its comparison
  executor run examples/quick.toml     train what a spec file describes
  executor status __experiment__       one line per task
  executor logs __experiment__ fcnn/0  a task's stdout and stderr
  executor evaluate __experiment__ --export table.md
  executor tune examples/tune.toml     a hyper-parameter search
  executor clean __experiment__        stop what a dead run left running

Every command has its own --help with examples.
"""


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command."""
    from . import clean, evaluate, logs, run, status, tune

    parser = Parser(
        prog=PROG,
        description="Train many models at once, each task in its own workplace.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_log_options(parser, suppress=False)
    shared = argparse.ArgumentParser(add_help=False)
    add_log_options(shared, suppress=True)

    commands = parser.add_subparsers(
        title="commands", dest="command", metavar="COMMAND", parser_class=Parser
    )
    commands.required = True
    for module in (run, status, logs, evaluate, tune, clean):
        module.add_parser(commands, [shared])
    parser.set_defaults(command_parsers=commands.choices)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return its exit status (the console script exits with it)."""
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        command_parser = args.command_parsers.get(args.command, parser)
        command_parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    install_logging(args.verbose, args.quiet)
    show_traceback = args.debug or args.verbose >= 2

    try:
        status = args.handler(args)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return INTERRUPTED_EXIT
    except BrokenPipeError:
        # The reader of stdout went away (``executor status ROOT | head``): stop quietly.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return BROKEN_PIPE_EXIT
    except InvalidInputError as error:
        _explain(error, show_traceback)
        return USAGE_EXIT
    except ExecutorError as error:
        _explain(error, show_traceback)
        return FAILED_EXIT
    except Exception as error:  # anything else is a bug or an environment problem: one line
        if show_traceback:
            traceback.print_exc()
        hint = "" if show_traceback else " (run again with --debug for the traceback)"
        print(f"{PROG}: error: {type(error).__name__}: {error}{hint}", file=sys.stderr)
        return FAILED_EXIT
    return int(status or 0)


def _explain(error: ExecutorError, show_traceback: bool) -> None:
    if show_traceback:
        traceback.print_exc()
    print(f"{PROG}: error: {error}", file=sys.stderr)


__all__ = ["build_parser", "main"]
