"""``executor run``, ``status``, ``logs`` and ``evaluate`` on real runs, as a user types them."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from test_cli_support import EXAMPLES, run_cli, write_script

pytestmark = pytest.mark.timeout(300)


def table_of(stdout: str) -> str:
    """The comparison table printed on stdout (from its first rule to its last)."""
    lines = stdout.strip().splitlines()
    rules = [index for index, line in enumerate(lines) if line.startswith("=")]
    assert len(rules) >= 2, stdout
    return "\n".join(lines[rules[0] : rules[-1] + 1])


def test_spec_run_resumes_and_evaluates(in_hostile_cwd: Path) -> None:
    shutil.copy(EXAMPLES / "quick.toml", in_hostile_cwd / "quick.toml")

    first = run_cli("run", "quick.toml", cwd=in_hostile_cwd)

    assert first.returncode == 0, first.stderr
    table = table_of(first.stdout)
    assert "linear" in table and "fcnn" in table and "acc" in table and "auc" in table
    assert "[4/4]" in first.stderr
    assert "pipelines scored on 36 held-out validation rows" in first.stderr

    again = run_cli("run", "quick.toml", cwd=in_hostile_cwd)

    assert again.returncode == 0, again.stderr
    assert "4 already done, skipped" in again.stderr
    assert table_of(again.stdout) == table

    status = run_cli("status", "__experiment__", "--json", cwd=in_hostile_cwd)
    report = json.loads(status.stdout)
    assert report["totals"] == {"succeeded": 4}
    assert [task["key"] for task in report["tasks"]] == ["fcnn/0", "fcnn/1", "linear/0", "linear/1"]
    assert all(task["attempts"] == 1 for task in report["tasks"])

    exported = run_cli(
        "evaluate",
        "__experiment__",
        "--export",
        "table.json",
        "--export",
        "table.csv",
        "--export",
        "table.md",
        cwd=in_hostile_cwd,
    )
    assert exported.returncode == 0, exported.stderr
    assert table_of(exported.stdout) == table
    document = json.loads((in_hostile_cwd / "table.json").read_text())
    assert sorted(document["methods"]) == ["fcnn", "linear"]
    assert all(len(m["values"]["acc"]) == 2 for m in document["methods"].values())
    assert (in_hostile_cwd / "table.csv").read_text().startswith("method,metric,mean")
    assert (in_hostile_cwd / "table.md").read_text().startswith("| method |")

    logs = run_cli("logs", "__experiment__", "fcnn/1", cwd=in_hostile_cwd)
    assert logs.returncode == 0
    assert "saved the fcnn pipeline" in logs.stderr


def test_status_table_has_a_line_per_task_and_totals(tmp_path: Path) -> None:
    run = run_cli(
        "run",
        "--dataset",
        "wine",
        "--models",
        "sklearn.linear_model.LogisticRegression",
        "--config",
        '{"max_iter": 500}',
        "--repeats",
        "2",
        "--jobs",
        "2",
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    assert "sklearn.linear_model.LogisticRegression" in table_of(run.stdout)

    status = run_cli("status", "__experiment__", cwd=tmp_path)

    lines = status.stdout.strip().splitlines()
    assert lines[0].split() == ["KEY", "STATE", "ATTEMPTS", "DURATION", "REASON"]
    assert [line.split()[:3] for line in lines[1:3]] == [
        ["sklearn.linear_model.LogisticRegression/0", "succeeded", "1"],
        ["sklearn.linear_model.LogisticRegression/1", "succeeded", "1"],
    ]
    assert lines[-1] == "2 task(s): 2 succeeded"

    plotted = run_cli("evaluate", "__experiment__", "--plot", "table.png", cwd=tmp_path)
    assert plotted.returncode == 0, plotted.stderr
    assert (tmp_path / "table.png").read_bytes().startswith(b"\x89PNG")


def test_failed_task_exits_1_naming_it_and_its_logs(in_hostile_cwd: Path) -> None:
    write_script(
        in_hostile_cwd,
        "fails.py",
        """
        import sys
        info = executor.get_info()
        print("about to fail")
        sys.exit("the data is not what I expected")
        """,
    )

    result = run_cli(
        "run",
        "--run-command",
        "python fails.py",
        "--models",
        "broken",
        "--repeats",
        "1",
        cwd=in_hostile_cwd,
    )

    assert result.returncode == 1, result.stderr
    assert "broken/0: failed: exit code 1" in result.stderr
    assert "the data is not what I expected" in result.stderr
    assert "executor logs" in result.stderr and "broken/0" in result.stderr
    assert "Traceback" not in result.stderr

    status = run_cli("status", "__experiment__", cwd=in_hostile_cwd)
    assert "broken/0  failed" in status.stdout
    assert "the data is not what I expected" in status.stdout

    logs = run_cli("logs", "__experiment__", "broken/0", cwd=in_hostile_cwd)
    assert logs.stdout == "about to fail\n"
    assert "the data is not what I expected" in logs.stderr


def test_retries_are_attempts_that_logs_can_show(tmp_path: Path) -> None:
    write_script(
        tmp_path,
        "flaky.py",
        """
        import os
        info = executor.get_info()
        marker = os.path.join(info.workplace, "tried")
        if not os.path.exists(marker):
            open(marker, "w").close()
            raise SystemExit("first try fails")
        print("second try works")
        executor.report({"acc": 0.5})
        """,
    )

    result = run_cli(
        "run",
        "--run-command",
        "python flaky.py",
        "--models",
        "flaky",
        "--repeats",
        "1",
        "--retries",
        "1",
        cwd=tmp_path,
    )

    assert result.returncode == 0, result.stderr
    assert "compared through the metrics the tasks reported" in result.stderr
    first = run_cli("logs", "__experiment__", "flaky/0", "--attempt", "1", cwd=tmp_path)
    latest = run_cli("logs", "__experiment__", "flaky/0", cwd=tmp_path)
    assert "first try fails" in first.stderr
    assert latest.stdout == "second try works\n"
    report = json.loads(run_cli("status", "__experiment__", "--json", cwd=tmp_path).stdout)
    assert report["tasks"][0]["attempts"] == 2


DATA_PROBE = """
import json, os
import numpy as np
info = executor.get_info()
x, y, x_cv, y_cv = info.data_list
shapes = {"x": list(x.shape), "x_cv": None if x_cv is None else list(x_cv.shape),
          "labels": sorted(set(np.asarray(y).ravel().tolist()))}
