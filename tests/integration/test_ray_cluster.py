"""The Ray backend on a two-node cluster started on this machine.

Each node has its own temporary directory and node cache, and tasks run in a copy of their
workplace on the node, never in the experiment root. The last test kills the second node
while a task runs on it, so it must stay last in this module.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

import executor
from executor.outcome import TaskState
from tests.conftest import ray_or_skip

pytestmark = [pytest.mark.ray, pytest.mark.timeout(300)]

START_TIMEOUT = 120
RAY_ENV = {"RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}
"""The test cluster listens on this machine only; the nodes and the driver agree on no tokens."""


@dataclass
class Node:
    """One ``ray start`` of the test cluster: its process group and its folders."""

    name: str
    group: int
    temp_dir: Path
    cache: Path
    port: int

    def node_id(self) -> str:
        """This node's Ray id (the driver must be connected)."""
        import ray

        (found,) = [node for node in ray.nodes() if node["NodeManagerPort"] == self.port]
        return str(found["NodeID"])

    def kill(self) -> None:
        """Kill this node's Ray processes and workers at once, as a machine that goes away.

        The workers run in process groups of their own, as children of the node's raylet.
        """
        members = [pid for pid in all_pids() if process_group(pid) == self.group]
        workers = [pid for pid in all_pids() if parent(pid) in members]
        try:
            os.killpg(self.group, signal.SIGKILL)
        except ProcessLookupError:
            pass
        for pid in workers:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


@dataclass
class Cluster:
    """A head and a second node on this machine."""

    address: str
    head: Node
    second: Node


def all_pids() -> list[int]:
    return [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()]


