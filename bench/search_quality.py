"""Search: how well and how fast the searchers find good params, as tasks and in-process.

Parts, each written into the ``## Search`` section of docs/benchmarks.md:

1. Branin and Hartmann-6 run as tasks (runs/test_functions.py, through ``tune_with`` with a
   ``run_command``) that report their value, minimised by bo and by random search at the
   same budget over several seeds, two tasks in flight. Goals: bo's median best beats
   random's median best; bo reaches within 1% of Branin's optimum (0.397887) within 40
   evaluations.
2. Peers in-process at the same budget and seeds: Optuna's default sampler (TPE), our grid
   and random searchers, and (with ``--in-process-bo``) bo asked and told one at a time.
3. The reference document's example: iris, ``task_type="clf"``, ``num_repeat=2``,
   ``num_search=10``, per split seed. Goal: the best candidate's validation accuracy is at
   least 0.96. Scikit-learn baselines on the same held-out rows show what the split allows.
4. bo's time per suggestion against the number of observations.

The default run takes about six minutes on two cores; ``--quick`` about two.

    python bench/search_quality.py [--seeds 3] [--budget 40] [--iris-seeds 1]
                                   [--in-process-bo] [--quick] [--no-write]
"""

from __future__ import annotations

import argparse
import logging
import math
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import _report
import numpy as np

SECTION = "Search"
BRANIN_MINIMUM = 0.397887
HARTMANN6_MINIMUM = -3.32237
TEST_FUNCTIONS = _report.REPO / "runs" / "test_functions.py"
WITHIN = 0.01
IRIS_GOAL = 0.96
MINIMA = {"branin": BRANIN_MINIMUM, "hartmann6": HARTMANN6_MINIMUM}


def load_test_functions() -> dict[str, Any]:
    """The functions and spaces of runs/test_functions.py, without running it as a task."""
    import runpy

    return runpy.run_path(str(TEST_FUNCTIONS))


FUNCTIONS = load_test_functions()


def space_of(name: str) -> dict[str, Any]:
    """The search space of a test function, as Float dimensions."""
    import executor

    return {
        key: executor.Float(low, high) for key, (low, high) in FUNCTIONS["SPACES"][name].items()
    }


def value_of(name: str, params: dict[str, Any]) -> float:
    """The test function at a params dict."""
    return float(FUNCTIONS["evaluate"]({"function": name, **params}))


# ----------------------------------------------------------------------------- searches


def run_searcher(name: str, function: str, seed: int, budget: int) -> list[float]:
    """The values seen by one of our searchers asked and told in-process, in order."""
    from executor.hpo.searchers import make_searcher
    from executor.hpo.space import SearchSpace

    options = {"num_points": math.ceil(budget**0.5)} if name == "grid" else {}
    searcher = make_searcher(
        name, SearchSpace(space_of(function)), seed=seed, maximize=False, **options
    )
    values: list[float] = []
    while len(values) < budget and not searcher.exhausted:
        trial = searcher.ask()
        value = value_of(function, trial.params)
        searcher.tell(trial.number, value)
        values.append(value)
    return values


