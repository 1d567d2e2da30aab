"""``executor evaluate``: the comparison table of a finished run, with exports.

Tasks that saved a pipeline are scored on the run's data bundle, on its validation part
(``x_cv``, ``y_cv``) when it has one, else on its training rows; tasks that saved none
count through the metrics they reported.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..contract import RootLayout
from ..errors import ContractError
from ..outcome import Outcome, load_outcome
from .common import FAILED_EXIT, UsageError, note, open_root, say

EXPORT_SUFFIXES = (".json", ".csv", ".md", ".markdown", ".txt")

EXAMPLES = """\
examples:
  executor evaluate __experiment__
  executor evaluate __experiment__ --metrics acc,f1 --export table.md --export table.json
  executor evaluate __experiment__ --plot comparison.png
"""


def add_parser(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Register ``evaluate``."""
    parser = commands.add_parser(
        "evaluate",
        parents=parents,
        help="the comparison table of a finished run, with exports",
        description=(
            "Compare the models of a run: saved pipelines are scored on the run's held-out "
            "validation rows (x_cv, y_cv), or on its training rows when it has none; tasks "
            "without a pipeline count through the metrics they reported."
        ),
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("root", help="the experiment root, such as __experiment__")
    parser.add_argument("--metrics", help="comma-separated metrics (default: acc,auc or mae,mse)")
    parser.add_argument(
        "--export",
        action="append",
        default=[],
        metavar="PATH",
        help="write the table to PATH: .json, .csv, .md or .txt (repeatable)",
    )
    parser.add_argument("--plot", metavar="PATH", help="draw the comparison into a .png file")
    parser.set_defaults(handler=execute)


def _check_outputs(exports: list[str], plot: str | None) -> None:
    for path in exports:
        if Path(path).suffix.lower() not in EXPORT_SUFFIXES:
            raise UsageError(
                "--export takes a path ending in .json, .csv, .md or .txt", export=path
            )
    if plot is not None and Path(plot).suffix.lower() != ".png":
        raise UsageError("--plot takes a path ending in .png", plot=plot)


def collect_outcomes(layout: RootLayout) -> tuple[list[Outcome], set[str]]:
    """The recorded outcomes of the root's tasks, and the data bundles they used."""
    outcomes: list[Outcome] = []
    bundles: set[str] = set()
    for workplace in layout.iter_workplaces():
        outcome = load_outcome(workplace)
        if outcome is None:
            continue
        outcomes.append(outcome)
        data_folder = workplace.read_meta().get("data_folder")
        if data_folder:
            bundles.add(str(data_folder))
    return outcomes, bundles


def _evaluation_rows(layout: RootLayout, bundles: set[str]) -> tuple[Any, Any, str]:
    from ..task_api import load_bundle

    if not bundles:
        return None, None, "no data bundle: only reported metrics are compared"
    if len(bundles) > 1:
        raise UsageError(
            "the tasks of this root use different data bundles, so one table cannot score "
            "them all; evaluate their roots apart",
            bundles=sorted(bundles),
        )
    folder = layout.root / bundles.pop()
    try:
        x, y, x_cv, y_cv = load_bundle(folder)
    except ContractError as error:
        raise ContractError(f"the run's data bundle cannot be read: {error}") from None
    if x_cv is not None:
        return x_cv, y_cv, f"pipelines scored on {len(x_cv)} held-out validation rows of {folder}"
    return (
        x,
        y,
        f"pipelines scored on the {len(x)} training rows of {folder} (it has no validation part)",
    )


def execute(args: argparse.Namespace) -> int:
    """Print the comparison and write the exports."""
    from ..results import Results
    from .scoring import compare, load_saved_pipeline

    _check_outputs(args.export, args.plot)
    metrics = [name.strip() for name in args.metrics.split(",")] if args.metrics else None
    layout = open_root(args.root)
    outcomes, bundles = collect_outcomes(layout)
    if not outcomes:
        note("no task of this root has run yet; run it first (executor run)")
        return FAILED_EXIT

    x, y, where = _evaluation_rows(layout, bundles)
    loader = load_saved_pipeline if x is not None else None
    results = Results.collect(outcomes, loader)
    comparison, reason = compare(results, x, y, metrics)
    if comparison is None:
        note(str(reason))
        return FAILED_EXIT

    if any(pipeline is not None for pipeline in results.pipelines):
        note(where)
    else:
        note("compared through the metrics the tasks reported")
    say(comparison.table())
    for path in args.export:
        note(f"wrote {comparison.save(path)}")
    if args.plot:
        note(f"wrote {comparison.plot(args.plot)}")
    unfinished = [o for o in outcomes if not o.succeeded]
    if unfinished:
        keys = ", ".join("/".join(o.key) for o in unfinished[:10])
        note(f"left out {len(unfinished)} task(s) that did not succeed: {keys}")
    return 0
