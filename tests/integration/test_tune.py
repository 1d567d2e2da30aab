"""tune_with end to end: built-in models, a custom script objective, failures, resume."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import executor
from executor.errors import ConfigError, InvalidInputError, SearchFailedError
from executor.experiment import Experiment

pytestmark = pytest.mark.timeout(280)

REPO = Path(__file__).resolve().parents[2]
TEST_FUNCTIONS = REPO / "runs" / "test_functions.py"
BRANIN = {"x1": executor.Float(-5.0, 10.0), "x2": executor.Float(0.0, 15.0)}

COUNTING_TASK = """
import executor

info = executor.get_info(requires_data=False)
with open(info.kwargs["log"], "a", encoding="utf-8") as stream:
    stream.write(info.workplace + "\\n")
executor.report({"loss": (info.kwargs["x"] - 0.25) ** 2})
"""


def branin(x1: float, x2: float) -> float:
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


def iris() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_iris

    x, y = load_iris(return_X_y=True)
    return x, y


def test_builtin_model_on_iris_scores_on_a_held_out_split(tmp_path: Path) -> None:
    x, y = iris()

    result = executor.tune_with(
        x,
        y,
        task_type="clf",
        num_search=2,
        num_repeat=1,
        num_parallel=2,
        search="random",
        config={"num_epochs": 2, "hidden_units": [8]},
        root=tmp_path / "tune",
        progress=False,
    )

    assert result.best_param["model"] == "fcnn"
    assert result.best_param["optimizer"] in ("sgd", "rmsprop", "adam")
    assert 1e-5 <= result.best_param["optimizer_config"]["lr"] <= 0.1
    assert result.best_param["num_epochs"] == 2
    executor.make(**result.best_param).fit(x, y)

    assert result.metrics == ["acc", "auc"] and result.objective == "acc" and result.maximize
    assert len(result.trials) == 2 and all(trial.state == "complete" for trial in result.trials)
    table = result.table()
    assert all(trial.code in table for trial in result.trials)
    assert f"best ({result.best_code})" in result.best_params_text()

    held = result.split["validation_rows"] if result.split else []
    assert len(held) == 30 and result.split and result.split["stratified"]
    assert np.bincount(y[held]).tolist() == [10, 10, 10]
    meta = json.loads(Path(result.trials[0].workplaces[0], "__meta__.json").read_text())
    bundle = result.root / meta["data_folder"]
    trained_on, scored_on = np.load(bundle / "x.npy"), np.load(bundle / "x_cv.npy")
    assert len(trained_on) == 120 and np.array_equal(scored_on, x[held])
    assert meta["config"]["seed"] == 0

    plot = result.plot(tmp_path / "search.png")
    assert plot.stat().st_size > 0


def test_custom_script_objective_is_minimised(hostile_dir: Path) -> None:
    result = executor.tune_with(
        params=BRANIN,
        config={"function": "branin"},
        model="branin",
        run_command=["python", str(TEST_FUNCTIONS)],
        objective="value",
        maximize=False,
        num_search=4,
        num_repeat=1,
        num_parallel=2,
        search="random",
        root=hostile_dir / "tune",
        progress=False,
    )

    values = [trial.value for trial in result.trials]
    assert result.best_value == min(v for v in values if v is not None)
    for trial in result.trials:
        assert trial.value == pytest.approx(branin(trial.params["x1"], trial.params["x2"]))
        assert trial.metrics[0]["value"] == trial.value
        assert Path(trial.workplaces[0]).parent.name == "branin"
    assert result.best_param["function"] == "branin" and result.best_param["model"] == "branin"
    best_so_far = result.best_so_far()
    assert best_so_far[-1] == result.best_value
    assert all(a >= b for a, b in zip(best_so_far, best_so_far[1:], strict=False) if a and b)


def test_failed_candidates_are_recorded_and_the_search_goes_on(tmp_path: Path) -> None:
    result = executor.tune_with(
        params={**BRANIN, "fail": executor.Choice([True, False])},
        config={"function": "branin"},
        model="branin",
        run_command=["python", str(TEST_FUNCTIONS)],
        objective="value",
        maximize=False,
        num_search=5,
        num_repeat=1,
        search="grid",
        search_options={"num_points": 1},
        root=tmp_path / "tune",
        progress=False,
    )

    assert len(result.trials) == 2
    assert [trial.params["fail"] for trial in result.failed] == [True]
    assert "asked to fail" in result.failed[0].failure_reason
    assert result.best_param["fail"] is False
    assert "-" in result.table()


def test_every_candidate_failing_raises_with_the_reasons(tmp_path: Path) -> None:
    with pytest.raises(SearchFailedError, match="asked to fail by its config") as caught:
        executor.tune_with(
            params=BRANIN,
            config={"function": "branin", "fail": True},
            model="branin",
            run_command=["python", str(TEST_FUNCTIONS)],
            objective="value",
            num_search=2,
            num_repeat=1,
            search="random",
            root=tmp_path / "tune",
            progress=False,
        )

    assert "every one of the 2 candidates failed" in str(caught.value)
    assert Path(caught.value.state_file).is_file()


def test_resume_after_interruptions_runs_nothing_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = tmp_path / "counting_task.py"
    script.write_text(COUNTING_TASK, encoding="utf-8")
    log = tmp_path / "runs.log"
    arguments: dict[str, Any] = {
        "params": {"x": executor.Float(0.0, 1.0)},
        "config": {"log": str(log)},
        "model": "counting",
        "run_command": ["python", str(script)],
        "objective": "loss",
        "maximize": False,
        "num_search": 4,
        "num_repeat": 2,
        "num_parallel": 2,
        "search": "random",
        "root": tmp_path / "tune",
        "progress": False,
    }

    original = Experiment.run_tasks
    calls = {"count": 0}

    def interrupt_after_second_round(self: Experiment, *args: Any, **kwargs: Any) -> Any:
        calls["count"] += 1
        if calls["count"] == 2:
            original(self, *args, **kwargs)
            raise KeyboardInterrupt  # the tasks ran; their scores were never told
        if calls["count"] == 3:
            raise KeyboardInterrupt  # the round was saved as running but never started
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Experiment, "run_tasks", interrupt_after_second_round)
    with pytest.raises(KeyboardInterrupt):
        executor.tune_with(**arguments)
    state_file = next((tmp_path / "tune" / "__search__").glob("*.json"))
    saved = json.loads(state_file.read_text())
    assert [c["state"] for c in saved["candidates"]] == ["complete", "running"]

    with pytest.raises(KeyboardInterrupt):
        executor.tune_with(**arguments)
    monkeypatch.setattr(Experiment, "run_tasks", original)
    result = executor.tune_with(**arguments)

    ran = log.read_text().splitlines()
    assert len(ran) == len(set(ran)) == 8
    assert len(result.trials) == 4 and all(trial.state == "complete" for trial in result.trials)
    assert sorted(ran) == sorted(w for trial in result.trials for w in trial.workplaces)

    again = executor.tune_with(**arguments)
    assert log.read_text().splitlines() == ran
    assert again.best_code == result.best_code

    more = executor.tune_with(**{**arguments, "num_search": 5})
    assert len(log.read_text().splitlines()) == 10 and len(more.trials) == 5
    assert [trial.params for trial in more.trials[:4]] == [t.params for t in result.trials]


def test_bad_inputs_fail_before_any_task(tmp_path: Path) -> None:
    x, y = iris()

    with pytest.raises(InvalidInputError, match="objective"):
        executor.tune_with(params=BRANIN, run_command=["python", str(TEST_FUNCTIONS)])
    with pytest.raises(InvalidInputError, match="params are needed"):
        executor.tune_with(x, y, model="sklearn.svm.SVC", root=tmp_path / "t")
    with pytest.raises(ConfigError, match="unknown config key"):
        executor.tune_with(x, y, config={"num_epoch": 2}, root=tmp_path / "t")
    with pytest.raises(ConfigError, match="seed"):
        executor.tune_with(x, y, config={"seed": 2}, root=tmp_path / "t")
    with pytest.raises(InvalidInputError, match="reports only"):
        executor.tune_with(x, y, task_type="clf", objective="mae", root=tmp_path / "t")
    with pytest.raises(InvalidInputError, match="num_search"):
        executor.tune_with(x, y, num_search=0, root=tmp_path / "t")
    assert not list((tmp_path / "t").glob("fcnn/*"))
