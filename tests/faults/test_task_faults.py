"""Tasks that die in every way a task can: each ends in the right state with a reason,
and the other tasks of the run finish."""

from __future__ import annotations

import json
import logging
import textwrap
import time
from pathlib import Path

import pytest

import executor
from executor.launchers.process import find_task_processes
from executor.outcome import TaskState

pytestmark = pytest.mark.timeout(120)

FAULTS = {
    "exits_non_zero": ("import sys\nsys.exit(7)\n", TaskState.FAILED, "exit code 7"),
    "segfaults": ("import ctypes\nctypes.string_at(0)\n", TaskState.FAILED, "SIGSEGV"),
    "killed_by_signal": (
        "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n",
        TaskState.FAILED,
        "SIGKILL",
    ),
    "raises": ("raise ValueError('bad column 3')\n", TaskState.FAILED, "bad column 3"),
    "hangs": ("import time\ntime.sleep(300)\n", TaskState.TIMED_OUT, "timed out"),
}


def test_every_fault_ends_in_its_state(in_hostile_cwd: Path) -> None:
    experiment = executor.Experiment("root")
    for name, (body, _, _) in FAULTS.items():
        (in_hostile_cwd / f"{name}.py").write_text(body)
        experiment.add_task(model=name, run_command=f"python {name}.py", timeout=3)
    (in_hostile_cwd / "fine.py").write_text("print('fine')\n")
    experiment.add_task(model="fine", run_command="python fine.py")

    results = experiment.run_tasks(num_jobs=2, grace=0.5)

    by_model = {outcome.key[0]: outcome for outcome in results.outcomes}
    for name, (_, state, reason) in FAULTS.items():
        assert by_model[name].state is state, name
        assert reason in (by_model[name].reason or ""), (name, by_model[name].reason)
    assert by_model["fine"].state is TaskState.SUCCEEDED


def test_children_forked_by_a_task_die_with_it(in_hostile_cwd: Path) -> None:
    (in_hostile_cwd / "forks.py").write_text(
        textwrap.dedent(
            """
            import subprocess, sys
            for _ in range(3):
                subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
            print("parent leaves")
            """
        )
    )
    experiment = executor.Experiment("root")
    experiment.add_task(model="forks", run_command="python forks.py")

    results = experiment.run_tasks()

    assert results.outcomes[0].state is TaskState.SUCCEEDED
    time.sleep(0.2)
    assert find_task_processes(experiment.root) == []


def test_garbage_in_the_workplace_is_survived(
    in_hostile_cwd: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (in_hostile_cwd / "vandal.py").write_text(
        textwrap.dedent(
            """
            import os
            from executor import get_info
            workplace = get_info(requires_data=False).workplace
            for name in ("__metrics__.json", "__outcome__.json", "__pid__.json"):
                with open(os.path.join(workplace, name), "wb") as f:
                    f.write(os.urandom(64))
            os.makedirs(os.path.join(workplace, "deep", "er"), exist_ok=True)
            open(os.path.join(workplace, "deep", "er", "x.bin"), "wb").write(b"1")
            """
        )
    )
    experiment = executor.Experiment("root")
    experiment.add_task(model="vandal", run_command="python vandal.py")

    with caplog.at_level(logging.WARNING, logger="executor"):
        results = experiment.run_tasks()

    outcome = results.outcomes[0]
    assert outcome.state is TaskState.SUCCEEDED
    assert results.metrics == [{}]
    assert "ignoring the metrics" in caplog.text
    assert "deep/er/x.bin" in outcome.artifacts
    stored = json.loads(Path(outcome.workplace, "__outcome__.json").read_text())
    assert stored["state"] == "succeeded"


def test_a_corrupt_outcome_is_reported_not_replaced(in_hostile_cwd: Path) -> None:
    (in_hostile_cwd / "fine.py").write_text("print('fine')\n")
    experiment = executor.Experiment("root")
    experiment.add_task(model="fine", run_command="python fine.py")
    experiment.run_tasks()
    outcome_file = experiment.root / "fine" / "0" / "__outcome__.json"
    outcome_file.write_text('{"contract_version": 1, "state": "succ')

    again = executor.Experiment("root")
    again.add_task(model="fine", run_command="python fine.py")
    with pytest.raises(executor.ContractError, match="not valid JSON") as caught:
        again.run_tasks()
    assert caught.value.path == str(outcome_file)
    assert outcome_file.read_text() == '{"contract_version": 1, "state": "succ'