def stat_fields(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()
    except OSError:
        return []


def parent(pid: int) -> int:
    fields = stat_fields(pid)
    return int(fields[1]) if fields else -1


def process_group(pid: int) -> int:
    fields = stat_fields(pid)
    return int(fields[2]) if fields else -1


def process_runs(pid: int) -> bool:
    fields = stat_fields(pid)
    return bool(fields) and fields[0] not in ("Z", "X")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def ray_command() -> list[str]:
    found = shutil.which("ray")
    return [found] if found else [sys.executable, "-m", "ray.scripts.scripts"]


def start_node(name: str, base: Path, arguments: list[str]) -> Node:
    # Ray's socket paths must stay under 108 bytes: its temporary directory gets a short name.
    temp_dir = Path(tempfile.mkdtemp(prefix=f"ray-{name}-"))
    cache = base / f"{name}-cache"
    port = free_port()
    log = (base / f"{name}-start.log").open("wb")
    env = {**os.environ, "EXECUTOR_NODE_CACHE": str(cache), **RAY_ENV}
    command = [
        *ray_command(),
        "start",
        *arguments,
        "--num-cpus=1",
        f"--temp-dir={temp_dir}",
        "--object-store-memory=100000000",
        f"--node-manager-port={port}",
        f"--dashboard-agent-listen-port={free_port()}",
        "--disable-usage-stats",
    ]
    process = subprocess.Popen(
        command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    node = Node(name, process.pid, temp_dir, cache, port)
    try:
        code = process.wait(timeout=START_TIMEOUT)
    except subprocess.TimeoutExpired:
        code = None
    if code != 0:
        node.kill()
        shutil.rmtree(temp_dir, ignore_errors=True)
        text = (base / f"{name}-start.log").read_text(errors="replace")[-3000:]
        pytest.fail(f"ray start for the {name} ended with {code}:\n{text}")
    return node


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    ray_or_skip()
    with pytest.MonkeyPatch.context() as patch:
        for name, value in RAY_ENV.items():
            patch.setenv(name, value)
        yield from started_cluster(tmp_path_factory.mktemp("cluster"))


def started_cluster(base: Path) -> Iterator[Cluster]:
    port = free_port()
    head = start_node(
        "head",
        base,
        [
            "--head",
            f"--port={port}",
            f"--ray-client-server-port={free_port()}",
            "--include-dashboard=false",
        ],
    )
    nodes = [head]
    try:
        address = f"127.0.0.1:{port}"
        nodes.append(start_node("second", base, [f"--address={address}"]))
        yield Cluster(address, head, nodes[1])
    finally:
        from executor.cluster.ray import disconnect

        disconnect()
        for node in nodes:
            node.kill()
        time.sleep(1.0)
        for node in nodes:
            shutil.rmtree(node.temp_dir, ignore_errors=True)


def write(folder: Path, name: str, body: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


PROBE = """
    import json, os, sys, time
    from executor import get_info, report
    info = get_info()
    root = os.environ["EXPERIMENT_ROOT"]
    here = os.path.realpath(info.workplace)
    assert not here.startswith(os.path.realpath(root) + os.sep), here
    marker = os.path.join(os.environ["MARKERS"], "-".join(info.meta["key"]))
    with open(marker, "w") as stream:
        json.dump({"workplace": here, "pid": os.getpid()}, stream)
    release = os.path.join(os.environ["MARKERS"], "release")
    deadline = time.monotonic() + float(os.environ.get("HOLD", "0"))
    while time.monotonic() < deadline and not os.path.exists(release):
        time.sleep(0.05)
    x, y, _, _ = info.data_list
    os.makedirs(os.path.join(info.workplace, "model"), exist_ok=True)
    with open(os.path.join(info.workplace, "model", "weights.json"), "w") as stream:
        json.dump({"index": info.kwargs["index"], "rows": int(x.shape[0])}, stream)
    print("ran in", here)
    report({"index": info.kwargs["index"], "total": float(x.sum())})
"""


def probe_experiment(folder: Path, count: int, hold: float) -> tuple[executor.Experiment, Path]:
    markers = folder / "markers"
    markers.mkdir()
    write(folder, "probe.py", PROBE)
    experiment = executor.Experiment(folder / "root")
    data = experiment.dump_data_bundle(np.arange(6.0).reshape(3, 2), np.ones(3))
    env = {
        "EXPERIMENT_ROOT": str(experiment.root),
        "MARKERS": str(markers),
        "HOLD": str(hold),
    }
    for index in range(count):
        experiment.add_task(
            model="probe",
            data_folder=data,
            config={"index": index},
            run_command=f"python {folder / 'probe.py'}",
            env=env,
        )
    return experiment, markers


def node_of(attempt_host: str) -> str:
    host, _, node_id = attempt_host.partition("/")
    assert host and node_id, attempt_host
    return node_id


def test_tasks_land_on_both_nodes_and_bring_back_every_file(
    cluster: Cluster, tmp_path: Path
) -> None:
    experiment, _ = probe_experiment(tmp_path, count=4, hold=1.0)

    results = experiment.run_tasks(num_jobs=2, backend="ray", address=cluster.address)

    assert results.succeeded, results.summary()
    head_id, second_id = cluster.head.node_id(), cluster.second.node_id()
    used = {node_of(outcome.attempts[-1].host) for outcome in results.outcomes}
    assert used == {head_id, second_id}

    for index, outcome in enumerate(results.outcomes):
        workplace = Path(outcome.workplace)
        assert outcome.artifacts == ["__metrics__.json", "model/weights.json"]
        saved = json.loads((workplace / "model" / "weights.json").read_text())
        assert saved == {"index": index, "rows": 3}
        assert results.metrics[index] == {"index": index, "total": 15.0}
        stdout = (workplace / "_logs" / "attempt-1.stdout").read_text()
        node = cluster.head if node_of(outcome.attempts[-1].host) == head_id else cluster.second
        assert f"ran in {node.cache.resolve()}" in stdout

    for node in (cluster.head, cluster.second):
        bundles = list((node.cache / "bundles").iterdir())
        assert len(bundles) == 1, "a node keeps one copy of a bundle for all its tasks"
        assert not any((node.cache / "work").iterdir()), "scratch copies are removed"


def test_scripts_travel_with_a_working_dir(
    cluster: Cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    write(
        scripts,
        "where.py",
        """
        import os
        from executor import report
        report({"shipped": os.path.abspath("where.py") != os.environ["SOURCE"]})
        """,
    )
    monkeypatch.chdir(scripts)
    experiment = executor.Experiment(tmp_path / "root")
    source = {"SOURCE": str(scripts / "where.py")}
    experiment.add_task(model="where", run_command="python where.py", env=source)

    results = experiment.run_tasks(
        backend="ray", address=cluster.address, runtime_env={"working_dir": str(scripts)}
    )

    assert results.succeeded, results.outcomes[0].reason
    assert results.metrics[0] == {"shipped": True}


DRIVER = """
    import sys
    import executor
    root, script, folder, address = sys.argv[1:]
    experiment = executor.Experiment(root)
    for _ in range(2):
        experiment.add_task(model="sleepy", run_command=["python", script], env={"MARKERS": folder})
    experiment.run_tasks(num_jobs=2, grace=1.0, backend="ray", address=address)
"""
SLEEPY = """
    import os, time
    from executor import get_info
    key = "-".join(get_info(requires_data=False).meta["key"])
    with open(os.path.join(os.environ["MARKERS"], key), "w") as stream:
        stream.write(str(os.getpid()))
    time.sleep(120)
"""


def test_ctrl_c_cancels_the_tasks_on_every_node(cluster: Cluster, tmp_path: Path) -> None:
    markers = tmp_path / "markers"
    markers.mkdir()
    driver = write(tmp_path, "driver.py", DRIVER)
    sleepy = write(tmp_path, "sleepy.py", SLEEPY)
    root = tmp_path / "root"
    process = subprocess.Popen(
        [sys.executable, str(driver), str(root), str(sleepy), str(markers), cluster.address],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "driver.log").open("wb"),
    )
    try:
        deadline = time.monotonic() + 90
        while len(list(markers.iterdir())) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        pids = [int(marker.read_text() or 0) for marker in markers.iterdir()]
        assert len(pids) == 2, (tmp_path / "driver.log").read_text()[-2000:]

        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=60)
    finally:
        process.kill()

    assert code != 0
    for index in ("0", "1"):
        outcome = json.loads((root / "sleepy" / index / "__outcome__.json").read_text())
        assert outcome["state"] == TaskState.CANCELLED.value
    gone_by = time.monotonic() + 15
    while any(process_runs(pid) for pid in pids) and time.monotonic() < gone_by:
        time.sleep(0.1)
    assert not any(process_runs(pid) for pid in pids)


def test_a_task_lost_with_its_node_runs_again_on_the_head(cluster: Cluster, tmp_path: Path) -> None:
    experiment, markers = probe_experiment(tmp_path, count=2, hold=60.0)
    killed: list[dict[str, object]] = []

    def kill_second_node_once_a_task_runs_there() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not killed:
            for marker in markers.glob("probe-*"):
                try:
                    seen = json.loads(marker.read_text())
                except (OSError, ValueError):
                    continue
                if str(seen["workplace"]).startswith(str(cluster.second.cache.resolve())):
                    cluster.second.kill()
                    killed.append(seen)
                    gone_by = time.monotonic() + 30
                    while process_runs(int(seen["pid"])) and time.monotonic() < gone_by:
                        time.sleep(0.1)
                    seen["outlived"] = process_runs(int(seen["pid"]))
                    (markers / "release").touch()
                    return
            time.sleep(0.05)
        (markers / "release").touch()

    killer = threading.Thread(target=kill_second_node_once_a_task_runs_there, daemon=True)
    killer.start()
    results = experiment.run_tasks(num_jobs=2, retries=0, backend="ray", address=cluster.address)
    killer.join(timeout=5)

    assert killed, "no task ran on the second node"
    assert results.succeeded, results.summary()
    lost = [outcome for outcome in results.outcomes if len(outcome.attempts) == 2]
    assert len(lost) == 1
    first, second = lost[0].attempts
    assert first.state == TaskState.FAILED.value
    assert "lost with its node" in (first.reason or "")
    assert node_of(first.host) == cluster.second.node_id()
    assert second.state == TaskState.SUCCEEDED.value
    assert node_of(second.host) == cluster.head.node_id()
    assert "model/weights.json" in lost[0].artifacts

    assert killed[0]["outlived"] is False, "the lost attempt's process outlived its node"
