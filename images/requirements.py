"""Print the package's dependencies from pyproject.toml as a pip requirements file.

The image builds use it so that the images install what the package declares, with two
adjustments: ``--torch`` pins torch to the build's chosen release (or ``--torch none``
leaves it out), and ``--only`` keeps only the named distributions (the lean image).

    python3 requirements.py pyproject.toml --torch torch==2.13.0
    python3 requirements.py pyproject.toml --only numpy,scikit-learn
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib


def distribution_name(requirement: str) -> str:
    """The normalized distribution name at the start of a requirement string."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    if match is None:
        raise ValueError(f"not a requirement: {requirement!r}")
    return re.sub(r"[-_.]+", "-", match.group(1)).lower()


def requirements(pyproject: str, torch: str, only: set[str] | None) -> list[str]:
    """The dependencies to install, adjusted as the command line asks."""
    with open(pyproject, "rb") as stream:
        declared: list[str] = tomllib.load(stream)["project"]["dependencies"]

    chosen: list[str] = []
    for requirement in declared:
        name = distribution_name(requirement)
        if only is not None and name not in only:
            continue
        if name == "torch":
            if torch != "none":
                chosen.append(torch)
            continue
        chosen.append(requirement)
    return chosen


def main(argv: list[str]) -> int:
    """Parse the command line and print one requirement per line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pyproject")
    parser.add_argument("--torch", default="torch", help="the torch requirement, or 'none'")
    parser.add_argument("--only", default=None, help="comma-separated distributions to keep")
    arguments = parser.parse_args(argv)

    only = None
    if arguments.only:
        only = {distribution_name(name) for name in arguments.only.split(",")}

    for line in requirements(arguments.pyproject, arguments.torch, only):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
