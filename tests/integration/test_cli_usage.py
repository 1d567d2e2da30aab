"""Usage errors and help of every command: one line, status 2, nothing run or written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_cli_support import EXAMPLES, assert_one_line_error, run_cli

pytestmark = pytest.mark.timeout(120)

COMMANDS = ("run", "status", "logs", "evaluate", "tune", "clean")


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(command: str, tmp_path: Path) -> None:
    result = run_cli(command, "--help", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: executor {command}")
    assert "examples:" in result.stdout
    assert f"executor {command} " in result.stdout.split("examples:")[1]


def test_top_level_help_lists_the_commands(tmp_path: Path) -> None:
    result = run_cli("--help", cwd=tmp_path)

    assert result.returncode == 0
    for command in COMMANDS:
        assert command in result.stdout


def test_no_command_is_a_usage_error(tmp_path: Path) -> None:
    assert_one_line_error(run_cli(cwd=tmp_path), "COMMAND")


def test_unknown_command(tmp_path: Path) -> None:
    assert_one_line_error(run_cli("launch", cwd=tmp_path), "'launch'", "executor --help")


def test_unknown_option(tmp_path: Path) -> None:
    assert_one_line_error(run_cli("run", "--epochs", "3", cwd=tmp_path), "--epochs")


def test_missing_spec_file(tmp_path: Path) -> None:
    result = run_cli("run", "nowhere.toml", cwd=tmp_path)
    assert_one_line_error(result, "does not exist", "nowhere.toml")
    assert not (tmp_path / "__experiment__").exists()


def test_spec_with_an_unknown_suffix(tmp_path: Path) -> None:
    (tmp_path / "spec.yaml").write_text("jobs: 2\n")
    assert_one_line_error(run_cli("run", "spec.yaml", cwd=tmp_path), ".toml or .json")


def test_bad_spec_key_names_the_key_and_the_known_ones(tmp_path: Path) -> None:
    (tmp_path / "spec.toml").write_text('jbos = 2\n[data]\ndataset = "iris"\n')
    assert_one_line_error(run_cli("run", "spec.toml", cwd=tmp_path), "'jbos'", "jobs", "spec.toml")


def test_bad_key_inside_a_model_entry(tmp_path: Path) -> None:
    (tmp_path / "spec.toml").write_text('[models.fcnn]\nrepeat = 2\n[data]\ndataset = "iris"\n')
    assert_one_line_error(run_cli("run", "spec.toml", cwd=tmp_path), "'repeat'", "models.fcnn")


def test_spec_that_is_not_toml(tmp_path: Path) -> None:
    (tmp_path / "spec.toml").write_text("jobs = = 2\n")
    assert_one_line_error(run_cli("run", "spec.toml", cwd=tmp_path), "not valid TOML")


def test_spec_that_is_not_json(tmp_path: Path) -> None:
    (tmp_path / "spec.json").write_text('{"jobs": 2,}')
    assert_one_line_error(run_cli("run", "spec.json", cwd=tmp_path), "not valid JSON")


def test_spec_value_of_the_wrong_type(tmp_path: Path) -> None:
    (tmp_path / "spec.json").write_text(json.dumps({"jobs": "two", "data": {"dataset": "iris"}}))
    assert_one_line_error(run_cli("run", "spec.json", cwd=tmp_path), "jobs", "'two'")


def test_spec_with_two_data_sources(tmp_path: Path) -> None:
    spec = {"data": {"dataset": "iris", "csv": "train.csv", "label": "y"}}
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    assert_one_line_error(run_cli("run", "spec.json", cwd=tmp_path), "exactly one of")


def test_built_in_models_need_data(tmp_path: Path) -> None:
    (tmp_path / "spec.toml").write_text('models = ["fcnn"]\n')
    assert_one_line_error(run_cli("run", "spec.toml", cwd=tmp_path), "need data")


def test_unknown_model(tmp_path: Path) -> None:
    result = run_cli("run", "--models", "fcnn,resnet", cwd=tmp_path)
    assert_one_line_error(result, "'resnet'", "linear, fcnn, tree_dnn")
    assert not (tmp_path / "__experiment__").exists()


def test_unknown_config_key(tmp_path: Path) -> None:
    result = run_cli("run", "--models", "fcnn", "--config", '{"num_epoch": 3}', cwd=tmp_path)
    assert_one_line_error(result, "'num_epoch'", "models.fcnn")


def test_config_that_is_not_json(tmp_path: Path) -> None:
    assert_one_line_error(run_cli("run", "--config", "{epochs: 3}", cwd=tmp_path), "--config")


@pytest.mark.parametrize("value", ["x", "-1", "0,0", "1.5", "0,,a"])
def test_bad_gpus_value(value: str, tmp_path: Path) -> None:
    assert_one_line_error(run_cli("run", "--gpus", value, cwd=tmp_path), "--gpus")


def test_bad_gpus_in_a_spec(tmp_path: Path) -> None:
    (tmp_path / "spec.toml").write_text('gpus = "some"\n[data]\ndataset = "iris"\n')
    assert_one_line_error(run_cli("run", "spec.toml", cwd=tmp_path), "gpus", "spec.toml")


def test_unknown_dataset(tmp_path: Path) -> None:
    assert_one_line_error(run_cli("run", "--dataset", "mnist", cwd=tmp_path), "'mnist'", "iris")


def test_label_without_csv(tmp_path: Path) -> None:
    assert_one_line_error(run_cli("run", "--label", "y", cwd=tmp_path), "--label")


def test_csv_without_the_label_column(tmp_path: Path) -> None:
    (tmp_path / "train.csv").write_text("a,b,target\n1,2,0\n3,4,1\n")
    result = run_cli("run", "--csv", "train.csv", "--label", "y", cwd=tmp_path)
    assert_one_line_error(result, "'y'", "target")


def test_missing_npy_file(tmp_path: Path) -> None:
    result = run_cli("run", "--x", "x.npy", "--y", "y.npy", cwd=tmp_path)
    assert_one_line_error(result, "does not exist", "x.npy")


def test_unknown_metric(tmp_path: Path) -> None:
    assert_one_line_error(run_cli("run", "--metrics", "acc,accuracy", cwd=tmp_path), "'accuracy'")


def test_address_without_ray(tmp_path: Path) -> None:
    assert_one_line_error(run_cli("run", "--address", "auto", cwd=tmp_path), "ray")


@pytest.mark.parametrize("command", ["status", "evaluate", "clean"])
def test_commands_refuse_a_folder_that_is_not_a_root(command: str, tmp_path: Path) -> None:
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "keep.txt").write_text("mine")

    assert_one_line_error(run_cli(command, ".", cwd=tmp_path), "not an experiment root")
    assert_one_line_error(run_cli(command, "missing", cwd=tmp_path), "does not exist")
    assert (tmp_path / "notes" / "keep.txt").read_text() == "mine"


def test_logs_with_a_bad_key(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "__data__").mkdir(parents=True)
    assert_one_line_error(run_cli("logs", "root", "fcnn", cwd=tmp_path), "MODEL/NAME")
    assert_one_line_error(run_cli("logs", "root", "fcnn/0", cwd=tmp_path), "no task fcnn/0")


def test_evaluate_with_a_bad_export_name(tmp_path: Path) -> None:
    (tmp_path / "root" / "__data__").mkdir(parents=True)
    result = run_cli("evaluate", "root", "--export", "table.xlsx", cwd=tmp_path)
    assert_one_line_error(result, "--export", "table.xlsx")


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    result = run_cli("run", "--models", "resnet", "--debug", cwd=tmp_path)

    assert result.returncode == 2
    assert "Traceback" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("executor: error: ")


def test_dry_run_of_the_default_job(tmp_path: Path) -> None:
    result = run_cli("run", "--dry-run", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    keys = [line.split(":")[0] for line in result.stdout.splitlines() if "/" in line.split(":")[0]]
    expected = [
        f"{model}/{index}" for model in ("linear", "fcnn", "tree_dnn") for index in range(3)
    ]
    assert keys == expected
    assert "breast_cancer" in result.stdout
    assert "held-out validation rows" in result.stdout
    assert not (tmp_path / "__experiment__").exists()


def test_flags_override_the_spec(tmp_path: Path) -> None:
    result = run_cli(
        "run",
        EXAMPLES / "quick.toml",
        "--models",
        "fcnn",
        "--repeats",
        "3",
        "--config",
        '{"num_epochs": 2}',
        "--root",
        "here",
        "--dry-run",
        cwd=tmp_path,
    )

    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("fcnn/")]
    assert [line.split(":")[0] for line in lines] == ["fcnn/0", "fcnn/1", "fcnn/2"]
    assert '"num_epochs": 2' in lines[0]
    assert '"hidden_units": [16]' in lines[0]
    assert f"root: {tmp_path / 'here'}" in result.stdout


@pytest.mark.parametrize(
    "spec", sorted(p.name for p in EXAMPLES.iterdir() if p.suffix in (".toml", ".json"))
)
def test_every_example_spec_is_valid(spec: str, tmp_path: Path) -> None:
    command = "tune" if spec.startswith("tune") else "run"
    result = run_cli(
        command, EXAMPLES / spec, "--root", tmp_path / "root", "--dry-run", cwd=tmp_path
    )

    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "root").exists()
