"""``executor clean``: leftovers of a killed run are stopped; workplaces go only when confirmed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_cli_support import run_cli, write_script

pytestmark = pytest.mark.timeout(240)

SLEEPER = """
import time
info = executor.get_info()
print("started", flush=True)
time.sleep(120)
"""


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def gone_soon(groups: list[int], seconds: float = 15.0) -> bool:
    """True when no group is left within ``seconds`` (the stopped tasks' parent is gone,
    so they are reaped by whichever process adopted them, a moment later)."""
    deadline = time.monotonic() + seconds
    while any(group_alive(pgid) for pgid in groups):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def start_sleepers(folder: Path) -> subprocess.Popen[bytes]:
    """A run of two sleeping tasks whose pid files exist when this returns."""
    write_script(folder, "sleeper.py", SLEEPER)
    command = [sys.executable, "-m", "executor", "run", "--run-command", "python sleeper.py"]
    command += ["--models", "nap", "--repeats", "2", "--jobs", "2", "--root", "root"]
    run = subprocess.Popen(
        command, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )

    pid_files = [folder / "root" / "nap" / name / "__pid__.json" for name in ("0", "1")]
    deadline = time.monotonic() + 150
    while not all(path.is_file() for path in pid_files):
        assert time.monotonic() < deadline, "the tasks never started"
        assert run.poll() is None, "the run ended early"
        time.sleep(0.1)
    return run


def test_clean_stops_what_a_killed_run_left(tmp_path: Path) -> None:
    run = start_sleepers(tmp_path)
    pid_files = sorted((tmp_path / "root" / "nap").glob("*/__pid__.json"))
    groups = [json.loads(path.read_text())["pgid"] for path in pid_files]
    try:
        refused = run_cli("clean", "root", cwd=tmp_path)
        assert refused.returncode == 1
        assert "a run is active on this root" in refused.stderr

        run.send_signal(signal.SIGKILL)
        run.wait(timeout=30)
        assert all(group_alive(pgid) for pgid in groups)

        cleaned = run_cli("clean", "root", cwd=tmp_path)

        assert cleaned.returncode == 0, cleaned.stderr
        assert "nap/0: closed" in cleaned.stdout and "nap/1: closed" in cleaned.stdout
        assert gone_soon(groups)
        report = json.loads(run_cli("status", "root", "--json", cwd=tmp_path).stdout)
        assert report["totals"] == {"pending": 2}

        again = run_cli("clean", "root", cwd=tmp_path)
        assert again.returncode == 0
        assert "nothing was left running" in again.stderr
    finally:
        for pgid in groups:
            if group_alive(pgid):
                os.killpg(pgid, signal.SIGKILL)
        if run.poll() is None:
            run.kill()


def make_finished_root(folder: Path) -> None:
    write_script(folder, "quick.py", "info = executor.get_info()\nexecutor.report({'acc': 1.0})\n")
    result = run_cli(
        "run",
        "--run-command",
        "python quick.py",
        "--models",
        "quick",
        "--repeats",
        "2",
        "--root",
        "root",
        cwd=folder,
    )
    assert result.returncode == 0, result.stderr


def test_workplaces_are_removed_only_when_confirmed(tmp_path: Path) -> None:
    make_finished_root(tmp_path)
    mine = tmp_path / "root" / "notes" / "mine.txt"
    mine.parent.mkdir()
    mine.write_text("keep me")

    declined = run_cli("clean", "root", "--workplaces", cwd=tmp_path, stdin="n\n")
    assert declined.returncode == 1
    assert "[y/N]" in declined.stderr and "nothing removed" in declined.stderr
    assert (tmp_path / "root" / "quick" / "0" / "__meta__.json").is_file()

    no_answer = run_cli("clean", "root", "--workplaces", cwd=tmp_path, stdin="")
    assert no_answer.returncode == 1
    assert (tmp_path / "root" / "quick" / "1" / "__meta__.json").is_file()

    confirmed = run_cli("clean", "root", "--workplaces", cwd=tmp_path, stdin="y\n")

    assert confirmed.returncode == 0, confirmed.stderr
    assert "removed 2 workplace(s)" in confirmed.stderr
    assert sorted(path.name for path in (tmp_path / "root").iterdir()) == ["notes"]
    assert mine.read_text() == "keep me"


def test_yes_removes_without_asking_and_the_empty_root_goes(tmp_path: Path) -> None:
    make_finished_root(tmp_path)

    result = run_cli("clean", "root", "--workplaces", "--yes", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert "[y/N]" not in result.stderr
    assert not (tmp_path / "root").exists()