def run_optuna(function: str, seed: int, budget: int) -> list[float]:
    """The values seen by Optuna's default sampler (TPE) at the same budget."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    bounds = FUNCTIONS["SPACES"][function]

    def objective(trial: Any) -> float:
        params = {key: trial.suggest_float(key, low, high) for key, (low, high) in bounds.items()}
        return value_of(function, params)

    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed))
    study.optimize(objective, n_trials=budget)
    return [float(trial.value) for trial in study.trials]


def run_as_tasks(search: str, function: str, seed: int, budget: int, root: Path) -> list[float]:
    """The values seen by ``tune_with`` running the function as tasks, in trial order."""
    import executor

    result = executor.tune_with(
        params=space_of(function),
        config={"function": function},
        model=function,
        run_command=["python", str(TEST_FUNCTIONS)],
        objective="value",
        maximize=False,
        num_search=budget,
        num_repeat=1,
        num_parallel=2,
        search=search,
        seed=seed,
        root=root / f"{function}-{search}-{seed}",
        progress=False,
    )
    return [trial.value if trial.value is not None else math.inf for trial in result.trials]


def first_within(values: Sequence[float], minimum: float) -> int | None:
    """The evaluation (counted from 1) that first came within 1% of the minimum."""
    for index, value in enumerate(values):
        if value - minimum <= WITHIN * abs(minimum):
            return index + 1
    return None


def compare(
    title: str,
    runners: dict[str, Callable[[str, int], list[float]]],
    functions: Sequence[str],
    seeds: Sequence[int],
) -> tuple[str, dict[tuple[str, str], dict[str, Any]]]:
    """Run every runner on every function and seed; a table and the figures by name."""
    rows: list[list[Any]] = []
    figures: dict[tuple[str, str], dict[str, Any]] = {}
    for function in functions:
        for name, runner in runners.items():
            if name == "grid" and function != "branin":
                continue
            started = time.perf_counter()
            histories = [runner(function, seed) for seed in seeds]
            seconds = (time.perf_counter() - started) / len(seeds)
            bests = [min(history) for history in histories]
            hits = [first_within(history, MINIMA[function]) for history in histories]
            figures[(function, name)] = {"median": statistics.median(bests), "hits": hits}
            rows.append(
                [
                    function,
                    name,
                    statistics.median(bests),
                    min(bests),
                    max(bests),
                    f"{sum(hit is not None for hit in hits)}/{len(hits)}",
                    " ".join("-" if hit is None else str(hit) for hit in hits),
                    seconds,
                ]
            )
            print(f"{title}: {function} {name}: bests {np.round(bests, 4).tolist()}", flush=True)

    headers = [
        "function",
        "searcher",
        "median best",
        "best",
        "worst",
        "seeds within 1%",
        "evaluation reaching 1%, per seed",
        "s per search",
    ]
    return _report.print_table(headers, rows, title=title), figures


def verdicts(figures: dict[tuple[str, str], dict[str, Any]], budget: int) -> str:
    """The goals of the test functions, met or missed."""
    lines = []
    for function in ("branin", "hartmann6"):
        bo, random = figures[(function, "bo")]["median"], figures[(function, "random")]["median"]
        beaten = "beats" if bo < random else "does not beat"
        lines.append(
            f"{function}: bo's median best {bo:.4f} against random's {random:.4f}: "
            f"bo {beaten} random at {budget} evaluations."
        )
    hits = figures[("branin", "bo")]["hits"]
    reached = sum(hit is not None for hit in hits)
    lines.append(
        f"bo came within 1% of Branin's optimum within {budget} evaluations in {reached} of "
        f"{len(hits)} seeds (goal: every seed)."
    )
    return "\n".join(f"- {line}" for line in lines)


# ----------------------------------------------------------------------------- iris


def iris_example(root: Path, num_search: int, seed: int) -> tuple[str, float]:
    """The reference document's example on iris with the split of ``seed``."""
    from sklearn.datasets import load_iris

    import executor

    x, y = load_iris(return_X_y=True)
    started = time.perf_counter()
    result = executor.tune_with(
        x,
        y,
        task_type="clf",
        num_repeat=2,
        num_parallel=2,
        num_search=num_search,
        seed=seed,
        root=root / f"iris-{seed}",
        progress=False,
    )
    seconds = time.perf_counter() - started

    best = result.comparison().summary(result.best_code, "acc")
    assert best is not None and result.split is not None
    baselines = split_baselines(x, y, result.split["validation_rows"])
    params = {key: value for key, value in result.best_param.items() if key != "model"}
    text = (
        f"Split seed {seed}, {seconds:.0f} s: best candidate `{result.best_code}`, validation "
        f"accuracy {best.mean:.4f} ± {best.std:.4f} "
        f"({'reached' if best.mean >= IRIS_GOAL else 'missed'}; goal >= {IRIS_GOAL}); "
        f"params `{params}`. Scikit-learn on the same held-out rows: {baselines}."
    )
    print(text, flush=True)
    return text + f"\n\n```text\n{result}\n```", best.mean


