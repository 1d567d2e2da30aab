"""The Docker launcher against a real engine: mounts, ownership, limits, labels, GPUs, cleanup.

Most tests drive the launcher directly with launch specs over a workplace made by hand,
in the lean image; a few go through ``Experiment``. Every test checks at teardown that no
container labelled with its experiment root is left behind.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import executor
from executor.contract import CONTRACT_VERSION, RootLayout, Workplace, write_json_atomic
from executor.errors import (
    DockerUnavailableError,
    GPUUnavailableError,
    ImageNotFoundError,
    InvalidInputError,
)
from executor.launchers.base import LaunchSpec
from executor.launchers.docker import (
    DockerLauncher,
    DockerTask,
    find_containers,
    remove_root_containers,
)
from executor.outcome import TaskState
from tests.conftest import docker_client_or_skip

pytestmark = [pytest.mark.docker, pytest.mark.timeout(120)]

DATA_FOLDER = "__data__/bundle-1"


@pytest.fixture
def engine() -> Any:
    """A Docker client, or a skip naming why there is none."""
    return docker_client_or_skip()


@pytest.fixture
def root(tmp_path: Path, engine: Any) -> Iterator[Path]:
    """An experiment root; at teardown, no container labelled with it may remain."""
    folder = tmp_path / "root ünï 'q'"
    folder.mkdir()
    yield folder

    left = find_containers(engine, root=str(folder))
    remove_root_containers(folder)
    assert not left, f"containers left behind: {[c['Name'] for c in left]}"


@pytest.fixture
def cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The caller's current directory, holding the task scripts."""
    folder = tmp_path / "work dir; 'x'"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


@pytest.fixture
def launcher() -> Iterator[DockerLauncher]:
    """A launcher that is closed after the test."""
    made = DockerLauncher()
    yield made
    made.close()


def make_workplace(root: Path, key: tuple[str, str] = ("probe", "0")) -> Workplace:
    """A workplace written by hand: a meta file naming a data bundle under the root."""
    bundle = root / DATA_FOLDER
    bundle.mkdir(parents=True, exist_ok=True)
    np.save(bundle / "x.npy", np.arange(6.0).reshape(3, 2))
    np.save(bundle / "y.npy", np.ones((3, 1)))

    workplace = RootLayout(root).workplace(*key)
    workplace.path.mkdir(parents=True)
    meta = {
        "contract_version": CONTRACT_VERSION,
        "key": list(key),
        "model": key[0],
        "config": {"alpha": 0.25},
        "data_folder": DATA_FOLDER,
    }
    write_json_atomic(workplace.meta_file, meta)
    return workplace


def script(cwd: Path, name: str, body: str) -> list[str]:
    (cwd / name).write_text(textwrap.dedent(body), encoding="utf-8")
    return ["python", name]


def spec_for(workplace: Workplace, command: list[str], image: str, **options: Any) -> LaunchSpec:
    return LaunchSpec(
        workplace=workplace,
        command=command,
        cwd=Path.cwd(),
        env={"EXECUTOR_WORKPLACE": str(workplace.path), "GREETING": "hello"},
        attempt=1,
        image=image,
        **options,
    )


