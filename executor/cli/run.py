"""``executor run``: train the models of a spec (or of the flags, or the default job).

Finished tasks are skipped when the same run is started again, so a second run only
prints the table. The exit status is 1 when a task did not succeed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import shlex
import sys
from typing import TYPE_CHECKING, Any

from ..contract import Workplace
from ..outcome import Outcome
from .common import FAILED_EXIT, format_duration, note, say, summarize_reason
from .run_plan import build_spec, check_metrics, check_model
from .run_spec import BACKENDS, ModelEntry, RunSpec

if TYPE_CHECKING:
    from .data_source import LoadedData

logger = logging.getLogger(__name__)

EXAMPLES = """\
examples:
  executor run                                  the default job: linear, fcnn and tree_dnn,
                                                3 repeats each, on breast_cancer
  executor run examples/quick.toml              a spec file (TOML or JSON)
  executor run --dataset wine --models fcnn --repeats 2 --config '{"num_epochs": 20}'
  executor run --csv train.csv --label target --jobs 4 --gpus 0,1
  executor run spec.toml --launcher docker --image executor:cpu --timeout 600
"""


def add_parser(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Register ``run`` and its options."""
    parser = commands.add_parser(
        "run",
        parents=parents,
        help="train models from a spec file or flags, and print their comparison",
        description=(
            "Train every model of a spec (or of the flags, or the default job) as tasks "
            "under an experiment root, then print the comparison table. Flags override "
            "the spec's top-level keys; tasks that already succeeded are skipped."
        ),
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("spec", nargs="?", help="a .toml or .json spec file (see docs/cli.md)")

    data = parser.add_argument_group("data (replaces the spec's data source)")
    data.add_argument(
        "--dataset", metavar="NAME", help="a data set of scikit-learn: breast_cancer, wine, ..."
    )
    data.add_argument("--csv", metavar="FILE", help="a .csv file with a header row")
    data.add_argument("--label", metavar="COLUMN", help="the label column of --csv")
    data.add_argument("--x", metavar="FILE", help="features, a .npy file")
    data.add_argument("--y", metavar="FILE", help="labels, a .npy file")
    data.add_argument("--x-cv", metavar="FILE", help="validation features, a .npy file")
    data.add_argument("--y-cv", metavar="FILE", help="validation labels, a .npy file")
    data.add_argument(
        "--validation",
        type=float,
        metavar="FRACTION",
        help="fraction held out for evaluation (default 0.2)",
    )
    data.add_argument("--split-seed", type=int, metavar="N", help="the seed of the held-out split")

    models = parser.add_argument_group("models")
    models.add_argument(
        "--models", metavar="NAMES", help="comma-separated names, such as linear,fcnn"
    )
    models.add_argument("--repeats", type=int, metavar="N", help="runs of each model")
    models.add_argument("--config", metavar="JSON", help="JSON config given to every model")
    models.add_argument(
        "--run-command", metavar="COMMAND", help="a custom task command, such as 'python train.py'"
    )
    models.add_argument("--metrics", metavar="NAMES", help="metrics of the table, such as acc,auc")

    where = parser.add_argument_group("where and how")
    where.add_argument(
        "--root", metavar="DIR", help="the experiment root (default ./__experiment__)"
    )
    where.add_argument("--jobs", type=int, metavar="N", help="tasks at a time")
    where.add_argument(
        "--timeout", type=float, metavar="SECONDS", help="seconds an attempt may take"
    )
    where.add_argument("--retries", type=int, metavar="N", help="extra attempts of a failed task")
    where.add_argument("--launcher", choices=("process", "docker"), help="how tasks run")
    where.add_argument(
        "--image", metavar="IMAGE", help="the Docker image of the tasks (implies docker)"
    )
    where.add_argument("--gpus", metavar="GPUS", help="'all', 'none' or GPU ids such as 0,1")
    where.add_argument(
        "--network", metavar="MODE", help="a container's network, e.g. 'none' to cut it off"
    )
    where.add_argument("--backend", choices=BACKENDS, help="local, or a Ray cluster")
    where.add_argument(
        "--address", metavar="ADDRESS", help="the Ray cluster's address (with --backend ray)"
    )
    where.add_argument("--force", action="store_true", help="run succeeded tasks again")
    where.add_argument(
        "--wait", action="store_true", help="wait for another run on the root to end"
    )
    where.add_argument("--dry-run", action="store_true", help="list the tasks; run nothing")
    parser.set_defaults(handler=execute)


def execute(args: argparse.Namespace) -> int:
    """Run the tasks, print the table, and say which tasks failed."""
    spec = build_spec(args)
    for entry in spec.models:
        check_model(entry)
    check_metrics(spec.metrics)

    from .data_source import load_data

    data = None if spec.data is None else load_data(spec.data)
    if data is not None:
        logger.info("data: %s", data.description)
    if args.dry_run:
        _show_plan(spec, data.description if data else "no data")
        return 0

    from ..experiment import Experiment

    experiment = Experiment(spec.options.root)
    data_folder = None
    if data is not None:
        data_folder = experiment.dump_data_bundle(data.x, data.y, data.x_cv, data.y_cv)
    with contextlib.chdir(spec.workdir):
        for entry in spec.models:
            for index in range(entry.repeats):
                _add(experiment, entry, index, data_folder, spec)

    results = _run(experiment, spec, args)
    _print_outcomes(results.outcomes)
    _print_table(results, data, spec.metrics)
    return _report_failures(results.outcomes, spec)


def _add(
    experiment: Any, entry: ModelEntry, index: int, data_folder: str | None, spec: RunSpec
) -> None:
    gpus = entry.gpus if entry.gpus is not None else spec.options.gpus.per_task
    experiment.add_task(
        model=entry.model,
        config=entry.config,
        data_folder=data_folder,
        run_command=entry.run_command,
        workplace_key=(entry.name, str(index)),
        launcher=entry.launcher,
        image=entry.image,
        gpus=gpus,
        cpus=entry.cpus,
        memory=entry.memory,
        timeout=entry.timeout,
        retries=entry.retries,
        env=entry.env,
        network=entry.network or spec.options.network,
    )


def _run(experiment: Any, spec: RunSpec, args: argparse.Namespace) -> Any:
    from .scoring import load_saved_pipeline

    total = len(experiment.tasks)
    quiet = bool(getattr(args, "quiet", False))
    show_bar = not quiet and sys.stderr.isatty()
    finished: list[Outcome] = []

    def on_finish(outcome: Outcome) -> None:
        finished.append(outcome)
        if quiet or show_bar:
            return
        key = "/".join(outcome.key)
        line = f"[{len(finished)}/{total}] {key} {outcome.state.value}"
        line += f" in {format_duration(outcome.duration)}"
        if not outcome.succeeded:
            line += f": {summarize_reason(outcome.reason)}"
        note(line)

    options = spec.options
    if not quiet:
        note(f"{total} task(s) under {options.root}, {options.jobs} at a time")
    return experiment.run_tasks(
        options.jobs,
        task_loader=load_saved_pipeline,
        timeout=options.timeout,
        retries=options.retries,
        cuda_list=options.gpus.cuda_list,
        launcher=options.launcher,
        image=options.image,
        force=args.force,
        lock="wait" if args.wait else "fail",
        progress=show_bar,
        backend=options.backend,
        on_finish=on_finish,
        **options.backend_options(),
    )


def _show_plan(spec: RunSpec, data_description: str) -> None:
    say(f"root: {spec.options.root}")
    say(f"data: {data_description}")
    for entry in spec.models:
        command = entry.run_command or "built-in task"
        config = json.dumps(entry.config, sort_keys=True)
        for index in range(entry.repeats):
            say(f"{entry.name}/{index}: model {entry.model}, config {config}, {command}")


def _print_outcomes(outcomes: list[Outcome]) -> None:
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome.state.value] = counts.get(outcome.state.value, 0) + 1
    skipped = sum(1 for outcome in outcomes if outcome.resumed)
    summary = ", ".join(f"{count} {state}" for state, count in sorted(counts.items()))
    if skipped:
        summary += f" ({skipped} already done, skipped)"
    note(f"{len(outcomes)} task(s): {summary}")


