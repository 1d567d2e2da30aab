"""The Ray backend on a local Ray instance: options, resources, timeouts and resume."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import executor
from executor.outcome import TaskState

pytestmark = [pytest.mark.ray, pytest.mark.timeout(180)]


def write(folder: Path, name: str, body: str) -> str:
    (folder / name).write_text(textwrap.dedent(body), encoding="utf-8")
    return f"python {name}"


def cluster_cpus() -> int:
    import ray

    return int(ray.cluster_resources()["CPU"])


def test_bad_options_are_refused_before_anything_runs(
    in_hostile_cwd: Path, ray_backend: dict[str, Any]
) -> None:
    fine = write(in_hostile_cwd, "fine.py", "print('ok')\n")
    experiment = executor.Experiment(in_hostile_cwd / "root")
    experiment.add_task(model="fine", run_command=fine)

    with pytest.raises(executor.InvalidInputError, match="unknown option.*adress"):
        experiment.run_tasks(adress="auto", **ray_backend)
    with pytest.raises(executor.InvalidInputError, match="lost_node_retries"):
        experiment.run_tasks(lost_node_retries=-1, **ray_backend)

    experiment.add_task(model="greedy", run_command=fine, gpus="all")
    with pytest.raises(executor.InvalidInputError, match="'all' is not known"):
        experiment.run_tasks(**ray_backend)
    assert not (experiment.root / "fine" / "0" / "__outcome__.json").exists()


def test_a_task_no_node_can_hold_is_refused(
    in_hostile_cwd: Path, ray_backend: dict[str, Any]
) -> None:
    fine = write(in_hostile_cwd, "fine.py", "print('ok')\n")
    experiment = executor.Experiment(in_hostile_cwd / "root")
    experiment.add_task(model="huge", run_command=fine, cpus=4096)

    with pytest.raises(executor.ResourceError, match="no node of the Ray cluster"):
        experiment.run_tasks(**ray_backend)


def test_shared_storage_runs_in_the_root_itself(
    in_hostile_cwd: Path, ray_backend: dict[str, Any]
) -> None:
    where = write(
        in_hostile_cwd,
        "where.py",
        """
        import os
        from executor import get_info, report
        info = get_info(requires_data=False)
        report({"workplace": info.workplace, "threads": os.environ["OMP_NUM_THREADS"]})
        """,
    )
    experiment = executor.Experiment(in_hostile_cwd / "root")
    experiment.add_task(model="where", run_command=where)

    results = experiment.run_tasks(shared_storage=True, **ray_backend)

    assert results.succeeded, results.outcomes[0].reason
    assert results.metrics[0] == {"workplace": results.workplaces[0], "threads": "1"}


def test_the_timeout_counts_from_the_start_on_a_node(
    in_hostile_cwd: Path, ray_backend: dict[str, Any]
) -> None:
    nap = write(in_hostile_cwd, "nap.py", "import time\ntime.sleep(1.5)\n")
    experiment = executor.Experiment(in_hostile_cwd / "root")
    fine = write(in_hostile_cwd, "fine.py", "print('ok')\n")
    experiment.add_task(model="warm", run_command=fine)
    experiment.run_tasks(**ray_backend)

    whole_cluster = cluster_cpus()
    for _ in range(3):
        experiment.add_task(model="nap", run_command=nap, cpus=whole_cluster, timeout=4)

    results = experiment.run_tasks(num_jobs=3, **ray_backend)

    # The three tasks take the whole cluster each, so they run one after the other: the
    # last waits in Ray's queue for longer than its timeout, which has not begun there.
    assert results.succeeded, results.summary()


def test_a_finished_run_resumes_without_running_again(
    in_hostile_cwd: Path, ray_backend: dict[str, Any]
) -> None:
    count = write(
        in_hostile_cwd,
        "count.py",
        """
        import os
        from executor import get_info
        path = os.path.join(get_info(requires_data=False).workplace, "runs.txt")
        previous = open(path).read() if os.path.exists(path) else ""
        open(path, "w").write(previous + "x")
        """,
    )
    experiment = executor.Experiment(in_hostile_cwd / "root")
    experiment.add_task(model="count", run_command=count)
    first = experiment.run_tasks(**ray_backend)

    again = executor.Experiment(in_hostile_cwd / "root")
    again.add_task(model="count", run_command=count)
    second = again.run_tasks(**ray_backend)
    forced = again.run_tasks(force=True, **ray_backend)

    assert first.succeeded and second.succeeded and forced.succeeded
    runs = Path(first.workplaces[0]) / "runs.txt"
    assert runs.read_text() == "xx"
    assert second.outcomes[0].state is TaskState.SUCCEEDED
    assert len(forced.outcomes[0].attempts) == 2


@pytest.mark.docker
def test_containers_run_on_the_node_and_stop_on_timeout(
    in_hostile_cwd: Path, ray_backend: dict[str, Any], lean_image: str
) -> None:
    train = write(
        in_hostile_cwd,
        "train.py",
        """
        import os
        from executor import get_info, report
        info = get_info()
        x, y, _, _ = info.data_list
        with open(os.path.join(info.workplace, "weights.txt"), "w") as stream:
            stream.write(str(x.sum()))
        report({"rows": int(x.shape[0]), "in_container": os.path.exists("/.dockerenv")})
        """,
    )
    hang = write(
        in_hostile_cwd, "hang.py", "import time\nprint('up', flush=True)\ntime.sleep(120)\n"
    )
    experiment = executor.Experiment(in_hostile_cwd / "root")
    experiment.add_task(
        [[1.0, 2.0], [3.0, 4.0]], [0, 1], model="train", run_command=train, image=lean_image
    )
    experiment.add_task(model="hang", run_command=hang, image=lean_image, timeout=3)

    results = experiment.run_tasks(num_jobs=2, grace=1.0, **ray_backend)

    trained, hung = results.outcomes
    assert trained.state is TaskState.SUCCEEDED, trained.reason
    assert results.metrics[0] == {"rows": 2, "in_container": True}
    assert (Path(trained.workplace) / "weights.txt").read_text() == "10.0"
    assert hung.state is TaskState.TIMED_OUT, hung.reason
    assert "up" in (Path(hung.workplace) / "_logs" / "attempt-1.stdout").read_text()


def test_repeat_with_runs_the_built_in_models_on_ray(
    hostile_dir: Path, ray_backend: dict[str, Any]
) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 3))
    y = (x[:, :1] > 0).astype(int)

    result = executor.repeat_with(
        x, y, models="linear", num_repeat=2, num_jobs=2, root=hostile_dir / "root", **ray_backend
    )

    assert not result.failures
    assert len(result.pipelines["linear"]) == 2
    predictions = result.pipelines["linear"][0].predict(x)
    assert len(predictions) == len(x)
    hosts = {outcome.attempts[-1].host for outcome in result.outcomes["linear"]}
    assert all("/" in host for host in hosts), hosts


def test_an_address_where_nothing_answers_is_refused_at_once(in_hostile_cwd: Path) -> None:
    from conftest import ray_or_skip

    ray_or_skip()
    import socket

    with socket.socket() as probe:  # a port that was free a moment ago
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    fine = write(in_hostile_cwd, "fine.py", "print('ok')\n")
    experiment = executor.Experiment(in_hostile_cwd / "root")
    experiment.add_task(model="fine", run_command=fine)

    with pytest.raises(executor.LaunchError, match="nothing answers at the Ray address"):
        experiment.run_tasks(backend="ray", address=f"127.0.0.1:{port}")
    assert not (experiment.root / "fine" / "0" / "__outcome__.json").exists()
