"""Models: accuracy of the built-in models with their defaults, and their training time.

Each model is trained with its default config on the training part of a fixed split of
scikit-learn's breast_cancer, wine and diabetes data (test_size 0.2, random_state 42,
stratified for classification), once per seed, and scored on the held-out part. Goals:
fcnn reaches 0.95 accuracy (breast_cancer, wine) and 0.40 r2 (diabetes); linear and
tree_dnn come within 0.05 of those figures. A plain scikit-learn linear model, trained through the
same pipeline, is shown for context. A second table repeats the scores over five other
splits, so that the fixed split's luck can be judged; a third times training on a few
thousand rows.

    python bench/models_accuracy.py [--seeds 5] [--threads 1] [--quick] [--no-write]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

import _report
import numpy as np

SECTION = "Models"
SPLIT = {"test_size": 0.2, "random_state": 42}
OTHER_SPLITS = [0, 1, 2, 3, 4]
MODELS = ["linear", "fcnn", "tree_dnn"]
BASELINES = {
    "clf": "sklearn.linear_model.LogisticRegression",
    "reg": "sklearn.linear_model.LinearRegression",
}
GOALS = {"breast_cancer": 0.95, "wine": 0.95, "diabetes": 0.40}
WITHIN = 0.05


def load_dataset(name: str) -> tuple[np.ndarray, np.ndarray, str]:
    """Features, target and task type of a scikit-learn toy data set."""
    from sklearn import datasets

    loaders: dict[str, Callable[..., Any]] = {
        "breast_cancer": datasets.load_breast_cancer,
        "wine": datasets.load_wine,
        "diabetes": datasets.load_diabetes,
    }
    x, y = loaders[name](return_X_y=True)
    return x, y, "reg" if name == "diabetes" else "clf"


def split(x: np.ndarray, y: np.ndarray, task_type: str, random_state: int) -> list[np.ndarray]:
    """The train and test parts of one split."""
    from sklearn.model_selection import train_test_split

    stratify = y if task_type == "clf" else None
    return list(
        train_test_split(
            x, y, test_size=SPLIT["test_size"], random_state=random_state, stratify=stratify
        )
    )


def score(pipeline: Any, x: np.ndarray, y: np.ndarray, task_type: str) -> float:
    """Accuracy (classification) or r2 (regression) on held-out rows."""
    from executor.metrics import compute_metrics

    name = "acc" if task_type == "clf" else "r2"
    return compute_metrics([name], y, pipeline.predict(x))[name]


def fit_and_score(model: str, parts: list[np.ndarray], task_type: str, seed: int) -> dict:
    """Train one model with its defaults on one split and score it."""
    import executor

    x_train, x_test, y_train, y_test = parts
    config = {"seed": seed} if model in MODELS else {}
    started = time.perf_counter()
    pipeline = executor.make(model, **config).fit(x_train, y_train)
    seconds = time.perf_counter() - started
    return {
        "score": score(pipeline, x_test, y_test, task_type),
        "seconds": seconds,
        "epochs": pipeline.training.get("epochs_run"),
    }


def measure_accuracy(seeds: int) -> list[dict[str, Any]]:
    """Every model on every data set, once per seed, on the fixed split."""
    rows = []
    for dataset in GOALS:
        x, y, task_type = load_dataset(dataset)
        parts = split(x, y, task_type, SPLIT["random_state"])
        for model in [*MODELS, BASELINES[task_type]]:
            runs = [fit_and_score(model, parts, task_type, seed) for seed in range(seeds)]
            if model not in MODELS:
                runs = runs[:1]
            scores = [run["score"] for run in runs]
            epochs = [run["epochs"] for run in runs if run["epochs"] is not None]
            rows.append(
                {
                    "dataset": dataset,
                    "metric": "accuracy" if task_type == "clf" else "r2",
                    "model": model.rsplit(".", 1)[-1],
                    "mean": statistics.fmean(scores),
                    "std": statistics.pstdev(scores),
                    "min": min(scores),
                    "seconds": statistics.fmean(run["seconds"] for run in runs),
                    "epochs": statistics.fmean(epochs) if epochs else None,
                }
            )
            print(rows[-1], flush=True)
    return rows


def measure_other_splits() -> list[list[Any]]:
    """The mean score of each model over five other splits (seed 0 each)."""
    table = []
    for dataset in GOALS:
        x, y, task_type = load_dataset(dataset)
        means = []
        for model in [*MODELS, BASELINES[task_type]]:
            scores = [
                fit_and_score(model, split(x, y, task_type, state), task_type, 0)["score"]
                for state in OTHER_SPLITS
            ]
            means.append(f"{statistics.fmean(scores):.3f} ± {statistics.pstdev(scores):.3f}")
        table.append([dataset, *means])
    return table


def measure_speed(rows: int, epochs: int) -> list[list[Any]]:
    """Seconds per epoch and per fit on a synthetic data set of ``rows`` rows."""
    import executor

    generator = np.random.default_rng(0)
    x = generator.normal(size=(rows, 20))
    y = x[:, :5].sum(axis=1) + np.sin(x[:, 5] * 2) + generator.normal(scale=0.3, size=rows)
    labels = (y > np.median(y)).astype(int)

    table = []
    for model in MODELS:
        for task_type, target in (("reg", y), ("clf", labels)):
            config = {"seed": 0, "num_epochs": epochs, "patience": None}
            started = time.perf_counter()
            executor.make(model, **config).fit(x, target)
            fixed = (time.perf_counter() - started) / epochs

            started = time.perf_counter()
            pipeline = executor.make(model, seed=0).fit(x, target)
            default = time.perf_counter() - started
            run = pipeline.training["epochs_run"]
            table.append([model, task_type, f"{fixed * 1000:.0f}", f"{default:.2f}", run])
    return table


def goal_lines(rows: list[dict[str, Any]]) -> list[str]:
    """Whether each goal is met, one line per data set.

    fcnn must reach the goal; linear and tree_dnn must come within ``WITHIN`` of it.
    """
    lines = []
    for dataset, goal in GOALS.items():
        means = {row["model"]: row["mean"] for row in rows if row["dataset"] == dataset}
        others = {model: means[model] for model in ("linear", "tree_dnn")}
        met = means["fcnn"] >= goal and all(value >= goal - WITHIN for value in others.values())
        shown = ", ".join(f"{model} {value:.3f}" for model, value in others.items())
        verdict = "met" if met else "NOT met"
        lines.append(f"- {dataset}: fcnn {means['fcnn']:.3f} (goal {goal}); {shown}: {verdict}.")
    return lines


def write_report(
    rows: list[dict[str, Any]],
    splits: list[list[Any]],
    speed: list[list[Any]],
    args: argparse.Namespace,
) -> None:
    """Replace the Models section of docs/benchmarks.md."""
    accuracy_table = _report.format_table(
        ["data set", "metric", "model", "mean", "std", "min", "s / fit", "epochs"],
        [
            [
                row["dataset"],
                row["metric"],
                row["model"],
                f"{row['mean']:.3f}",
                f"{row['std']:.3f}",
                f"{row['min']:.3f}",
                f"{row['seconds']:.2f}",
                "" if row["epochs"] is None else f"{row['epochs']:.0f}",
            ]
            for row in rows
        ],
    )
    split_table = _report.format_table(["data set", *MODELS, "scikit-learn linear"], splits)
    speed_table = _report.format_table(
        ["model", "task", "ms / epoch", "s / default fit", "epochs run"], speed
    )
    from executor.models.config import TRAINING_DEFAULTS

    held_out = TRAINING_DEFAULTS["validation_fraction"]
    lines = [
        _report.describe_run(),
        "",
        f"Default configs, torch on {args.threads} thread(s), CPU. Fixed split: "
        f"`train_test_split(test_size=0.2, random_state=42)`, stratified for classification; "
        f"each torch model trained once per seed 0..{args.seeds - 1} on the training part "
        f"(early stopping on a held-out {held_out:.0%} of it) and scored on the test part. The "
        "scikit-learn linear model (LogisticRegression, LinearRegression) runs through the "
        "same pipeline, for context.",
        "",
        accuracy_table,
        "",
        "Goals, on the mean over seeds: fcnn at least 0.95 accuracy and 0.40 r2; linear "
        f"and tree_dnn no more than {WITHIN} below those figures.",
        "",
        *goal_lines(rows),
        "",
        f"The same models over splits random_state {OTHER_SPLITS} (same test size, seed 0), "
        "mean ± std of the score, to show how much the figures above owe to the split.",
        "",
        split_table,
        "",
        f"Training time on {args.rows} synthetic rows of 20 features: per epoch (fixed "
        f"{args.epochs} epochs, no early stopping), and for a whole fit with the defaults "
        "(early stopping).",
        "",
        speed_table,
    ]
    _report.write_section(SECTION, "\n".join(lines))


def main(argv: Sequence[str] | None = None) -> int:
    """Measure, print, and record the figures in docs/benchmarks.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--rows", type=int, default=4000)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="2 seeds, 2,000 rows")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    if args.quick:
        args.seeds, args.rows = 2, 2000

    import torch

    torch.set_num_threads(args.threads)

    rows = measure_accuracy(args.seeds)
    splits = measure_other_splits()
    speed = measure_speed(args.rows, args.epochs)

    _report.print_table(
        ["data set", "model", "mean", "std", "min"],
        [[r["dataset"], r["model"], r["mean"], r["std"], r["min"]] for r in rows],
        title="Held-out scores",
    )
    _report.print_table(["data set", *MODELS, "sklearn"], splits, title="Other splits")
    _report.print_table(["model", "task", "ms/epoch", "s/fit", "epochs"], speed, title="Speed")
    print("\n".join(goal_lines(rows)))
    if not args.no_write:
        write_report(rows, splits, speed, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
