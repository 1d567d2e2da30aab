from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest

import executor
from executor.contract import RootLayout, Workplace, read_json, write_json_atomic
from executor.errors import ContractError, DataError, NotInTaskError


def test_atomic_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "file.json"
    write_json_atomic(target, {"a": 1})
    write_json_atomic(target, {"a": 2})
    assert read_json(target) == {"a": 2}
    assert [path.name for path in target.parent.iterdir()] == ["file.json"]


def test_corrupt_json_names_its_path(tmp_path: Path) -> None:
    torn = tmp_path / "__outcome__.json"
    torn.write_text('{"state": "runn')
    with pytest.raises(ContractError, match="not valid JSON") as caught:
        read_json(torn, what="outcome file")
    assert caught.value.path == str(torn)


def test_meta_with_wrong_version_is_refused(tmp_path: Path) -> None:
    workplace = Workplace(tmp_path / "m" / "0")
    write_json_atomic(workplace.meta_file, {"contract_version": 99})
    with pytest.raises(ContractError, match="contract version 99"):
        workplace.read_meta()


def test_get_info_outside_a_task(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EXECUTOR_WORKPLACE", raising=False)
    with pytest.raises(NotInTaskError, match="EXECUTOR_WORKPLACE is not set"):
        executor.get_info()


def test_get_info_with_missing_meta(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXECUTOR_WORKPLACE", str(tmp_path))
    with pytest.raises(ContractError, match="meta file is missing") as caught:
        executor.get_info()
    assert caught.value.path == str(tmp_path / "__meta__.json")


def test_get_info_with_corrupt_meta(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "__meta__.json").write_text("not json")
    monkeypatch.setenv("EXECUTOR_WORKPLACE", str(tmp_path))
    with pytest.raises(ContractError, match="not valid JSON"):
        executor.get_info()


def test_errors_survive_pickling() -> None:
    error = executor.LaunchError("it broke", workplace="/r/m/0", exit_code=3, stderr_tail="x")
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is executor.LaunchError
    assert copy.workplace == "/r/m/0" and copy.exit_code == 3
    assert str(copy) == str(error)
    assert isinstance(copy, RuntimeError) and isinstance(copy, executor.ExecutorError)


def test_iter_workplaces_sorts_numerically(tmp_path: Path) -> None:
    layout = RootLayout(tmp_path)
    for index in (10, 2, 0):
        write_json_atomic(layout.workplace("m", str(index)).meta_file, {})
    assert [w.key for w in layout.iter_workplaces()] == [("m", "0"), ("m", "2"), ("m", "10")]


def test_data_bundle_is_content_addressed(tmp_path: Path) -> None:
    experiment = executor.Experiment(tmp_path / "root")
    x = np.random.default_rng(0).random((20, 3))
    first = experiment.dump_data_bundle(x, x[:, :1])
    again = experiment.dump_data_bundle(x.copy(), x[:, :1].copy())
    other = experiment.dump_data_bundle(x + 1, x[:, :1])
    assert first == again != other
    assert sorted(p.name for p in Path(first).iterdir()) == ["__bundle__.json", "x.npy", "y.npy"]
    marker = json.loads((Path(first) / "__bundle__.json").read_text())
    assert marker["shapes"] == {"x": [20, 3], "y": [20, 1]}


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ((np.ones(5), np.ones(5)), "x must be 2-D"),
        ((np.ones((5, 2)), np.ones(4)), "x has 5 rows but y has 4"),
        ((np.ones((5, 2)), np.array([1.0, np.nan, 0, 1, 0])), "NaN"),
        (
            (np.ones((5, 2)), np.ones(5), np.ones((3, 2)), None),
            "x_cv and y_cv must be given together",
        ),
        (
            (np.ones((5, 2)), np.ones(5), np.ones((3, 4)), np.ones(3)),
            "x_cv has 4 columns but x has 2",
        ),
        ((np.array([["a", "b"]] * 5), np.ones(5)), "expected numbers"),
    ],
)
def test_bad_arrays_are_refused(tmp_path: Path, arrays: tuple, message: str) -> None:
    experiment = executor.Experiment(tmp_path / "root")
    with pytest.raises(DataError, match=message):
        experiment.dump_data_bundle(*arrays)
    assert not any((tmp_path / "root" / "__data__").glob("*/x.npy"))