with open(os.path.join(info.workplace, "shapes.json"), "w") as stream:
    json.dump(shapes, stream)
executor.report({"acc": 1.0})
"""


def bundles_of(root: Path) -> list[Path]:
    return sorted(path for path in (root / "__data__").iterdir() if not path.name.startswith("."))


def test_csv_data_gets_a_fixed_stratified_split(tmp_path: Path) -> None:
    write_script(tmp_path, "probe.py", DATA_PROBE)
    rows = ["f1,f2,kind"] + [f"{i},{i * 2},{'cat' if i % 4 else 'dog'}" for i in range(80)]
    (tmp_path / "train.csv").write_text("\n".join(rows) + "\n")
    command = ["run", "--csv", "train.csv", "--label", "kind", "--validation", "0.25"]
    command += ["--run-command", "python probe.py", "--models", "probe", "--repeats", "2"]

    result = run_cli(*command, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    shapes = json.loads((tmp_path / "__experiment__/probe/0/shapes.json").read_text())
    assert shapes == {"x": [60, 2], "x_cv": [20, 2], "labels": ["cat", "dog"]}
    bundles = bundles_of(tmp_path / "__experiment__")
    assert len(bundles) == 1
    held_out = np.load(bundles[0] / "y_cv.npy")
    assert sorted(held_out.ravel().tolist()).count("dog") == 5

    again = run_cli(*command, cwd=tmp_path)
    assert "2 already done, skipped" in again.stderr
    assert bundles_of(tmp_path / "__experiment__") == bundles


def test_npy_data_with_given_validation_files(tmp_path: Path) -> None:
    write_script(tmp_path, "probe.py", DATA_PROBE)
    generator = np.random.default_rng(0)
    for name, rows in (("x", 30), ("x_cv", 10)):
        np.save(tmp_path / f"{name}.npy", generator.normal(size=(rows, 3)))
    np.save(tmp_path / "y.npy", np.arange(30) % 2)
    np.save(tmp_path / "y_cv.npy", np.arange(10) % 2)
    spec = {
        "data": {"x": "x.npy", "y": "y.npy", "x_cv": "x_cv.npy", "y_cv": "y_cv.npy"},
        "models": {"probe": {"run_command": "python probe.py", "repeats": 1}},
    }
    (tmp_path / "spec.json").write_text(json.dumps(spec))

    result = run_cli("run", "spec.json", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    shapes = json.loads((tmp_path / "__experiment__/probe/0/shapes.json").read_text())
    assert shapes == {"x": [30, 3], "x_cv": [10, 3], "labels": [0, 1]}


def test_custom_task_example_runs_from_its_own_folder(tmp_path: Path) -> None:
    result = run_cli("run", EXAMPLES / "custom_task.toml", "--root", tmp_path / "r", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    table = table_of(result.stdout)
    assert "svr" in table and "linear_svr" in table and "mae" in table
    assert (tmp_path / "r/svr/0/sk_model.pkl").is_file()


def test_logs_follow_prints_until_the_task_ends(tmp_path: Path) -> None:
    write_script(
        tmp_path,
        "slow.py",
        """
        import sys, time
        info = executor.get_info()
        for index in range(5):
            print(f"line {index}", flush=True)
            time.sleep(0.4)
        print("done on stderr", file=sys.stderr)
        executor.report({"acc": 1.0})
        """,
    )
    command = [sys.executable, "-m", "executor", "run", "--run-command", "python slow.py"]
    command += ["--models", "slow", "--repeats", "1", "--root", "r"]
    run = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        meta = tmp_path / "r/slow/0/__meta__.json"
        deadline = time.monotonic() + 120
        while not meta.is_file() and time.monotonic() < deadline:
            time.sleep(0.05)

        follow = run_cli("logs", "r", "slow/0", "--follow", cwd=tmp_path, timeout=200)
    finally:
        run.wait(timeout=200)

    assert run.returncode == 0
    assert follow.returncode == 0, follow.stderr
    assert follow.stdout == "".join(f"line {index}\n" for index in range(5))
    assert "done on stderr" in follow.stderr
    assert follow.stderr.strip().endswith("slow/0 succeeded")


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_the_default_job(tmp_path: Path) -> None:
    result = run_cli("run", cwd=tmp_path, timeout=850)

    assert result.returncode == 0, result.stderr
    table = table_of(result.stdout)
    for name in ("linear", "fcnn", "tree_dnn", "acc", "auc", "mean", "std", "score"):
        assert name in table
    report = json.loads(run_cli("status", "__experiment__", "--json", cwd=tmp_path).stdout)
    assert report["totals"] == {"succeeded": 9}
