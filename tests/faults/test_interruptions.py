"""The executor itself killed or interrupted mid-run: nothing lost, nothing run twice,
nothing left behind."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from executor.contract import RootLayout
from executor.launchers.process import find_task_processes

DRIVER = Path(__file__).with_name("driver.py")


@pytest.fixture(params=["process", pytest.param("docker", marks=pytest.mark.docker)])
def image_args(request: pytest.FixtureRequest) -> list[str]:
    if request.param == "process":
        return []
    return ["--image", request.getfixturevalue("lean_image")]


def start_driver(cwd: Path, args: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, str(DRIVER), *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def states(root: Path) -> list[str]:
    found = []
    for workplace in RootLayout(root).iter_workplaces():
        outcome = workplace.read_outcome()
        found.append(outcome["state"] if outcome else "none")
    return found


def wait_for(predicate: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("the condition was not met in time")


def leftovers(root: Path, image_args: list[str]) -> list[Any]:
    found: list[Any] = list(find_task_processes(root))
    if image_args:
        import docker

        from executor.launchers.docker_cleanup import find_containers

        client = docker.from_env()
        found += [container["Id"] for container in find_containers(client, root=str(root))]
        client.close()
    return found


@pytest.mark.timeout(300)
def test_sigkill_at_random_moments_then_resume(hostile_dir: Path, image_args: list[str]) -> None:
    root = hostile_dir / "root"
    num_tasks = 12
    rng = random.Random(7)
    for _ in range(6):
        driver = start_driver(hostile_dir, [str(root), str(num_tasks), "0.3", *image_args])
        time.sleep(rng.uniform(0.8, 3.0))
        driver.kill()
        driver.wait()

    final = start_driver(hostile_dir, [str(root), str(num_tasks), "0.3", *image_args])
    out, err = final.communicate(timeout=240)
    assert final.returncode == 0, err.decode()[-3000:]

    assert states(root) == ["succeeded"] * num_tasks
    for index in range(num_tasks):
        count_file = root / "short" / str(index) / "count"
        assert count_file.read_text() == "1\n", f"task {index} succeeded {count_file.read_text()!r}"
        assert (root / "short" / str(index) / "artifact.txt").read_text() == "done"
    assert leftovers(root, image_args) == []


@pytest.mark.timeout(120)
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_cancels_everything(
    hostile_dir: Path, image_args: list[str], signum: int
) -> None:
    root = hostile_dir / "root"
    driver = start_driver(hostile_dir, [str(root), "4", "60", *image_args])
    wait_for(lambda: states(root).count("running") == 2, timeout=60)

    sent = time.monotonic()
    driver.send_signal(signum)
    driver.communicate(timeout=30)
    elapsed = time.monotonic() - sent

    assert driver.returncode != 0
    assert elapsed < 15, f"the run took {elapsed:.1f}s to stop"
    assert states(root) == ["cancelled"] * 4
    assert leftovers(root, image_args) == []
    outcome = json.loads((root / "short" / "0" / "__outcome__.json").read_text())
    assert "cancelled" in outcome["reason"]


@pytest.mark.timeout(120)
def test_second_interrupt_kills_at_once(hostile_dir: Path) -> None:
    root = hostile_dir / "root"
    stubborn = hostile_dir / "stubborn.py"
    stubborn.write_text(
        "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\ntime.sleep(60)\n"
    )
    code = (
        "import executor\n"
        f"e = executor.Experiment({str(root)!r})\n"
        "e.add_task(model='stubborn', run_command='python stubborn.py')\n"
        "e.run_tasks(grace=30, progress=False)\n"
    )
    driver = subprocess.Popen([sys.executable, "-c", code], cwd=hostile_dir, stderr=subprocess.PIPE)
    wait_for(lambda: states(root) == ["running"], timeout=30)
    time.sleep(0.5)

    sent = time.monotonic()
    driver.send_signal(signal.SIGINT)
    time.sleep(0.5)
    driver.send_signal(signal.SIGINT)
    driver.communicate(timeout=20)

    assert time.monotonic() - sent < 10
    assert states(root) == ["cancelled"]
    assert find_task_processes(root) == []
