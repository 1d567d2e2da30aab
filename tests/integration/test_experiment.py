from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import numpy as np
import pytest

import executor
from executor.contract import RootLayout
from executor.locking import RootLock

pytestmark = pytest.mark.timeout(120)


def script(folder: Path, name: str, body: str) -> str:
    (folder / name).write_text(textwrap.dedent(body), encoding="utf-8")
    return f"python {name}"


ENV_PROBE = """
import json, os, time
from executor import get_info
info = get_info(requires_data=False)
start = time.time()
time.sleep(float(info.kwargs.get("sleep", 0)))
keys = ["CUDA_VISIBLE_DEVICES", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "EXECUTOR_DEVICES"]
record = {key: os.environ.get(key) for key in keys}
record.update(start=start, end=time.time(), devices=info.devices)
with open(os.path.join(info.workplace, "env.json"), "w") as f:
    json.dump(record, f)
"""


def read_env(results: executor.Results, index: int) -> dict:
    return json.loads((Path(results.workplaces[index]) / "env.json").read_text())


def test_reference_layout(in_hostile_cwd: Path) -> None:
    command = script(in_hostile_cwd, "probe.py", ENV_PROBE)
    experiment = executor.Experiment()
    data_folder = experiment.dump_data_bundle(np.ones((10, 2)), np.ones(10))
    for model in ["linear", "fcnn", "linear"]:
        experiment.add_task(model=model, data_folder=data_folder, run_command=command)
    key = experiment.add_task(model="svr", run_command=command, workplace_key=("svr", "best"))

    results = experiment.run_tasks()

    root = in_hostile_cwd / "__experiment__"
    assert results.workplace_keys == [("linear", "0"), ("fcnn", "0"), ("linear", "1"), key]
    assert results.workplaces == [str(root / m / i) for m, i in results.workplace_keys]
    assert Path(data_folder).parent == root / "__data__"
    meta = json.loads((root / "linear" / "1" / "__meta__.json").read_text())
    assert meta["contract_version"] == 1
    assert meta["data_folder"] == Path(data_folder).relative_to(root).as_posix()
    assert meta["command"] == ["python", "probe.py"]
    assert meta["model"] == "linear" and len(meta["fingerprint"]) == 64
    outcome = json.loads((root / "svr" / "best" / "__outcome__.json").read_text())
    assert outcome["state"] == "succeeded" and outcome["attempts"][0]["exit_code"] == 0


def test_parallel_slots_overlap_and_cap_threads(in_hostile_cwd: Path) -> None:
    command = script(in_hostile_cwd, "probe.py", ENV_PROBE)
    experiment = executor.Experiment("root")
    for _ in range(2):
        experiment.add_task(model="sleepy", config={"sleep": 1.5, "n": _}, run_command=command)

    results = experiment.run_tasks(num_jobs=2)

    first, second = read_env(results, 0), read_env(results, 1)
    assert first["start"] < second["end"] and second["start"] < first["end"]
    expected = str(max(1, (os.cpu_count() or 1) // 2))
    assert first["OMP_NUM_THREADS"] == first["MKL_NUM_THREADS"] == expected


def test_gpus_are_handed_out_exclusively(in_hostile_cwd: Path) -> None:
    command = script(in_hostile_cwd, "probe.py", ENV_PROBE)
    experiment = executor.Experiment("root")
    for index in range(3):
        experiment.add_task(
            model="gpu", config={"sleep": 1.0, "i": index}, run_command=command, gpus=1
        )
    experiment.add_task(model="cpu", run_command=command)
    experiment.add_task(model="both", config={"sleep": 0.2}, run_command=command, gpus=2)

    results = experiment.run_tasks(num_jobs=3, cuda_list=[4, 7])

    records = [read_env(results, index) for index in range(5)]
    assert all(outcome.succeeded for outcome in results.outcomes)
    for record in records[:3]:
        assert record["CUDA_VISIBLE_DEVICES"] in ("4", "7")
        assert record["devices"] == [int(record["CUDA_VISIBLE_DEVICES"])]
    assert records[3]["CUDA_VISIBLE_DEVICES"] == "" and records[3]["devices"] == []
    assert records[4]["CUDA_VISIBLE_DEVICES"] == "4,7"
    for a in records[:3]:
        for b in records[:3]:
            overlap = a is not b and a["start"] < b["end"] and b["start"] < a["end"]
            assert not (overlap and a["CUDA_VISIBLE_DEVICES"] == b["CUDA_VISIBLE_DEVICES"])


def test_more_gpus_than_exist_is_refused_before_anything_starts(in_hostile_cwd: Path) -> None:
    command = script(in_hostile_cwd, "probe.py", ENV_PROBE)
    experiment = executor.Experiment("root")
    experiment.add_task(model="cpu", run_command=command)
    experiment.add_task(model="greedy", run_command=command, gpus=3)

    with pytest.raises(executor.ResourceError, match="asks for 3 GPU"):
        experiment.run_tasks(cuda_list=[0, 1])
    assert not list((in_hostile_cwd / "root").rglob("__outcome__.json"))


def test_resume_skips_succeeded_and_reruns_changed(in_hostile_cwd: Path) -> None:
    command = script(in_hostile_cwd, "probe.py", ENV_PROBE)

    def run(config: dict, force: bool = False) -> executor.Results:
        experiment = executor.Experiment("root")
        experiment.add_task(model="a", config={"v": 1}, run_command=command)
        experiment.add_task(model="b", config=config, run_command=command)
        return experiment.run_tasks(force=force)

    first = run({"v": 1})
    second = run({"v": 1})
    assert second.workplace_keys == first.workplace_keys
    assert [o.resumed for o in second.outcomes] == [True, True]
    assert [len(o.attempts) for o in second.outcomes] == [1, 1]

    changed = run({"v": 2})
    assert changed.workplace_keys == [("a", "0"), ("b", "1")]
    assert [o.resumed for o in changed.outcomes] == [True, False]

    forced = run({"v": 2}, force=True)
    assert [len(o.attempts) for o in forced.outcomes] == [2, 2]


def test_second_run_on_a_locked_root_is_refused(in_hostile_cwd: Path) -> None:
    experiment = executor.Experiment("root")
    experiment.add_task(model="a", run_command=script(in_hostile_cwd, "probe.py", ENV_PROBE))
    with RootLock(RootLayout("root")):
        with pytest.raises(executor.RootLockedError, match="another run holds") as caught:
            experiment.run_tasks(lock="fail")
    assert caught.value.holder["pid"] == os.getpid()
    assert experiment.run_tasks(lock="fail").succeeded


def test_unknown_builtin_model_is_refused_at_add_task(in_hostile_cwd: Path) -> None:
    experiment = executor.Experiment("root")
    with pytest.raises(executor.UnknownNameError, match="no_such_model.*fcnn"):
        experiment.add_task(np.ones((20, 2)), np.arange(20) % 2, model="no_such_model")
    assert not (in_hostile_cwd / "root").exists()


def test_run_level_image_and_launcher_are_recorded_and_resume_finds_the_task(
    in_hostile_cwd: Path,
) -> None:
    command = script(in_hostile_cwd, "probe.py", ENV_PROBE)

    def run() -> executor.Results:
        experiment = executor.Experiment("root")
        experiment.add_task(model="a", run_command=command)
        return experiment.run_tasks(launcher="process")

    first = run()
    meta = json.loads((Path(first.workplaces[0]) / "__meta__.json").read_text())
    assert meta["launcher"] == "process"
    again = run()
    assert again.workplace_keys == [("a", "0")]
    assert again.outcomes[0].resumed