def split_baselines(x: np.ndarray, y: np.ndarray, held: list[int]) -> str:
    """Accuracy of a few scikit-learn classifiers on the held-out rows of the split."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.svm import SVC

    mask = np.zeros(len(x), dtype=bool)
    mask[held] = True
    models = {
        "LogisticRegression": LogisticRegression(max_iter=1000),
        "SVC": SVC(),
        "KNeighbors": KNeighborsClassifier(),
    }
    scores = {
        name: model.fit(x[~mask], y[~mask]).score(x[mask], y[mask])
        for name, model in models.items()
    }
    return ", ".join(f"{name} {score:.4f}" for name, score in scores.items())


# ----------------------------------------------------------------------------- timing


def suggestion_times(counts: Sequence[int], dimensions: Sequence[int]) -> str:
    """Seconds for one bo suggestion after n observations."""
    import executor
    from executor.hpo.searchers import make_searcher
    from executor.hpo.space import SearchSpace

    rows: list[list[Any]] = []
    for dimension in dimensions:
        space = SearchSpace({f"x{i}": executor.Float(0.0, 1.0) for i in range(dimension)})
        for count in counts:
            searcher = make_searcher("bo", space, seed=0, num_initial=count + 1)
            generator = np.random.default_rng(count)
            for _ in range(count):
                trial = searcher.ask()
                searcher.tell(trial.number, float(generator.normal()))
            searcher.num_initial = 1
            times = []
            for _ in range(3):
                started = time.perf_counter()
                trial = searcher.ask()
                times.append(time.perf_counter() - started)
                searcher.tell(trial.number, float(generator.normal()))
            rows.append([dimension, count, statistics.median(times)])
            print(f"suggestion d={dimension} n={count}: {statistics.median(times):.3f} s")

    headers = ["dimensions", "observations", "median s per suggestion"]
    return _report.print_table(headers, rows, title="bo time per suggestion")


# ----------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    """Run the parts and write the section."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="seeds per searcher and function")
    parser.add_argument("--budget", type=int, default=40, help="evaluations per search")
    parser.add_argument("--iris-seeds", type=int, default=1, help="split seeds for iris")
    parser.add_argument("--iris-search", type=int, default=10, help="candidates on iris")
    parser.add_argument("--in-process-bo", action="store_true", help="bo in-process too")
    parser.add_argument("--quick", action="store_true", help="fewer seeds and a smaller budget")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    seeds = list(range(2 if args.quick else args.seeds))
    budget = 20 if args.quick else args.budget
    iris_search = 4 if args.quick else args.iris_search
    counts = [5, 10, 20] if args.quick else [5, 10, 20, 40, 80]
    functions = ["branin", "hartmann6"]

    with tempfile.TemporaryDirectory(prefix="executor-search-") as folder:
        root = Path(folder)
        task_runners: dict[str, Callable[[str, int], list[float]]] = {
            name: lambda f, seed, name=name: run_as_tasks(name, f, seed, budget, root)
            for name in ("bo", "random")
        }
        tasks_table, figures = compare("As tasks", task_runners, functions, seeds)

        peers: dict[str, Callable[[str, int], list[float]]] = {
            "optuna TPE": lambda f, seed: run_optuna(f, seed, budget),
            "random": lambda f, seed: run_searcher("random", f, seed, budget),
            "grid": lambda f, seed: run_searcher("grid", f, seed, budget),
        }
        if args.in_process_bo:
            peers["bo"] = lambda f, seed: run_searcher("bo", f, seed, budget)
        peers_table, _ = compare("In-process", peers, functions, seeds)

        iris_runs = [iris_example(root, iris_search, seed) for seed in range(args.iris_seeds)]
        reached = sum(accuracy >= IRIS_GOAL for _, accuracy in iris_runs)
        iris_parts = [
            f"- The best candidate reached the goal (validation accuracy >= {IRIS_GOAL}) on "
            f"{reached} of {len(iris_runs)} split seeds.",
            *(text for text, _ in iris_runs),
        ]
    timing_table = suggestion_times(counts, [2, 6])

    body = "\n\n".join(
        [
            _report.describe_run(),
            f"Every search minimises its function with a budget of {budget} evaluations, "
            f"seeds {seeds[0]}..{seeds[-1]}. bo starts with 5 random points, then fits its "
            "Gaussian process (Matern 5/2 with a length scale per dimension, an amplitude and "
            "a noise term) and maximises expected improvement; grid uses "
            f"{math.ceil(budget**0.5)} points per range (Branin only); Optuna's TPE runs with "
            "its defaults.",
            "### Test functions as tasks",
            'runs/test_functions.py run by `tune_with(run_command=..., objective="value", '
            "maximize=False, num_repeat=1, num_parallel=2)`: two candidates per round, the "
            "second suggested while the first is pending (constant liar).",
            tasks_table,
            verdicts(figures, budget),
            "### Peers in-process",
            "The same functions and seeds, each searcher asked and told one point at a time "
            "with no task around it.",
            peers_table,
            "### The reference example (iris)",
            f'`tune_with(x, y, task_type="clf", num_repeat=2, num_parallel=2, '
            f"num_search={iris_search}, seed=s)` with the default space (optimizer, log lr) "
            "and the default fcnn; 30 of the 150 rows held out, stratified, by the seed.",
            *iris_parts,
            "### bo's time per suggestion",
            "One `ask()` after n told observations (median of 3): fitting the Gaussian "
            "process and maximising the acquisition, on one thread.",
            timing_table,
        ]
    )
    if not args.no_write:
        _report.write_section(SECTION, body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
