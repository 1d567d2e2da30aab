"""The command line with the Docker launcher: a run in containers, and ``clean`` removing
the containers a killed run left running.
"""

from __future__ import annotations

import json
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


@pytest.mark.docker
@pytest.mark.timeout(300)
def test_network_none_cuts_a_container_off(tmp_path: Path, lean_image: str) -> None:
    (tmp_path / "probe.py").write_text(
        "import socket, os\n"
        "from executor import get_info, report\n"
        "names = [name for _, name in socket.if_nameindex()]\n"
        "report({'interfaces': len(names), 'only_loopback': float(names == ['lo'])})\n"
    )
    (tmp_path / "spec.toml").write_text(
        'models = { probe = { run_command = "python probe.py" } }\n'
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "executor",
            "run",
            "spec.toml",
            "--image",
            lean_image,
            "--network",
            "none",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr
    metrics = json.loads(
        (tmp_path / "__experiment__" / "probe" / "0" / "__metrics__.json").read_text()
    )
    assert metrics["latest"]["only_loopback"] == 1.0
    meta = json.loads((tmp_path / "__experiment__" / "probe" / "0" / "__meta__.json").read_text())
    assert meta["network"] == "none"