def _print_table(results: Any, data: LoadedData | None, metrics: list[str] | None) -> None:
    from .scoring import compare

    held_out = data is not None and data.x_cv is not None
    if data is None:
        x, y = None, None
    else:
        x, y = (data.x_cv, data.y_cv) if held_out else (data.x, data.y)
    comparison, reason = compare(results, x, y, metrics)
    if comparison is None:
        note(str(reason))
        return
    if any(pipeline is not None for pipeline in results.pipelines):
        where = "held-out validation rows" if held_out else "training rows (no validation part)"
        note(f"pipelines scored on {len(x) if x is not None else 0} {where}")
    else:
        note("compared through the metrics the tasks reported")
    say(comparison.table())


def _report_failures(outcomes: list[Outcome], spec: RunSpec) -> int:
    failures = [outcome for outcome in outcomes if not outcome.succeeded]
    if not failures:
        return 0
    root = spec.options.root
    note(f"{len(failures)} of {len(outcomes)} task(s) did not succeed:")
    for outcome in failures:
        key = "/".join(outcome.key)
        reason = summarize_reason(outcome.reason) or "no reason recorded"
        note(f"  {key}: {outcome.state.value}: {reason}")
        if outcome.attempts:
            logs_dir = Workplace(outcome.workplace).logs_dir
            note(f"    logs: executor logs {shlex.quote(str(root))} {key}  (files in {logs_dir})")
    return FAILED_EXIT
