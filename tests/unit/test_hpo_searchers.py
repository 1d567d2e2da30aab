"""The ask/tell searchers: trial states, distinct parallel points, directions, state round trip."""

from __future__ import annotations

import json
import math

import pytest

import executor
from executor.errors import InvalidInputError, UnknownNameError
from executor.hpo.searchers import Searcher, TrialState, make_searcher
from executor.hpo.space import SearchSpace

FAST_BO = {"num_initial": 2, "gp_restarts": 0}


def plane_space() -> SearchSpace:
    return SearchSpace(
        {
            "x": executor.Float(-1.0, 1.0),
            "nested": {"lr": executor.Float(1e-4, 1e-1, log=True), "depth": executor.Int(1, 5)},
            "kind": executor.Choice(["a", "b", "c"]),
        }
    )


def bowl(params: dict) -> float:
    """Lowest (0) at x = 0.3, lr = 1e-2, depth = 3, kind = b."""
    kind_penalty = {"a": 0.5, "b": 0.0, "c": 0.3}[params["kind"]]
    nested = params["nested"]
    return (
        (params["x"] - 0.3) ** 2
        + (math.log10(nested["lr"]) + 2) ** 2 / 4
        + (nested["depth"] - 3) ** 2 / 10
        + kind_penalty
    )


def searcher(name: str, **options: object) -> Searcher:
    extra: dict = {"maximize": False, **(FAST_BO if name == "bo" else {})}
    extra.update(options)
    return make_searcher(name, plane_space(), seed=3, **extra)


@pytest.mark.parametrize("name", ["bo", "random", "grid"])
def test_ask_and_tell_move_trials_through_their_states(name: str) -> None:
    search = searcher(name)

    for _ in range(5):
        trial = search.ask()
        assert trial.state is TrialState.RUNNING and not trial.state.is_finished()
        params = trial.params
        assert -1.0 <= params["x"] <= 1.0
        assert 1e-4 <= params["nested"]["lr"] <= 1e-1
        assert params["nested"]["depth"] in range(1, 6)
        assert params["kind"] in ("a", "b", "c")
        told = search.tell(trial.number, bowl(params))
        assert told.state is TrialState.COMPLETE and told.state.is_finished()

    failed = search.ask()
    search.tell(failed.number, None, TrialState.FAILED)

    assert [trial.number for trial in search.trials] == list(range(6))
    assert len(search.complete) == 5 and not search.running
    assert search.best is not None
    assert search.best.value == min(trial.value for trial in search.complete)


def test_tell_refuses_misuse() -> None:
    search = searcher("random")
    trial = search.ask()

    with pytest.raises(InvalidInputError, match="finite value"):
        search.tell(trial.number, math.nan)
    with pytest.raises(InvalidInputError, match="finished state"):
        search.tell(trial.number, 1.0, TrialState.RUNNING)
    search.tell(trial.number, 1.0)
    with pytest.raises(InvalidInputError, match="already told"):
        search.tell(trial.number, 2.0)
    with pytest.raises(InvalidInputError, match="no trial has this number"):
        search.tell(7, 1.0)
    with pytest.raises(UnknownNameError, match="unknown searcher"):
        make_searcher("tpe", plane_space())


def test_grid_walks_every_combination_then_stops() -> None:
    space = SearchSpace({"kind": executor.Choice(["a", "b"]), "x": executor.Float(0, 1)})
    grid = make_searcher("grid", space, num_points=3)

    seen = []
    while not grid.exhausted:
        trial = grid.ask()
        seen.append((trial.params["kind"], trial.params["x"]))
        grid.tell(trial.number, 0.0)

    assert sorted(seen) == sorted((k, x) for k in "ab" for x in (0.0, 0.5, 1.0))
    with pytest.raises(InvalidInputError, match="no points left"):
        grid.ask()

    shuffled = make_searcher("grid", space, num_points=3, shuffle=True, seed=1)
    order = [shuffled.ask().params for _ in range(6)]
    again = make_searcher("grid", space, num_points=3, shuffle=True, seed=1)
    assert [again.ask().params for _ in range(6)] == order


