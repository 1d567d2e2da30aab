"""``executor tune``: a hyper-parameter search from a spec file, resumed when run again."""

from __future__ import annotations

import argparse
import contextlib
import copy
import logging
from pathlib import Path
from typing import Any

from .common import UsageError, note, say
from .run_spec import DEFAULT_VALIDATION
from .spec_reader import load_spec_file, parse_gpus
from .tune_spec import SEARCHERS, TuneSpec, parse_tune_spec

EXAMPLES = """\
examples:
  executor tune examples/tune.toml
  executor tune examples/tune.toml --num-search 20 --num-parallel 4     a larger budget
  executor tune examples/tune.toml --export candidates.md --plot search.png
"""

PROGRESS_LOGGER = "executor.hpo.loop"
"""The search loop logs each round and each candidate's score: the progress of a search."""


def add_parser(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Register ``tune``."""
    parser = commands.add_parser(
        "tune",
        parents=parents,
        help="a hyper-parameter search from a spec file (resumed when run again)",
        description=(
            "Search the params space of a spec: each candidate runs num_repeat tasks, scored "
            "on held-out validation rows. The search state is saved in the root as it goes, "
            "so running the same spec again resumes it."
        ),
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("spec", help="a .toml or .json search spec (see docs/cli.md)")
    parser.add_argument("--root", metavar="DIR", help="the search's root (default ./__tune__)")
    parser.add_argument("--num-search", type=int, metavar="N", help="candidates to try")
    parser.add_argument("--num-parallel", type=int, metavar="N", help="tasks at a time")
    parser.add_argument("--search", choices=SEARCHERS, help="the searcher")
    parser.add_argument("--gpus", metavar="GPUS", help="'all', 'none' or GPU ids such as 0,1")
    parser.add_argument(
        "--export",
        action="append",
        default=[],
        metavar="PATH",
        help="write the candidates' table to .json, .csv, .md or .txt (repeatable)",
    )
    parser.add_argument("--plot", metavar="PATH", help="draw the best score so far (.png)")
    parser.add_argument("--dry-run", action="store_true", help="show the search; run nothing")
    parser.set_defaults(handler=execute)


def build_tune_spec(args: argparse.Namespace) -> TuneSpec:
    """The search spec from its file, with the flags written over it."""
    raw = copy.deepcopy(load_spec_file(args.spec))
    if args.gpus is not None:
        parse_gpus(args.gpus, "--gpus")
    flags = {
        "root": None if args.root is None else str(Path(args.root).expanduser().absolute()),
        "num_search": args.num_search,
        "num_parallel": args.num_parallel,
        "search": args.search,
        "gpus": args.gpus,
    }
    raw.update({key: value for key, value in flags.items() if value is not None})
    base = Path(args.spec).absolute().parent
    return parse_tune_spec(raw, source=args.spec, base=base, cwd=Path.cwd())


def execute(args: argparse.Namespace) -> int:
    """Run (or resume) the search and print its table and best parameters."""
    spec = build_tune_spec(args)
    for path in args.export:
        if Path(path).suffix.lower() not in (".json", ".csv", ".md", ".markdown", ".txt"):
            raise UsageError(
                "--export takes a path ending in .json, .csv, .md or .txt", export=path
            )
    if args.plot is not None and Path(args.plot).suffix.lower() != ".png":
        raise UsageError("--plot takes a path ending in .png", plot=args.plot)

    from .data_source import load_data

    data = None if spec.data is None else load_data(spec.data, split=False)
    if args.dry_run:
        _show_plan(spec, _describe_data(spec, data))
        return 0

    quiet = bool(getattr(args, "quiet", False))
    if not quiet and not getattr(args, "verbose", 0):
        logging.getLogger(PROGRESS_LOGGER).setLevel(logging.INFO)
    result = _search(spec, data, quiet)

    say(str(result))
    note(f"the search state is in {result.state_file}")
    for path in args.export:
        note(f"wrote {result.comparison().save(path)}")
    if args.plot:
        note(f"wrote {result.plot(args.plot)}")
    return 0


def _search(spec: TuneSpec, data: Any, quiet: bool) -> Any:
    from ..hpo.tune import tune_with

    x, y, x_cv, y_cv = (None,) * 4 if data is None else (data.x, data.y, data.x_cv, data.y_cv)
    validation = None if spec.data is None else spec.data.validation
    options = spec.options
    run_options: dict[str, Any] = {
        "launcher": options.launcher,
        "cuda_list": options.gpus.cuda_list,
        "backend": options.backend,
        **options.backend_options(),
    }
    if quiet:
        run_options["progress"] = False
    search_options = {} if spec.num_points is None else {"num_points": spec.num_points}

    with contextlib.chdir(spec.workdir):
        return tune_with(
            x,
            y,
            x_cv,
            y_cv,
            task_type=spec.task_type,
            model=spec.model,
            params=spec.params,
            num_search=spec.num_search,
            num_repeat=spec.num_repeat,
            num_parallel=spec.num_parallel,
            search=spec.search,
            metrics=spec.metrics,
            run_command=spec.run_command,
            image=options.image,
            objective=spec.objective,
            maximize=spec.maximize,
            root=options.root,
            seed=spec.seed,
            config=spec.config,
            timeout=options.timeout,
            retries=options.retries,
            cv_split=DEFAULT_VALIDATION if validation is None else validation,
            search_options=search_options,
            task_options=spec.task_options,
            **run_options,
        )


def _describe_data(spec: TuneSpec, data: Any) -> str:
    if data is None:
        return "no data"
    if data.x_cv is not None:
        return data.description
    fraction = (
        DEFAULT_VALIDATION
        if spec.data is None or spec.data.validation is None
        else spec.data.validation
    )
    return (
        f"{data.description.split(':')[0]}: {len(data.x)} rows; the search holds out "
        f"{fraction} of them for validation (by seed {spec.seed})"
    )


def _show_plan(spec: TuneSpec, data_description: str) -> None:
    from ..hpo.space import SearchSpace, default_space

    space = SearchSpace(spec.params if spec.params is not None else default_space())
    task = spec.run_command or spec.options.image or f"built-in model {spec.model}"
    say(f"root: {spec.options.root}")
    say(f"data: {data_description}")
    say(f"task: {task}, fixed config {spec.config}")
    say(
        f"search: {spec.search}, {spec.num_search} candidate(s) of {spec.num_repeat} task(s), "
        f"{spec.num_parallel} task(s) at a time, objective {spec.objective or 'default'}"
    )
    for dimension in space.dimensions:
        say(f"  {'.'.join(dimension.path)}: {dimension!r}")
