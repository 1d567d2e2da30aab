"""The command line with the Docker launcher: a run in containers, and ``clean`` removing
the containers a killed run left running.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_cli_support import EXAMPLES, run_cli, write_script

from executor.launchers.docker import find_containers

pytestmark = [pytest.mark.docker, pytest.mark.timeout(300)]


def test_a_spec_runs_in_containers(lean_image: str, tmp_path: Path) -> None:
    result = run_cli(
        "run",
        EXAMPLES / "custom_task.toml",
        "--image",
        lean_image,
        "--root",
        "root",
        cwd=tmp_path,
    )

    assert result.returncode == 0, result.stderr
    assert "svr" in result.stdout and "mae" in result.stdout
    assert (tmp_path / "root" / "svr" / "0" / "sk_model.pkl").is_file()


def test_clean_removes_the_containers_of_a_killed_run(lean_image: str, tmp_path: Path) -> None:
    import docker

    write_script(tmp_path, "sleeper.py", "import time\nprint('up', flush=True)\ntime.sleep(120)\n")
    command = [sys.executable, "-m", "executor", "run", "--run-command", "python sleeper.py"]
    command += ["--models", "nap", "--repeats", "2", "--jobs", "2", "--root", "root"]
    command += ["--image", lean_image]
    run = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    client = docker.from_env(timeout=30)
    root = str((tmp_path / "root").absolute())
    try:
        deadline = time.monotonic() + 150
        while len(find_containers(client, root=root)) < 2:
            assert time.monotonic() < deadline, "the containers never started"
            assert run.poll() is None, run.stderr.read() if run.stderr else ""
            time.sleep(0.2)
        run.send_signal(signal.SIGKILL)
        run.wait(timeout=30)

        cleaned = run_cli("clean", "root", cwd=tmp_path)

        assert cleaned.returncode == 0, cleaned.stderr
        assert "nap/0: closed" in cleaned.stdout and "nap/1: closed" in cleaned.stdout
        assert find_containers(client, root=root) == []
    finally:
        if run.poll() is None:
            run.kill()
        for container in find_containers(client, root=root):
            client.api.remove_container(container["Id"], force=True)
        client.close()
