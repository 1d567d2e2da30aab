"""The search's saved state, its validation split and its result, without running tasks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from executor.errors import ContractError, DataError, InvalidInputError
from executor.hpo.result import TuneResult
from executor.hpo.split import validation_split
from executor.hpo.state import (
    CandidateRecord,
    SearchState,
    load_state,
    save_state,
    short_hash,
    state_file,
)


def record(number: int, code: str, lr: float, accs: list[float], state: str = "complete"):
    metrics = [{"acc": acc, "auc": 0.9 + acc / 10} for acc in accs]
    value = float(np.mean(accs) - np.std(accs)) if accs else None
    return CandidateRecord(
        number=number,
        code=code,
        params={"optimizer": "adam", "optimizer_config": {"lr": lr}},
        config={"task_type": "clf", "optimizer": "adam", "optimizer_config": {"lr": lr}},
        state=state,
        value=value,
        metrics=metrics,
        workplaces=[f"/w/{code}-{i}" for i in range(len(accs) or 1)],
        outcomes=["succeeded"] * len(accs) or ["failed"],
        reasons=[None] * len(accs) or ["boom"],
    )


def make_result(tmp_path: Path, trials: list[CandidateRecord], best: str) -> TuneResult:
    best_trial = next(trial for trial in trials if trial.code == best)
    return TuneResult(
        best_param={"model": "fcnn", **best_trial.config},
        best_code=best,
        best_value=float(best_trial.value or 0.0),
        objective="acc",
        maximize=True,
        metrics=["acc", "auc"],
        directions={"acc": True, "auc": True},
        trials=trials,
        search_id="abcd1234",
        state_file=tmp_path / "state.json",
        root=tmp_path,
        model="fcnn",
    )


def test_table_best_block_and_history(tmp_path: Path) -> None:
    trials = [
        record(0, "aaaa0000", 1e-3, [0.90, 0.94]),
        record(1, "bbbb1111", 1e-2, [], state="failed"),
        record(2, "cccc2222", 3e-2, [0.98, 0.96]),
        record(3, "dddd3333", 1e-4, [0.80, 0.80]),
    ]
    result = make_result(tmp_path, trials, "cccc2222")

    table = result.table()
    rows = [line for line in table.splitlines() if line.startswith("|  ")]
    assert [row.split("|")[1].strip() for row in rows[2:]] == [t.code for t in trials]
    failed_row = next(row for row in rows if "bbbb1111" in row)
    assert failed_row.count(" - ") == 6
    assert "-- 0.970000 --" in table

    block = result.best_params_text()
    assert "acc  (cccc2222) (0.970000 ± 0.010000)" in block
    assert "best (cccc2222)" in block
    assert "{'optimizer': 'adam', 'optimizer_config': {'lr': 0.03}}" in block
    assert str(result).startswith(table)

    assert (
        result.best_so_far()
        == [pytest.approx(0.90), pytest.approx(0.90)] + [pytest.approx(0.96)] * 2
    )
    assert [trial.code for trial in result.failed] == ["bbbb1111"]
    assert result.best_trial.code == "cccc2222"

    assert result.plot(tmp_path / "plot.png").stat().st_size > 0
    with pytest.raises(InvalidInputError, match="png"):
        result.plot(tmp_path / "plot.txt")


def test_state_round_trips_and_refuses_a_foreign_file(tmp_path: Path) -> None:
    path = state_file(tmp_path, "abcd1234")
    assert path == tmp_path.absolute() / "__search__" / "abcd1234.json"
    assert load_state(path) is None

    state = SearchState(
        search_id="abcd1234",
        settings={"search": "bo"},
        searcher={"searcher": "bo", "trials": []},
        candidates=[record(0, "aaaa0000", 1e-3, [0.9])],
        split={"kind": "given"},
    )
    save_state(path, state)
    loaded = load_state(path)

    assert loaded is not None
    assert loaded.to_json() | {"updated_at": None} == state.to_json() | {"updated_at": None}
    assert loaded.candidates[0].finished and loaded.candidates[0].params["optimizer"] == "adam"

    path.write_text(json.dumps({"format": "something else"}))
    with pytest.raises(ContractError, match="unknown format"):
        load_state(path)


def test_short_hash_ignores_key_order() -> None:
    assert short_hash({"a": 1, "b": {"c": 2}}) == short_hash({"b": {"c": 2}, "a": 1})
    assert short_hash({"a": 1}) != short_hash({"a": 2})
    assert len(short_hash({"a": 1})) == 8


def test_classification_split_is_stratified_fixed_and_recorded() -> None:
    x = np.arange(100, dtype=float).reshape(50, 2)
    y = np.array([0] * 30 + [1] * 15 + [2] * 5)

    first = validation_split(x, y, None, None, task_type="clf", fraction=0.2, seed=3)
    again = validation_split(x, y, None, None, task_type="clf", fraction=0.2, seed=3)
    other = validation_split(x, y, None, None, task_type="clf", fraction=0.2, seed=4)

    held = first.record["validation_rows"]
    assert held == again.record["validation_rows"] != other.record["validation_rows"]
    assert np.bincount(y[held]).tolist() == [6, 3, 1]
    assert first.record["stratified"] and first.record["kind"] == "split"
    assert np.array_equal(first.x_cv, x[held]) and len(first.x) == 40
    assert not set(map(tuple, first.x.tolist())) & set(map(tuple, first.x_cv.tolist()))


def test_given_validation_data_is_used_as_it_is() -> None:
    x, y = np.zeros((4, 1)), np.zeros(4)

    given = validation_split(x, y, x[:2], y[:2], task_type="reg", fraction=0.2, seed=0)
    assert given.record == {"kind": "given"} and given.x_cv.shape == (2, 1)

    with pytest.raises(InvalidInputError, match="both x_cv and y_cv"):
        validation_split(x, y, x, None, task_type="reg", fraction=0.2, seed=0)
    with pytest.raises(InvalidInputError, match="cv_split"):
        validation_split(x, y, None, None, task_type="reg", fraction=1.5, seed=0)
    with pytest.raises(DataError, match="too few rows"):
        validation_split(x[:1], y[:1], None, None, task_type="reg", fraction=0.2, seed=0)