def test_random_search_is_fixed_by_its_seed() -> None:
    first = [searcher("random").ask().params for _ in range(1)]
    one, two = searcher("random"), searcher("random")

    assert [one.ask().params for _ in range(4)] == [two.ask().params for _ in range(4)]
    other = make_searcher("random", plane_space(), seed=4)
    assert other.ask().params != first[0]


@pytest.mark.parametrize("name", ["bo", "random"])
def test_parallel_suggestions_are_distinct(name: str) -> None:
    search = searcher(name)
    for _ in range(3):
        trial = search.ask()
        search.tell(trial.number, bowl(trial.params))

    in_flight = [search.ask() for _ in range(4)]

    units = {trial.unit for trial in in_flight} | {trial.unit for trial in search.complete}
    assert len(units) == 7
    assert len(search.running) == 4


def test_bo_never_crashes_on_a_space_smaller_than_its_budget() -> None:
    space = SearchSpace({"kind": executor.Choice(["a", "b"]), "flag": executor.Choice([True])})
    search = make_searcher("bo", space, seed=0, **FAST_BO)

    for _ in range(6):
        trial = search.ask()
        search.tell(trial.number, 1.0 if trial.params["kind"] == "a" else 2.0)

    assert {trial.params["kind"] for trial in search.trials} == {"a", "b"}
    assert search.best is not None and search.best.params["kind"] == "b"


def test_bo_negates_a_minimised_objective_exactly_once() -> None:
    minimising = searcher("bo", maximize=False)
    maximising = searcher("bo", maximize=True)

    for _ in range(6):
        low, high = minimising.ask(), maximising.ask()
        assert low.params == high.params
        minimising.tell(low.number, bowl(low.params))
        maximising.tell(high.number, -bowl(high.params))

    assert minimising.best is not None and maximising.best is not None
    assert minimising.best.number == maximising.best.number


def test_bo_improves_on_its_random_start() -> None:
    space = SearchSpace({"x": executor.Float(-1.0, 1.0), "y": executor.Float(-1.0, 1.0)})
    search = make_searcher("bo", space, seed=1, maximize=False, num_initial=3, gp_restarts=0)

    for _ in range(12):
        trial = search.ask()
        search.tell(trial.number, (trial.params["x"] - 0.3) ** 2 + (trial.params["y"] + 0.2) ** 2)

    best_random = min(trial.value for trial in search.trials[:3] if trial.value is not None)
    assert search.best is not None and search.best.value is not None
    assert search.best.value < min(best_random, 0.02)


@pytest.mark.parametrize("name", ["bo", "random", "grid"])
def test_state_round_trips_through_plain_json(name: str) -> None:
    original = searcher(name)
    for _ in range(4):
        trial = original.ask()
        original.tell(trial.number, bowl(trial.params))
    broken = original.ask()
    original.tell(broken.number, None, TrialState.FAILED)
    running = original.ask()

    saved = json.loads(json.dumps(original.state_dict()))
    restored = searcher(name)
    restored.load_state_dict(saved)

    assert restored.state_dict() == original.state_dict()
    assert restored.running[0].number == running.number
    assert restored.ask().params == original.ask().params
    restored.tell(running.number, 0.5)
    assert restored.trial(running.number).state is TrialState.COMPLETE


def test_state_of_another_space_or_searcher_is_refused() -> None:
    saved = searcher("random").state_dict()

    with pytest.raises(InvalidInputError, match="another searcher"):
        searcher("grid").load_state_dict(saved)
    other = make_searcher("random", SearchSpace({"x": executor.Float(0, 1)}))
    with pytest.raises(InvalidInputError, match="another search space"):
        other.load_state_dict(saved)
