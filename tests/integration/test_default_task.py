"""The built-in task end to end: a real subprocess trains, saves, reports and is loaded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import executor
from executor.errors import ModelNotFoundError
from executor.outcome import TaskState

pytestmark = pytest.mark.timeout(240)

FAST = {"num_epochs": 5, "seed": 11}


def labelled_data(rows: int = 120) -> tuple[np.ndarray, np.ndarray]:
    generator = np.random.default_rng(0)
    x = generator.normal(size=(rows, 4))
    y = np.where(x[:, 0] + x[:, 1] > 0, "up", "down")
    return x, y


def test_default_task_trains_saves_and_reports(in_hostile_cwd: Path) -> None:
    x, y = labelled_data()
    experiment = executor.Experiment()
    experiment.add_task(x[:90], y[:90], x[90:], y[90:], model="fcnn", config=FAST)

    results = experiment.run_tasks(task_loader=executor.task_loader)

    outcome = results.outcomes[0]
    assert outcome.state is TaskState.SUCCEEDED, outcome.describe()
    assert set(results.metrics[0]) == {"acc", "auc"}
    assert 0.0 <= results.metrics[0]["acc"] <= 1.0

    pipeline = results.pipelines[0]
    assert pipeline.model == "fcnn"
    assert pipeline.config["seed"] == 11
    assert pipeline.training["device"] == "cpu"
    assert set(pipeline.predict(x[90:])[:, 0]) <= {"up", "down"}

    saved = Path(results.workplaces[0]) / "model"
    assert json.loads((saved / "pipeline.json").read_text())["task_type"] == "clf"
    predictions = executor.task_loader(results.workplaces[0]).predict(x[90:])
    accuracy = float(np.mean(predictions[:, 0] == y[90:]))
    assert accuracy == pytest.approx(results.metrics[0]["acc"])


def test_default_task_regression_and_sklearn_models(in_hostile_cwd: Path) -> None:
    generator = np.random.default_rng(2)
    x = generator.normal(size=(100, 3))
    y = x @ [1.0, -2.0, 0.5] + 3.0
    experiment = executor.Experiment("root")
    data_folder = experiment.dump_data_bundle(x[:80], y[:80], x[80:], y[80:])
    experiment.add_task(model="linear", config=FAST, data_folder=data_folder)
    experiment.add_task(model="sklearn.linear_model.Ridge", data_folder=data_folder)

    results = experiment.run_tasks(num_jobs=2, task_loader=executor.task_loader)

    results.raise_for_failures()
    assert [set(metrics) for metrics in results.metrics] == [{"mae", "mse"}] * 2
    assert results.metrics[1]["mae"] < 0.1
    assert type(results.pipelines[1]).__name__ == "SklearnPipeline"


def test_a_failing_task_says_why_and_has_no_model(in_hostile_cwd: Path) -> None:
    x, y = labelled_data()
    experiment = executor.Experiment()
    experiment.add_task(x, y, model="fcnn", config={"hiden_units": [4]})

    results = experiment.run_tasks(task_loader=executor.task_loader)

    outcome = results.outcomes[0]
    assert outcome.state is TaskState.FAILED
    assert "hiden_units" in (outcome.reason or "")
    assert results.pipelines == [None]
    with pytest.raises(ModelNotFoundError, match="no saved model"):
        executor.task_loader(results.workplaces[0])


def test_without_x_cv_the_task_saves_but_reports_nothing(in_hostile_cwd: Path) -> None:
    x, y = labelled_data()
    experiment = executor.Experiment()
    experiment.add_task(x, y, model="tree_dnn", config=FAST)

    results = experiment.run_tasks(task_loader=executor.task_loader)

    assert results.outcomes[0].succeeded, results.outcomes[0].describe()
    assert results.metrics == [{}]
    assert results.pipelines[0].training["validation"] == "held_out"


def test_running_outside_a_task_exits_non_zero(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if key != "EXECUTOR_WORKPLACE"}
    finished = subprocess.run(
        [sys.executable, "-m", "executor.task"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert finished.returncode == 1
    assert "EXECUTOR_WORKPLACE" in finished.stderr
