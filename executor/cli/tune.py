"""``executor tune``: a hyper-parameter search from a spec file, resumed when run again."""

from __future__ import annotations

import argparse
from typing import Any

from ..errors import ExecutorError

EXAMPLES = """\
examples:
  executor tune examples/tune.toml
"""


def add_parser(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Register ``tune``."""
    parser = commands.add_parser(
        "tune",
        parents=parents,
        help="a hyper-parameter search from a spec file",
        description="Search the params space of a spec; run it again to resume.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("spec", help="a .toml or .json search spec (see docs/cli.md)")
    parser.set_defaults(handler=execute)


def execute(args: argparse.Namespace) -> int:
    """Run the search."""
    raise ExecutorError("the search command is not available in this version")
