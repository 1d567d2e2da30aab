"""How a launch spec becomes a container plan: no Docker engine needed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from executor.contract import CONTRACT_VERSION, RootLayout, Workplace, write_json_atomic
from executor.errors import InvalidInputError, LaunchError
from executor.launchers.base import LaunchSpec
from executor.launchers.docker import DockerLauncher
from executor.launchers.docker_checks import device_requests, gpu_error, has_nvidia_runtime
from executor.launchers.docker_spec import (
    CONTAINER_CWD,
    CONTAINER_WRAPPER,
    parse_memory,
    parse_mount,
    plan_container,
)


def make_workplace(root: Path, data_folder: str | None = "__data__/abc") -> Workplace:
    if data_folder:
        (root / data_folder).mkdir(parents=True)
        np.save(root / data_folder / "x.npy", np.zeros(2))
    workplace = RootLayout(root).workplace("m o'del", "3")
    workplace.path.mkdir(parents=True)
    meta = {"contract_version": CONTRACT_VERSION, "model": "m", "data_folder": data_folder}
    write_json_atomic(workplace.meta_file, meta)
    return workplace


def make_spec(workplace: Workplace, cwd: Path, **options: Any) -> LaunchSpec:
    return LaunchSpec(
        workplace=workplace,
        command=["python", "run_sklearn.py"],
        cwd=cwd,
        env={
            "EXECUTOR_WORKPLACE": str(workplace.path),
            "EXECUTOR_DEVICES": "2,3",
            "CUDA_VISIBLE_DEVICES": "2,3",
            "OMP_NUM_THREADS": "2",
        },
        attempt=2,
        **{"image": "executor:lean", **options},
    )


def test_plan_lays_out_the_contract_under_executor(tmp_path: Path) -> None:
    workplace = make_workplace(tmp_path / "root")
    plan = plan_container(make_spec(workplace, tmp_path, devices=[2, 3]), 1000, 1001)

    mounts = {(m.source, m.target, m.read_only) for m in plan.mounts}
    assert mounts == {
        (str(workplace.path), "/executor/root/m o'del/3", False),
        (str(tmp_path), CONTAINER_CWD, True),
        (str(tmp_path / "root" / "__data__" / "abc"), "/executor/root/__data__/abc", True),
    }
    assert plan.user == "1000:1001"
    assert plan.working_dir == CONTAINER_CWD
    assert plan.entrypoint == ["/bin/sh", "-c", CONTAINER_WRAPPER, "executor-task"]
    assert plan.command == ["python", "run_sklearn.py"]
    assert plan.environment["EXECUTOR_WORKPLACE"] == "/executor/root/m o'del/3"
    assert plan.environment["CUDA_VISIBLE_DEVICES"] == "0,1"
    assert plan.environment["EXECUTOR_DEVICES"] == "0,1"
    assert plan.environment["EXECUTOR_HOST_DEVICES"] == "2,3"
    assert plan.environment["OMP_NUM_THREADS"] == "2"
    assert plan.environment["HOME"] == "/tmp"
    assert plan.labels["executor.key"] == "m o'del/3"
    assert plan.labels["executor.attempt"] == "2"
    assert plan.labels["executor.root"] == str(tmp_path / "root")
    assert plan.name.startswith("executor-m_o_del-3-a2-")
    assert plan.gpu_ids == ["2", "3"] and not plan.all_gpus


def test_device_requests_for_ids_and_all(tmp_path: Path) -> None:
    workplace = make_workplace(tmp_path / "root", data_folder=None)

    by_ids = plan_container(make_spec(workplace, tmp_path, devices=[0, 2]), 0, 0)
    every = plan_container(make_spec(workplace, tmp_path, devices="all"), 0, 0)
    none = plan_container(make_spec(workplace, tmp_path), 0, 0)

    (request,) = device_requests(by_ids)
    assert request["DeviceIDs"] == ["0", "2"] and request["Capabilities"] == [["gpu"]]
    assert request["Count"] == 0  # as `docker run --gpus device=0,2` sends it
    (request,) = device_requests(every)
    assert request["Count"] == -1 and request["Capabilities"] == [["gpu"]]
    assert "CUDA_VISIBLE_DEVICES" not in every.environment
    assert device_requests(none) == []
    assert none.environment["CUDA_VISIBLE_DEVICES"] == ""
    assert len(none.mounts) == 2


def test_limits_network_and_mounts(tmp_path: Path) -> None:
    workplace = make_workplace(tmp_path / "root")
    (tmp_path / "vocab").mkdir()
    spec = make_spec(
        workplace, tmp_path, cpus=1.5, memory="512m", network="none", mounts=["vocab:/vocab:ro"]
    )

    plan = plan_container(spec, 0, 0)

    assert plan.nano_cpus == 1_500_000_000
    assert plan.mem_limit == 512 * 2**20
    assert plan.network_mode == "none"
    assert plan.mounts[-1].source == str(tmp_path / "vocab")
    assert (plan.mounts[-1].target, plan.mounts[-1].read_only) == ("/vocab", True)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("512m", 512 * 2**20), ("4g", 4 * 2**30), ("1.5G", int(1.5 * 2**30)), (2**30, 2**30)],
)
def test_parse_memory(text: Any, expected: int) -> None:
    assert parse_memory(text) == expected


@pytest.mark.parametrize("bad", ["lots", "4 gigs", "-1g", "1k", True, 3.5])
def test_parse_memory_refuses(bad: Any) -> None:
    with pytest.raises(InvalidInputError, match="memory"):
        parse_memory(bad)


@pytest.mark.parametrize(
    "bad", ["/only-host", "/tmp:relative", "/tmp:/x:rx", "/no/such/path:/x", "/tmp:/executor/root"]
)
def test_parse_mount_refuses(bad: str, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="mount") as refused:
        parse_mount(bad, tmp_path)
    assert refused.value.input == bad


def test_bad_input_is_refused_before_the_engine_is_touched(tmp_path: Path) -> None:
    class NoEngine:
        @property
        def api(self) -> Any:
            raise AssertionError("the engine was touched")

    workplace = make_workplace(tmp_path / "root")
    launcher = DockerLauncher(client=NoEngine(), user=(1, 1))

    with pytest.raises(InvalidInputError, match="image"):
        launcher.check([make_spec(workplace, tmp_path, image=None)])
    with pytest.raises(InvalidInputError, match="network"):
        launcher.check([make_spec(workplace, tmp_path, network="two words")])
    with pytest.raises(LaunchError, match="current directory"):
        launcher.check([make_spec(workplace, tmp_path / "gone")])
    with pytest.raises(InvalidInputError, match="cpus"):
        launcher.start(make_spec(workplace, tmp_path, cpus=0))
    launcher.check([])


def test_gpu_runtime_detection() -> None:
    assert has_nvidia_runtime({"Runtimes": {"runc": {}, "nvidia": {"path": "x"}}})
    assert not has_nvidia_runtime({"Runtimes": {"runc": {}}})
    refused = gpu_error(
        RuntimeError('could not select device driver "" with capabilities: [[gpu]]'), image="i"
    )
    assert refused is not None and refused.image == "i"
    assert gpu_error(RuntimeError("no such file"), image="i") is None
