"""repeat_with: repeats of several models through one Experiment, seeds, failures, errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import executor
from executor.errors import ConfigError, InvalidInputError, TaskFailedError, UnknownNameError
from executor.outcome import TaskState

pytestmark = pytest.mark.timeout(240)

FAST = {"num_epochs": 3}


def labelled_data(rows: int = 100) -> tuple[np.ndarray, ...]:
    generator = np.random.default_rng(4)
    x = generator.normal(size=(rows, 3))
    y = np.where(x[:, 0] > 0, "yes", "no")
    return x[:80], y[:80], x[80:], y[80:]


def test_two_models_two_repeats_in_parallel(tmp_path: Path) -> None:
    x, y, x_cv, y_cv = labelled_data()

    result = executor.repeat_with(
        x,
        y,
        x_cv,
        y_cv,
        models=["linear", "fcnn"],
        num_repeat=2,
        num_jobs=2,
        config={"linear": FAST, "fcnn": {**FAST, "hidden_units": [4]}},
        root=tmp_path / "repeat",
        seed=10,
    )

    assert result.succeeded
    assert {name: len(pipelines) for name, pipelines in result.pipelines.items()} == {
        "linear": 2,
        "fcnn": 2,
    }
    assert result.seeds == {"linear": [10, 11], "fcnn": [10, 11]}
    assert result.pipelines["fcnn"][0].config["hidden_units"] == [4]
    assert [p.config["seed"] for p in result.pipelines["linear"]] == [10, 11]
    assert all(o.state is TaskState.SUCCEEDED for o in result.outcomes["fcnn"])

    metas = [json.loads(Path(w, "__meta__.json").read_text()) for w in result.results.workplaces]
    assert sorted(meta["config"]["seed"] for meta in metas) == [10, 10, 11, 11]
    assert result.experiment.root == (tmp_path / "repeat").absolute()
    assert all(set(metrics) == {"acc", "auc"} for metrics in result.results.metrics)


def test_failed_repeats_are_reported_not_dropped(tmp_path: Path) -> None:
    x, y, x_cv, y_cv = labelled_data()

    result = executor.repeat_with(
        x,
        y,
        models=["linear", "fcnn"],
        num_repeat=2,
        num_jobs=2,
        config={"linear": {**FAST, "task_type": "reg"}, "fcnn": FAST},
        root=tmp_path,
    )

    assert not result.succeeded
    assert result.pipelines["linear"] == []
    assert len(result.pipelines["fcnn"]) == 2
    assert len(result.failures) == 2
    assert all("regression needs a numeric" in (o.reason or "") for o in result.failures)
    assert [o.state for o in result.outcomes["linear"]] == [TaskState.FAILED] * 2
    with pytest.raises(TaskFailedError):
        result.raise_for_failures()


def test_every_repeat_failing_raises_with_the_reasons(tmp_path: Path) -> None:
    x, y, _, _ = labelled_data()
    with pytest.raises(TaskFailedError, match="regression needs a numeric"):
        executor.repeat_with(
            x, y, models="linear", num_repeat=1, config={"task_type": "reg"}, root=tmp_path
        )


@pytest.mark.parametrize("num_repeat", [0, -1, 1.5, True])
def test_num_repeat_below_one_is_refused(num_repeat: object, tmp_path: Path) -> None:
    x, y, _, _ = labelled_data()
    with pytest.raises(InvalidInputError, match="num_repeat"):
        executor.repeat_with(x, y, num_repeat=num_repeat, root=tmp_path / "r")  # type: ignore[arg-type]
    assert not (tmp_path / "r").exists()


def test_bad_models_and_configs_fail_before_any_task(tmp_path: Path) -> None:
    x, y, _, _ = labelled_data()
    root = tmp_path / "r"
    with pytest.raises(UnknownNameError, match="fcn"):
        executor.repeat_with(x, y, models=["fcn"], root=root)
    with pytest.raises(ConfigError, match="hiden_units"):
        executor.repeat_with(x, y, config={"hiden_units": [2]}, root=root)
    with pytest.raises(ConfigError, match="seed"):
        executor.repeat_with(x, y, config={"seed": 3}, root=root)
    with pytest.raises(ConfigError, match="mixes"):
        executor.repeat_with(x, y, models=["fcnn"], config={"fcnn": {}, "num_epochs": 2}, root=root)
    assert not root.exists()
