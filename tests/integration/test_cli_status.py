"""``executor status`` on roots written directly through the contract: many tasks, every
state, a stale running task, a torn outcome file.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_cli_support import run_cli

from executor.contract import CONTRACT_VERSION, RootLayout, write_json_atomic
from executor.outcome import Attempt, Outcome, TaskState

pytestmark = pytest.mark.timeout(120)


def make_task(root: Path, model: str, name: str, state: TaskState | None, **extra: object) -> None:
    workplace = RootLayout(root).workplace(model, name)
    write_json_atomic(workplace.meta_file, {"contract_version": CONTRACT_VERSION, "model": model})
    if state is None:
        return
    attempts = [
        Attempt(number=1, started_at="2026-01-01T00:00:00", host="here", duration=2.5)
    ] * int(extra.get("attempts", 1))  # type: ignore[call-overload]
    outcome = Outcome(
        key=(model, name),
        workplace=str(workplace.path),
        state=state,
        fingerprint="f",
        attempts=list(attempts),
        reason=extra.get("reason"),  # type: ignore[arg-type]
    )
    outcome.save()


def test_many_tasks_every_state(tmp_path: Path) -> None:
    root = tmp_path / "root"
    for index in range(1500):
        make_task(root, "fcnn", str(index), TaskState.SUCCEEDED)
    make_task(
        root,
        "linear",
        "0",
        TaskState.FAILED,
        attempts=3,
        reason="exit code 1; stderr tail:\nTraceback (most recent call last):\nValueError: bad x",
    )
    make_task(root, "linear", "1", TaskState.TIMED_OUT, reason="timed out after 5s and was killed")
    make_task(root, "linear", "2", None)

    result = run_cli("status", "root", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1 + 1503 + 1
    assert lines[1].split()[:2] == ["fcnn/0", "succeeded"]
    assert lines[2].split()[0] == "fcnn/1"
    assert lines[1500].split()[0] == "fcnn/1499"
    failed = lines[1501].split()
    assert failed[:4] == ["linear/0", "failed", "3", "2.5s"]
    assert lines[1501].endswith("exit code 1; stderr tail: ValueError: bad x")
    assert lines[1503].split()[:3] == ["linear/2", "pending", "0"]
    assert lines[-1] == "1503 task(s): 1 failed, 1 pending, 1500 succeeded, 1 timed_out"

    report = json.loads(run_cli("status", "root", "--json", cwd=tmp_path).stdout)
    assert report["totals"] == {"failed": 1, "pending": 1, "succeeded": 1500, "timed_out": 1}
    assert report["active_run"] is None
    assert report["tasks"][1500]["reason"].endswith("ValueError: bad x")
    assert report["tasks"][0]["workplace"] == str(root / "fcnn" / "0")

    only = run_cli("status", "root", "--state", "failed", "--state", "timed_out", cwd=tmp_path)
    assert [line.split()[0] for line in only.stdout.splitlines()[1:-1]] == [
        "linear/0",
        "linear/1",
    ]


def test_a_task_left_running_by_a_dead_run_is_flagged(tmp_path: Path) -> None:
    make_task(tmp_path / "root", "fcnn", "0", TaskState.RUNNING)

    result = run_cli("status", "root", cwd=tmp_path)

    assert "fcnn/0  running" in result.stdout
    assert "no run holds the root" in result.stdout


def test_a_torn_outcome_file_is_shown_not_fatal(tmp_path: Path) -> None:
    root = tmp_path / "root"
    make_task(root, "fcnn", "0", TaskState.SUCCEEDED)
    make_task(root, "fcnn", "1", TaskState.SUCCEEDED)
    (root / "fcnn" / "1" / "__outcome__.json").write_text('{"state": "succ')

    result = run_cli("status", "root", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert "fcnn/1  unreadable" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "2 task(s): 1 succeeded, 1 unreadable"


def test_an_empty_root_has_no_tasks(tmp_path: Path) -> None:
    (tmp_path / "root" / "__data__").mkdir(parents=True)

    result = run_cli("status", "root", cwd=tmp_path)

    assert result.returncode == 0
    assert result.stdout.strip() == "0 task(s)"
