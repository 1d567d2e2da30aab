"""Bad input across the public API: each is one clear error that names the input and what
was expected, and nothing is written or lost."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import executor
from executor.errors import ExecutorError

pytestmark = pytest.mark.timeout(60)

X = np.random.default_rng(0).random((20, 3))
Y = np.arange(20) % 2


def add(**kwargs: Any) -> Callable[[executor.Experiment], Any]:
    def call(experiment: executor.Experiment) -> Any:
        arrays = {key: kwargs.pop(key) for key in ("x", "y", "x_cv", "y_cv") if key in kwargs}
        return experiment.add_task(**arrays, **kwargs)

    return call


class run:
    """A ``run_tasks`` call on an experiment prepared with one task."""

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs

    def prepare(self, experiment: executor.Experiment) -> None:
        experiment.add_task(model="probe", run_command="python probe.py")

    def __call__(self, experiment: executor.Experiment) -> Any:
        return experiment.run_tasks(**self.kwargs)


def space(params: dict[str, Any]) -> Callable[[executor.Experiment], Any]:
    from executor.hpo.space import SearchSpace

    return lambda experiment: SearchSpace(params)


def dump(*arrays: Any) -> Callable[[executor.Experiment], Any]:
    return lambda experiment: experiment.dump_data_bundle(*arrays)


def twice(key: tuple[str, str]) -> Callable[[executor.Experiment], Any]:
    def call(experiment: executor.Experiment) -> Any:
        experiment.add_task(model="probe", run_command="python probe.py", workplace_key=key)
        experiment.add_task(model="probe", run_command="python probe.py", workplace_key=key)

    return call


def make(model: str, **config: Any) -> Callable[[executor.Experiment], Any]:
    return lambda experiment: executor.make(model, **config)


def evaluate(**kwargs: Any) -> Callable[[executor.Experiment], Any]:
    def call(experiment: executor.Experiment) -> Any:
        pattern = executor.ModelPattern(predict_method=lambda x: np.zeros((len(x), 1)))
        return executor.evaluate(X, Y, other_patterns={"zero": pattern}, **kwargs)

    return call


CASES: list[tuple[str, Callable[[executor.Experiment], Any], type[Exception], str]] = [
    ("x is 1-D", dump(np.ones(5), np.ones(5)), executor.DataError, "x must be 2-D"),
    ("x is 3-D", dump(np.ones((5, 2, 2)), np.ones(5)), executor.DataError, "x must be 2-D"),
    ("y rows differ", dump(X, Y[:10]), executor.DataError, "x has 20 rows but y has 10"),
    ("NaN labels", dump(X, np.where(Y, np.nan, 1.0)), executor.DataError, "NaN"),
    ("NaN features", dump(np.full((20, 3), np.nan), Y), executor.DataError, "NaN"),
    ("string features", dump(np.full((20, 3), "a"), Y), executor.DataError, "expected numbers"),
    ("object labels", dump(X, np.array([object()] * 20)), executor.DataError, "dtype object"),
    ("x_cv without y_cv", dump(X, Y, X, None), executor.DataError, "given together"),
    ("x_cv columns", dump(X, Y, X[:, :2], Y), executor.DataError, "x_cv has 2 columns"),
    ("y_cv rows", dump(X, Y, X, Y[:3]), executor.DataError, "x_cv has 20 rows but y_cv has 3"),
    ("empty x", dump(np.ones((0, 3)), np.ones(0)), executor.DataError, "no rows"),
    (
        "non-JSON config",
        add(model="probe", run_command="python probe.py", config={"f": {"g": object()}}),
        executor.ConfigError,
        "'f.g'",
    ),
    (
        "NaN in config",
        add(model="probe", run_command="python probe.py", config={"lr": float("nan")}),
        executor.ConfigError,
        "'lr'",
    ),
    (
        "config not a dict",
        add(model="probe", run_command="x", config=[1]),
        executor.ConfigError,
        "must be a dict",
    ),
    ("unknown built-in model", add(x=X, y=Y, model="gbdt"), executor.UnknownNameError, "'gbdt'"),
    ("key with ..", twice(("probe", "..")), executor.WorkplaceKeyError, "plain folder name"),
    ("key with separator", twice(("probe", "a/b")), executor.WorkplaceKeyError, "separator"),
    ("empty key part", twice(("", "0")), executor.WorkplaceKeyError, "non-empty"),
    ("reserved key", twice(("__data__", "0")), executor.WorkplaceKeyError, "reserved"),
    ("duplicate key", twice(("probe", "best")), executor.WorkplaceKeyError, "already used"),
    (
        "missing script",
        add(model="m", run_command="python nowhere.py"),
        executor.InvalidInputError,
        "nowhere.py",
    ),
    (
        "empty command",
        add(model="m", run_command="  "),
        executor.InvalidInputError,
        "run_command is empty",
    ),
    (
        "unbalanced quote",
        add(model="m", run_command="python 'a.py"),
        executor.InvalidInputError,
        "cannot be split",
    ),
    (
        "negative timeout",
        add(model="m", run_command="python probe.py", timeout=-1),
        executor.InvalidInputError,
        "timeout must be more than zero",
    ),
    (
        "negative retries",
        add(model="m", run_command="python probe.py", retries=-2),
        executor.InvalidInputError,
        "retries",
    ),
    (
        "unknown launcher",
        add(model="m", run_command="python probe.py", launcher="slurm"),
        executor.UnknownNameError,
        "slurm",
    ),
    (
        "data folder not a bundle",
        add(model="m", run_command="python probe.py", data_folder="."),
        executor.DataError,
        "not a bundle",
    ),
    (
        "arrays and data folder",
        add(x=X, y=Y, model="m", run_command="python probe.py", data_folder="."),
        executor.InvalidInputError,
        "not both",
    ),
    ("num_jobs zero", run(num_jobs=0), executor.InvalidInputError, "num_jobs"),
    ("negative run timeout", run(timeout=-3), executor.InvalidInputError, "timeout"),
    ("unknown backend", run(backend="mpi"), executor.UnknownNameError, "mpi"),
    ("unknown lock mode", run(lock="maybe"), executor.InvalidInputError, "lock"),
    ("ray option on local", run(address="auto"), executor.InvalidInputError, "backend='ray'"),
    ("more GPUs than exist", add(model="m", run_command="python probe.py", gpus=2), None, ""),
    ("bad cuda_list", run(cuda_list=[0, 0]), executor.InvalidInputError, "same GPU id twice"),
    ("docker without image", run(launcher="docker"), executor.InvalidInputError, "needs an image"),
    ("unknown model in make", make("gbdt"), executor.UnknownNameError, "gbdt"),
    ("unknown config key", make("fcnn", learning_rate=0.1), executor.ConfigError, "learning_rate"),
    ("unknown metric", evaluate(metrics=["accuracy"]), executor.UnknownNameError, "accuracy"),
    ("prob metric without prob", evaluate(metrics=["auc"]), ExecutorError, "zero"),
    (
        "inverted bounds",
        space({"optimizer_config": {"lr": executor.Float(1.0, 0.1)}}),
        executor.SearchSpaceError,
        "optimizer_config.lr",
    ),
    (
        "log with low <= 0",
        space({"lr": executor.Float(0.0, 1.0, log=True)}),
        executor.SearchSpaceError,
        "log-scaled",
    ),
    (
        "empty choice",
        space({"optimizer": executor.Choice([])}),
        executor.SearchSpaceError,
        "optimizer",
    ),
    (
        "Int with inverted bounds",
        space({"depth": executor.Int(5, 2)}),
        executor.SearchSpaceError,
        "depth",
    ),
]


@pytest.mark.parametrize(
    ("name", "call", "error", "message"), CASES, ids=[case[0] for case in CASES]
)
def test_bad_input(
    name: str,
    call: Callable[[executor.Experiment], Any],
    error: type[Exception] | None,
    message: str,
    in_hostile_cwd: Path,
) -> None:
    (in_hostile_cwd / "probe.py").write_text("print('probe')\n")
    experiment = executor.Experiment("root")
    prepare = getattr(call, "prepare", None)
    if prepare is not None:
        prepare(experiment)
    before = snapshot(in_hostile_cwd)

    if error is None:  # a case whose error comes at run time: more GPUs than exist
        call(experiment)
        with pytest.raises(executor.ResourceError, match="asks for 2 GPU"):
            experiment.run_tasks(cuda_list=[0])
        assert not list((in_hostile_cwd / "root").rglob("__outcome__.json"))
        return

    with pytest.raises(error) as caught:
        call(experiment)
    assert message in str(caught.value), str(caught.value)
    assert isinstance(caught.value, ExecutorError)
    if name not in ("duplicate key",):
        assert snapshot(in_hostile_cwd) == before


def snapshot(folder: Path) -> list[str]:
    return sorted(
        str(path.relative_to(folder))
        for path in folder.rglob("*")
        if path.is_file() and "__data__" not in path.parts and not path.name.startswith(".")
    )


def test_root_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "root").write_text("mine")
    with pytest.raises(executor.InvalidInputError, match="not a folder"):
        executor.Experiment(tmp_path / "root")
    assert (tmp_path / "root").read_text() == "mine"


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write into read-only folders")
def test_read_only_root(tmp_path: Path) -> None:
    (tmp_path / "root").mkdir(mode=0o500)
    with pytest.raises(executor.InvalidInputError, match="not writable"):
        executor.Experiment(tmp_path / "root")