def wait_for_running(engine: Any, root: Path, count: int = 1, limit: float = 30.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        found = find_containers(engine, root=str(root))
        if sum(bool(c["State"]["Running"]) for c in found) >= count:
            return
        time.sleep(0.1)
    raise AssertionError(f"{count} container(s) of {root} never ran")


def test_task_sees_the_contract(
    root: Path, cwd: Path, launcher: DockerLauncher, lean_image: str
) -> None:
    command = script(
        cwd,
        "probe.py",
        """
        import json, os, sys
        from executor import get_info, report
        info = get_info()
        x, y, _, _ = info.data_list
        print("workplace", info.workplace)
        print("to stderr", file=sys.stderr)
        with open(os.path.join(info.workplace, "seen.json"), "w") as stream:
            json.dump({"sum": float(x.sum()), "alpha": info.kwargs["alpha"],
                       "greeting": os.environ["GREETING"], "cwd": os.getcwd(),
                       "data": info.data_folder}, stream)
        report({"rows": int(x.shape[0])})
        """,
    )
    workplace = make_workplace(root)

    task = launcher.start(spec_for(workplace, command, lean_image))
    status = task.wait()

    assert status.succeeded, workplace.stderr_file(1).read_text()
    seen = json.loads((workplace.path / "seen.json").read_text())
    assert seen == {
        "sum": 15.0,
        "alpha": 0.25,
        "greeting": "hello",
        "cwd": "/executor/cwd",
        "data": "/executor/root/" + DATA_FOLDER,
    }
    assert workplace.read_metrics() == {"rows": 3}
    assert workplace.stdout_file(1).read_text() == "workplace /executor/root/probe/0\n"
    assert workplace.stderr_file(1).read_text() == "to stderr\n"
    assert json.loads(workplace.exit_file.read_text()) == {"exit_code": 0}
    assert task.identity()["launcher"] == "docker"


def test_artifacts_belong_to_the_calling_user(
    root: Path, cwd: Path, engine: Any, lean_image: str
) -> None:
    uid, gid = 12345, 23456
    workplace = make_workplace(root)
    for path in (workplace.path, workplace.meta_file):
        os.chown(path, uid, gid)  # as if that user had made the workplace
    command = script(
        cwd,
        "write.py",
        """
        import os
        from executor import get_info
        info = get_info(requires_data=False)
        os.makedirs(os.path.join(info.workplace, "model"))
        open(os.path.join(info.workplace, "model", "weights.bin"), "wb").write(b"w")
        print(os.getuid(), os.getgid(), os.environ["HOME"])
        """,
    )
    launcher = DockerLauncher(engine, user=(uid, gid))

    status = launcher.start(spec_for(workplace, command, lean_image)).wait()

    assert status.succeeded, workplace.stderr_file(1).read_text()
    assert workplace.stdout_file(1).read_text().split() == [str(uid), str(gid), "/tmp"]
    for path in (workplace.path / "model", workplace.path / "model" / "weights.bin"):
        assert (path.stat().st_uid, path.stat().st_gid) == (uid, gid)
    assert DockerLauncher(engine).user == (os.getuid(), os.getgid())


def test_data_and_current_directory_are_read_only(
    root: Path, cwd: Path, launcher: DockerLauncher, lean_image: str
) -> None:
    (cwd / "helper.py").write_text("VALUE = 'from the current directory'\n")
    command = script(
        cwd,
        "tamper.py",
        """
        import errno, json, os
        from executor import get_info
        from helper import VALUE
        info = get_info(requires_data=False)

        def refused(path):
            try:
                open(path, "w").close()
            except OSError as error:
                return error.errno == errno.EROFS
            return False

        result = {
            "helper": VALUE,
            "data": refused(os.path.join(info.data_folder, "x.npy")),
            "data_new": refused(os.path.join(info.data_folder, "new.npy")),
            "cwd": refused("new_file.txt"),
        }
        json.dump(result, open(os.path.join(info.workplace, "result.json"), "w"))
        """,
    )
    workplace = make_workplace(root)
    before = (root / DATA_FOLDER / "x.npy").read_bytes()

    status = launcher.start(spec_for(workplace, command, lean_image)).wait()

    assert status.succeeded, workplace.stderr_file(1).read_text()
    result = json.loads((workplace.path / "result.json").read_text())
    assert result == {
        "helper": "from the current directory",
        "data": True,
        "data_new": True,
        "cwd": True,
    }
    assert (root / DATA_FOLDER / "x.npy").read_bytes() == before
    assert not (cwd / "new_file.txt").exists()


def test_labels_limits_and_kill(
    root: Path, cwd: Path, engine: Any, launcher: DockerLauncher, lean_image: str
) -> None:
    command = script(cwd, "hang.py", "import time\nprint('up', flush=True)\ntime.sleep(300)\n")
    workplace = make_workplace(root)
    spec = spec_for(
        workplace,
        command,
        lean_image,
        cpus=0.5,
        memory="256m",
        network="none",
        labels={"team": "ml"},
    )

    task = launcher.start(spec)
    wait_for_running(engine, root)
    (container,) = find_containers(engine, root=str(root))
    task.kill(grace=1.0)
    status = task.wait()

    labels = container["Config"]["Labels"]
    assert {name: labels[name] for name in labels if not name.startswith("org.")} == {
        "team": "ml",
        "executor.root": str(root),
        "executor.key": "probe/0",
        "executor.workplace": str(workplace.path),
        "executor.attempt": "1",
    }
    host = container["HostConfig"]
    assert (host["NanoCpus"], host["Memory"], host["NetworkMode"]) == (
        5 * 10**8,
        256 * 2**20,
        "none",
    )
    assert host["Binds"] is None and all(m["Type"] == "bind" for m in container["Mounts"])
    assert not any("docker.sock" in m["Source"] for m in container["Mounts"])
    assert container["Config"]["User"] == f"{os.getuid()}:{os.getgid()}"
    assert not status.succeeded
    assert status.signal in (signal.SIGTERM, signal.SIGKILL)
    assert find_containers(engine, root=str(root)) == []


def test_a_stopped_task_hears_sigterm_and_gets_its_grace(
    root: Path, cwd: Path, engine: Any, launcher: DockerLauncher, lean_image: str
) -> None:
    command = script(
        cwd,
        "polite.py",
        """
        import os, signal, sys, time
        from executor import get_info
        workplace = get_info(requires_data=False).workplace

        def save_and_leave(signum, frame):
            time.sleep(0.5)  # a checkpoint takes a moment
            open(os.path.join(workplace, "checkpoint"), "w").write("saved")
            sys.exit(4)

        signal.signal(signal.SIGTERM, save_and_leave)
        print("ready", flush=True)
        time.sleep(300)
        """,
    )
    workplace = make_workplace(root)
    task = launcher.start(spec_for(workplace, command, lean_image))
    deadline = time.monotonic() + 30
    while "ready" not in workplace.stdout_file(1).read_text():
        assert time.monotonic() < deadline, workplace.stderr_file(1).read_text()
        time.sleep(0.05)

    task.kill(grace=20.0)

    assert (workplace.path / "checkpoint").read_text() == "saved"
    assert task.wait().exit_code == 4
    assert json.loads(workplace.exit_file.read_text()) == {"exit_code": 4}


def test_out_of_memory_is_reported(
    root: Path, cwd: Path, launcher: DockerLauncher, lean_image: str
) -> None:
    command = script(cwd, "greedy.py", "blocks = [bytearray(2**20) for _ in range(400)]\n")
    workplace = make_workplace(root)

    task = launcher.start(spec_for(workplace, command, lean_image, memory="64m"))
    status = task.wait()

    assert status.exit_code == 137
    assert task.oom_killed is True


def test_gpu_request_on_an_engine_without_gpus(
    root: Path, cwd: Path, engine: Any, launcher: DockerLauncher, lean_image: str
) -> None:
    if any("nvidia" in name for name in engine.api.info().get("Runtimes", {})):
        pytest.skip("this engine has an NVIDIA runtime, so GPU requests would be served")
    workplace = make_workplace(root)
    spec = spec_for(workplace, ["python", "-c", "pass"], lean_image, devices=[0, 1])

    with pytest.raises(GPUUnavailableError, match="no GPU runtime") as refused:
        launcher.check([spec])
    task = launcher.start(spec)  # the engine's refusal comes from its start, on the task's thread
    with pytest.raises(GPUUnavailableError):
        task.wait()

    assert refused.value.address
    assert find_containers(engine, root=str(root)) == []
    assert not workplace.exit_file.exists()


def test_device_request_is_what_docker_run_gpus_sends(
    root: Path, cwd: Path, engine: Any, lean_image: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = subprocess.run(
        ["docker", "create", "--gpus", '"device=1,3"', "--label", f"executor.root={root}"]
        + [lean_image, "true"],
        capture_output=True,
        text=True,
        check=True,
    )
    expected = engine.api.inspect_container(cli.stdout.strip())["HostConfig"]["DeviceRequests"]
    monkeypatch.setattr(DockerTask, "_start", lambda task: None)  # create, do not start
    workplace = make_workplace(root)

    launcher = DockerLauncher(engine)
    task = launcher.start(spec_for(workplace, ["true"], lean_image, devices=[1, 3]))
    sent = engine.api.inspect_container(task.identity()["container_id"])

    assert sent["HostConfig"]["DeviceRequests"] == expected
    assert expected == [
        {
            "Driver": "",
            "Count": 0,
            "DeviceIDs": ["1", "3"],
            "Capabilities": [["gpu"]],
            "Options": {},
        }
    ]
    environment = dict(item.split("=", 1) for item in sent["Config"]["Env"])
    assert environment["CUDA_VISIBLE_DEVICES"] == "0,1"
    assert environment["EXECUTOR_HOST_DEVICES"] == "1,3"
    assert len(remove_root_containers(root)) == 2


def test_check_refuses_before_anything_starts(
    root: Path, cwd: Path, engine: Any, launcher: DockerLauncher, lean_image: str
) -> None:
    workplace = make_workplace(root)
    good = spec_for(workplace, ["python", "-c", "pass"], lean_image)
    missing = spec_for(workplace, ["python", "-c", "pass"], "executor-test:no-such-image")

    with pytest.raises(ImageNotFoundError, match="executor-test:no-such-image"):
        launcher.check([good, missing])
    with pytest.raises(InvalidInputError, match="memory"):
        launcher.check([spec_for(workplace, ["true"], lean_image, memory="lots")])
    with pytest.raises(InvalidInputError, match="mount"):
        launcher.check([spec_for(workplace, ["true"], lean_image, mounts=["/no/such:/x"])])
    launcher.check([good])

    assert find_containers(engine, root=str(root)) == []


def test_unreachable_engine_names_the_address(
    root: Path, cwd: Path, lean_image: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    address = f"unix://{root}/no-engine.sock"
    monkeypatch.setenv("DOCKER_HOST", address)
    workplace = make_workplace(root)

    with pytest.raises(DockerUnavailableError) as refused:
        DockerLauncher().check([spec_for(workplace, ["true"], lean_image)])

    assert refused.value.address == address
    assert address in str(refused.value)


def test_extra_mount_and_environment(
    root: Path, cwd: Path, tmp_path: Path, launcher: DockerLauncher, lean_image: str
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "vocab.txt").write_text("a b c")
    command = [
        "/bin/sh",
        "-c",
        'cat /extra/vocab.txt; echo " $EXECUTOR_WORKPLACE $EXECUTOR_DEVICES"',
    ]
    workplace = make_workplace(root)

    spec = spec_for(workplace, command, lean_image, mounts=[f"{shared}:/extra:ro"])
    spec.env["EXECUTOR_DEVICES"] = ""
    status = launcher.start(spec).wait()

    assert status.succeeded, workplace.stderr_file(1).read_text()
    assert workplace.stdout_file(1).read_text() == "a b c /executor/root/probe/0 \n"


def test_reap_finds_what_a_dead_run_left(
    root: Path, cwd: Path, engine: Any, launcher: DockerLauncher, lean_image: str
) -> None:
    running_place = make_workplace(root, ("hang", "0"))
    ended_place = make_workplace(root, ("done", "0"))
    hang = spec_for(running_place, ["python", "-c", "import time; time.sleep(300)"], lean_image)
    done = spec_for(ended_place, ["/bin/sh", "-c", "exit 7"], lean_image)
    running_task = launcher.start(hang)
    ended_task = launcher.start(done)
    wait_for_running(engine, root)
    later = DockerLauncher(engine)
    later.orphan_wait = 0.5
    deadline = time.monotonic() + 30
    while find_containers(engine, workplace=str(ended_place.path))[0]["State"]["Running"]:
        assert time.monotonic() < deadline
        time.sleep(0.1)

    never_started = make_workplace(root, ("created", "0"))
    engine.api.create_container(
        lean_image,
        command=["true"],
        labels={"executor.root": str(root), "executor.workplace": str(never_started.path)},
    )

    assert later.reap(running_place, running_task.identity()) is None
    status = later.reap(ended_place, {})

    assert status is not None and status.exit_code == 7
    assert later.reap(never_started, {}) is None
    assert find_containers(engine, root=str(root)) == []
    assert running_task.wait().signal is not None or running_task.wait().exit_code != 0
    ended_task.wait()


def test_remove_root_containers(
    root: Path, cwd: Path, engine: Any, launcher: DockerLauncher, lean_image: str
) -> None:
    tasks = []
    for index in range(2):
        workplace = make_workplace(root, ("sleep", str(index)))
        tasks.append(launcher.start(spec_for(workplace, ["sleep", "300"], lean_image)))
    wait_for_running(engine, root, count=2)

    removed = remove_root_containers(root)

    assert len(removed) == 2 and all(name.startswith("executor-sleep-") for name in removed)
    assert find_containers(engine, root=str(root)) == []
    for task in tasks:
        assert not task.wait().succeeded


def test_experiment_runs_the_builtin_task_in_the_default_image(
    root: Path, cwd: Path, docker_image: str
) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3))
    y = x @ np.array([[1.0], [-2.0], [0.5]])
    experiment = executor.Experiment(root)
    experiment.add_task(x, y, model="linear", config={"num_epochs": 3}, image=docker_image)

    results = experiment.run_tasks(task_loader=executor.task_loader)

    outcome = results.outcomes[0]
    assert outcome.state is TaskState.SUCCEEDED, outcome.reason
    assert results.pipelines[0] is not None
    prediction = results.pipelines[0].predict(x[:4])
    assert np.asarray(prediction).shape[0] == 4


def test_ctrl_c_removes_every_container(
    root: Path, cwd: Path, engine: Any, lean_image: str
) -> None:
    driver = cwd / "driver.py"
    driver.write_text(
        textwrap.dedent(
            f"""
            import executor
            experiment = executor.Experiment({str(root)!r})
            for index in range(2):
                experiment.add_task(model="hang", run_command="sleep 300", image={lean_image!r})
            experiment.run_tasks(num_jobs=2, grace=1.0, progress=False)
            """
        )
    )
    process = subprocess.Popen([sys.executable, str(driver)], cwd=cwd, stderr=subprocess.PIPE)
    try:
        wait_for_running(engine, root, count=2, limit=60)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()

    assert process.returncode != 0, stderr.decode()
    assert find_containers(engine, root=str(root)) == []
    outcomes = [Workplace(root / "hang" / str(i)).read_outcome() for i in range(2)]
    assert [o["state"] for o in outcomes if o] == ["cancelled", "cancelled"]
