"""``executor tune``: searches from spec files, resumed when run again; their usage errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_cli_support import EXAMPLES, assert_one_line_error, run_cli, write_script

pytestmark = pytest.mark.timeout(300)

QUADRATIC = """
info = executor.get_info(requires_data=False)
executor.report({"loss": (info.kwargs["x"] - 0.3) ** 2 + info.kwargs["offset"]})
"""


def write_spec(folder: Path, text: str) -> Path:
    path = folder / "search.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_custom_task_search_resumes(in_hostile_cwd: Path) -> None:
    write_script(in_hostile_cwd, "quadratic.py", QUADRATIC)
    write_spec(
        in_hostile_cwd,
        """
        run_command = "python quadratic.py"
        objective = "loss"
        maximize = false
        search = "random"
        num_search = 3
        num_repeat = 1
        num_parallel = 2
        config = { offset = 1.0 }
        [params]
        x = { float = [0.0, 1.0] }
        """.replace("\n        ", "\n"),
    )

    first = run_cli("tune", "search.toml", "--export", "candidates.json", cwd=in_hostile_cwd)

    assert first.returncode == 0, first.stderr
    assert "best (" in first.stdout
    assert first.stderr.count("running candidate(s)") >= 2
    document = json.loads((in_hostile_cwd / "candidates.json").read_text())
    assert len(document["methods"]) == 3
    for method in document["methods"].values():
        assert method["values"]["loss"][0] >= 1.0
    states = list((in_hostile_cwd / "__tune__" / "__search__").glob("*.json"))
    assert len(states) == 1

    again = run_cli("tune", "search.toml", cwd=in_hostile_cwd)

    assert again.returncode == 0, again.stderr
    assert "running candidate(s)" not in again.stderr
    assert again.stdout == first.stdout


def test_the_example_search_of_a_built_in_model(tmp_path: Path) -> None:
    result = run_cli(
        "tune",
        EXAMPLES / "tune.toml",
        "--root",
        "search",
        "--num-search",
        "2",
        "--plot",
        "search.png",
        cwd=tmp_path,
    )

    assert result.returncode == 0, result.stderr
    assert "acc" in result.stdout and "auc" in result.stdout and "best (" in result.stdout
    assert "'optimizer': " in result.stdout
    assert (tmp_path / "search.png").read_bytes().startswith(b"\x89PNG")
    status = json.loads(run_cli("status", "search", "--json", cwd=tmp_path).stdout)
    assert status["totals"] == {"succeeded": 4}


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        (
            'model = "fcnn"\n[data]\ndataset = "iris"\n[params]\nlr = { float = [0.1] }\n',
            ["lr.float"],
        ),
        ('[data]\ndataset = "iris"\n[params]\nlr = { floats = [0.1, 1] }\n', []),
        ('[data]\ndataset = "iris"\n[params]\nlr = { float = [1, 0.1] }\n', ["lr"]),
        ('[data]\ndataset = "iris"\n[params]\nk = { choice = [] }\n', ["k.choice"]),
        ('[data]\ndataset = "iris"\n[params]\nk = { choice = [1], log = true }\n', ["log"]),
        ('num_serach = 3\n[data]\ndataset = "iris"\n', ["'num_serach'"]),
        ('search = "grad"\n[data]\ndataset = "iris"\n', ["search"]),
        ('run_command = "python t.py"\n', ["objective"]),
        ('model = "fcnn"\n', ["needs data"]),
        ('[data]\ndataset = "iris"\nsplit_seed = 3\n', ["seed"]),
        ('[data]\ndataset = "iris"\n[config]\nseed = 3\n', ["seed"]),
    ],
)
def test_bad_search_specs(text: str, fragments: list[str], tmp_path: Path) -> None:
    write_spec(tmp_path, text)
    (tmp_path / "t.py").write_text("")

    result = run_cli("tune", "search.toml", cwd=tmp_path)

    assert_one_line_error(result, *fragments)
    assert not (tmp_path / "__tune__" / "__search__").exists()
