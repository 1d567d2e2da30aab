"""The reference document's Advanced Benchmarking, run end to end as the example script."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from executor.contract import Workplace

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "advanced_benchmarking.py"
MODELS = ["fcnn", "linear", "linear_svr", "svr", "tree_dnn"]


def run_example(root: Path, *extra: str) -> tuple[subprocess.CompletedProcess[str], dict]:
    saved = root.parent / "comparison.json"
    completed = subprocess.run(
        [sys.executable, str(EXAMPLE), "--root", str(root), "--save", str(saved), *extra],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    return completed, json.loads(saved.read_text())


def check_comparison(stdout: str, payload: dict, root: Path) -> None:
    table_rows = [line for line in stdout.splitlines() if line.startswith("|")]
    assert [row.split("|")[1].strip() for row in table_rows[2:]] == MODELS
    assert "-- " in stdout  # the best cells are marked

    methods = payload["methods"]
    assert sorted(methods) == MODELS
    for model in MODELS:
        summary = methods[model]["summary"]
        assert 0 < summary["mae"]["mean"] < 1 and 0 < summary["mse"]["mean"] < 1
        assert summary["mae"]["count"] == 1
    assert methods["svr"]["source"] == "pattern"
    assert methods["fcnn"]["source"] == "pipeline"
    # each scikit-learn pattern predicts with its own model
    assert methods["svr"]["values"]["mae"] != methods["linear_svr"]["values"]["mae"]

    for model in ["svr", "linear_svr"]:
        workplace = Workplace(root / model / "0")
        assert (workplace.path / "sk_model.pkl").is_file()
        assert set(workplace.read_metrics()) >= {"mae", "mse"}


@pytest.mark.timeout(300)
def test_advanced_benchmarking_with_processes(tmp_path):
    root = tmp_path / "experiment"

    completed, payload = run_example(root, "--launcher", "process")

    check_comparison(completed.stdout, payload, root)


@pytest.mark.docker
@pytest.mark.timeout(300)
def test_advanced_benchmarking_in_containers(tmp_path, docker_image):
    root = tmp_path / "experiment"

    completed, payload = run_example(root, "--launcher", "docker", "--image", docker_image)

    check_comparison(completed.stdout, payload, root)
