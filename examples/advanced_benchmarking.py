"""Advanced benchmarking: built-in models against scikit-learn ones, in one table.

Three built-in models (linear, fcnn, tree_dnn) and two scikit-learn regressors (SVR and
LinearSVR, trained by ``runs/run_sklearn.py``) train on one shared data bundle, each task
in its own workplace. The built-in pipelines are loaded with ``executor.task_loader``; the
scikit-learn models, which the executor cannot load itself, are unpickled and wrapped in
``executor.ModelPattern``. ``executor.evaluate`` then compares all five.

Run it from the repository root::

    python examples/advanced_benchmarking.py
    python examples/advanced_benchmarking.py --launcher docker --image executor:cpu

In a container the task sees the current directory read-only, so the script is named
relative to it; run from the repository root so that ``runs/run_sklearn.py`` is inside.
The sizes are small by default so that the whole run takes seconds, not minutes.
"""

from __future__ import annotations

import argparse
import os
import pickle
import shlex
from pathlib import Path
from typing import Any

import numpy as np

import executor

RUN_SKLEARN = Path(__file__).resolve().parent.parent / "runs" / "run_sklearn.py"
BUILTIN_MODELS = ["linear", "fcnn", "tree_dnn"]
SKLEARN_MODELS = ["svr", "linear_svr"]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default="__experiment__", help="the experiment root folder")
    parser.add_argument("--rows", type=int, default=1000, help="number of samples")
    parser.add_argument("--epochs", type=int, default=5, help="epochs of the built-in models")
    parser.add_argument("--num-jobs", type=int, default=2, help="tasks running at once")
    parser.add_argument("--launcher", choices=["process", "docker"], default=None)
    parser.add_argument("--image", default=None, help="the image every task runs in")
    parser.add_argument("--save", default=None, help="also save the comparison (.json, ...)")
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def script_command(script: Path) -> str:
    """``python <script>``, relative to the current directory when the script is under it."""
    relative = os.path.relpath(script)
    shown = script if relative.startswith("..") else Path(relative)
    return f"python {shlex.quote(shown.as_posix())}"


def sklearn_pattern(model_file: str) -> executor.ModelPattern:
    """Unpickle a scikit-learn model and wrap its predictions as column vectors."""
    with open(model_file, "rb") as stream:
        sk_model = pickle.load(stream)

    # Labels are column vectors in executor, so the 1-D outputs are reshaped. Each call
    # binds its own model, so that every pattern predicts with the model it was made for.
    def predict(x: Any) -> Any:
        return sk_model.predict(x).reshape([-1, 1])

    return executor.ModelPattern(predict_method=predict)


def main(argv: list[str] | None = None) -> executor.Comparison:
    args = parse_args(argv)
    rng = np.random.default_rng(args.seed)
    x = rng.random([args.rows, 10])
    y = rng.random([args.rows, 1])

    experiment = executor.Experiment(args.root)
    data_folder = experiment.dump_data_bundle(x, y)

    # Add the built-in tasks
    config = {"num_epochs": args.epochs, "seed": args.seed}
    for model in BUILTIN_MODELS:
        experiment.add_task(model=model, config=config, data_folder=data_folder)
    # Add scikit-learn tasks
    run_command = script_command(RUN_SKLEARN)
    for model in SKLEARN_MODELS:
        experiment.add_task(model=model, run_command=run_command, data_folder=data_folder)

    results = experiment.run_tasks(num_jobs=args.num_jobs, launcher=args.launcher, image=args.image)
    results.raise_for_failures()

    pipelines = {}
    scikit_patterns = {}
    for workplace, workplace_key in zip(results.workplaces, results.workplace_keys, strict=True):
        model = workplace_key[0]
        if model not in SKLEARN_MODELS:
            pipelines[model] = executor.task_loader(workplace)
        else:
            model_file = os.path.join(workplace, "sk_model.pkl")
            scikit_patterns[model] = sklearn_pattern(model_file)

    comparison = executor.evaluate(x, y, pipelines=pipelines, other_patterns=scikit_patterns)
    if args.save:
        comparison.save(args.save)
    return comparison


if __name__ == "__main__":
    main()
