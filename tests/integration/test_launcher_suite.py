"""The suite every launcher must pass: the same tasks, run as processes and as containers.

Every test runs in a current directory and under a root whose names hold spaces, quotes,
a semicolon and non-ASCII letters.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import executor
from executor.outcome import TaskState

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(
    params=[
        "process",
        pytest.param("docker", marks=pytest.mark.docker),
        pytest.param("ray", marks=pytest.mark.ray),
    ]
)
def mode(request: pytest.FixtureRequest) -> dict[str, Any]:
    """How to run: keyword arguments for ``run_tasks``."""
    if request.param == "process":
        return {"launcher": "process"}
    if request.param == "ray":
        return {"launcher": "process", **request.getfixturevalue("ray_backend")}
    image = request.getfixturevalue("lean_image")
    return {"launcher": "docker", "image": image}


def write_script(folder: Path, name: str, body: str) -> str:
    (folder / name).write_text(textwrap.dedent(body), encoding="utf-8")
    return f"python {name}"


def test_contract_round_trip(in_hostile_cwd: Path, mode: dict[str, Any]) -> None:
    command = write_script(
        in_hostile_cwd,
        "round_trip.py",
        """
        import json, os
        from executor import get_info, report
        info = get_info()
        x, y, x_cv, y_cv = info.data_list
        print("rows", x.shape[0], "model", info.kwargs["model"], flush=True)
        with open(os.path.join(info.workplace, "artifact.json"), "w") as f:
            json.dump({"alpha": info.kwargs["alpha"], "cv": x_cv is None}, f)
        report({"total": float(x.sum()), "step": 1})
        report({"total": float(x.sum() + y.sum()), "step": 2})
        """,
    )
    experiment = executor.Experiment(in_hostile_cwd / "root ünï")
    x = np.arange(12, dtype=float).reshape(4, 3)
    y = np.ones((4, 1))
    key = experiment.add_task(x, y, model="probe", config={"alpha": 0.5}, run_command=command)

    results = experiment.run_tasks(**mode)

    outcome = results.outcomes[0]
    assert key == ("probe", "0")
    assert outcome.state is TaskState.SUCCEEDED, outcome.reason
    assert outcome.exit_code == 0
    assert "artifact.json" in outcome.artifacts
    assert results.metrics[0] == {"total": 70.0, "step": 2}
    workplace = Path(results.workplaces[0])
    assert workplace == experiment.root / "probe" / "0"
    assert (workplace / "artifact.json").read_text() == '{"alpha": 0.5, "cv": true}'
    assert "rows 4 model probe" in (workplace / "_logs" / "attempt-1.stdout").read_text()
    history = executor.contract.read_json(workplace / "__metrics__.json")["history"]
    assert [entry["metrics"]["step"] for entry in history] == [1, 2]


def test_failure_is_captured_and_others_finish(in_hostile_cwd: Path, mode: dict[str, Any]) -> None:
    crash = write_script(
        in_hostile_cwd,
        "crash.py",
        """
        import sys
        print("the data was wrong: column 7", file=sys.stderr)
        sys.exit(3)
        """,
    )
    own_reason = write_script(
        in_hostile_cwd,
        "own_reason.py",
        """
        import sys
        from executor import report_failure
        report_failure("learning rate diverged at epoch 2")
        sys.exit(1)
        """,
    )
    fine = write_script(in_hostile_cwd, "fine.py", "print('ok')\n")
    experiment = executor.Experiment(in_hostile_cwd / "root")
    experiment.add_task(model="crash", run_command=crash)
    experiment.add_task(model="own", run_command=own_reason)
    experiment.add_task(model="fine", run_command=fine)

    results = experiment.run_tasks(num_jobs=2, **mode)

    crashed, reasoned, finished = results.outcomes
    assert crashed.state is TaskState.FAILED
    assert crashed.exit_code == 3
    assert "the data was wrong: column 7" in (crashed.reason or "")
    assert reasoned.state is TaskState.FAILED
    assert "learning rate diverged at epoch 2" in (reasoned.reason or "")
    assert finished.state is TaskState.SUCCEEDED
    with pytest.raises(executor.TaskFailedError, match="2 of 3 task"):
        results.raise_for_failures()


def test_timeout_kills_the_task(in_hostile_cwd: Path, mode: dict[str, Any]) -> None:
    hang = write_script(
        in_hostile_cwd,
        "hang.py",
        """
        import time
        print("started", flush=True)
        time.sleep(120)
        """,
    )
    experiment = executor.Experiment(in_hostile_cwd / "root")
    experiment.add_task(model="hang", run_command=hang, timeout=2)

    results = experiment.run_tasks(grace=1.0, **mode)

    outcome = results.outcomes[0]
    assert outcome.state is TaskState.TIMED_OUT
    assert "timed out after 2" in (outcome.reason or "")
    assert outcome.duration is not None and outcome.duration < 60


def test_retries_keep_every_attempt(in_hostile_cwd: Path, mode: dict[str, Any]) -> None:
    flaky = write_script(
        in_hostile_cwd,
        "flaky.py",
        """
        import os, sys
        from executor import get_info
        marker = os.path.join(get_info(requires_data=False).workplace, "tried")
        if not os.path.exists(marker):
            open(marker, "w").close()
            print("first try fails", file=sys.stderr)
            sys.exit(5)
        print("second try works")
        """,
    )
    experiment = executor.Experiment(in_hostile_cwd / "root")
    experiment.add_task(model="flaky", run_command=flaky)

    results = experiment.run_tasks(retries=2, retry_delay=0.1, **mode)

    outcome = results.outcomes[0]
    assert outcome.state is TaskState.SUCCEEDED
    assert [attempt.exit_code for attempt in outcome.attempts] == [5, 0]
    logs = Path(outcome.workplace) / "_logs"
    assert "first try fails" in (logs / "attempt-1.stderr").read_text()
    assert "second try works" in (logs / "attempt-2.stdout").read_text()


def test_a_stopped_task_gets_its_grace_period(in_hostile_cwd: Path, mode: dict[str, Any]) -> None:
    graceful = write_script(
        in_hostile_cwd,
        "graceful.py",
        """
        import os, signal, sys, time
        from executor import get_info
        workplace = get_info(requires_data=False).workplace

        def leave(signum, frame):
            time.sleep(0.5)
            with open(os.path.join(workplace, "cleaned_up.txt"), "w") as f:
                f.write("saved a checkpoint")
            sys.exit(0)

        signal.signal(signal.SIGTERM, leave)
        print("started", flush=True)
        time.sleep(120)
        """,
    )
    experiment = executor.Experiment(in_hostile_cwd / "root")
    experiment.add_task(model="graceful", run_command=graceful, timeout=3)

    results = experiment.run_tasks(grace=5.0, **mode)

    outcome = results.outcomes[0]
    assert outcome.state is TaskState.TIMED_OUT
    assert (Path(outcome.workplace) / "cleaned_up.txt").read_text() == "saved a checkpoint"
