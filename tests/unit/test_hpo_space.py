"""Search spaces: the three dimensions, nesting, the unit-cube maps, and bad bounds."""

from __future__ import annotations

import math
from collections import Counter

import pytest

import executor
from executor.errors import InvalidInputError, SearchSpaceError
from executor.hpo import space as space_module
from executor.hpo.space import SearchSpace, default_space


def test_public_names_are_the_space_classes() -> None:
    assert executor.Choice is space_module.Choice
    assert executor.Float(0, 1).describe() == {"kind": "float", "low": 0, "high": 1, "log": False}


def test_nested_space_decodes_to_config_shape_with_fixed_values_kept() -> None:
    space = SearchSpace(
        {
            "optimizer": executor.Choice(["sgd", "adam"]),
            "optimizer_config": {"lr": executor.Float(1e-4, 1e-1, log=True), "momentum": 0.9},
            "hidden_units": [8, 8],
            "depth": executor.Int(1, 4),
        }
    )

    assert space.names == ["optimizer", "optimizer_config.lr", "depth"]
    point = space.decode([0.9, 0.5, 0.0])
    assert point.params["optimizer"] == "adam"
    assert point.params["optimizer_config"]["momentum"] == 0.9
    assert point.params["optimizer_config"]["lr"] == pytest.approx(10**-2.5)
    assert point.params["hidden_units"] == [8, 8]
    assert point.params["depth"] == 1
    assert space.encode(point.params) == point


def test_log_float_is_uniform_in_its_logarithm() -> None:
    lr = executor.Float(1e-5, 0.1, log=True)

    assert lr.from_unit(0.0) == pytest.approx(1e-5)
    assert lr.from_unit(0.5) == pytest.approx(1e-3)
    assert lr.from_unit(1.0) == pytest.approx(0.1)
    assert lr.to_unit(1e-4) == pytest.approx(0.25)


@pytest.mark.parametrize("log", [False, True])
def test_each_integer_owns_an_equal_share(log: bool) -> None:
    dimension = executor.Int(1, 4, log=log)
    steps = 4000
    counts = Counter(dimension.from_unit((step + 0.5) / steps) for step in range(steps))

    assert sorted(counts) == [1, 2, 3, 4]
    if not log:
        assert all(count == steps // 4 for count in counts.values())
    for value in range(1, 5):
        assert dimension.from_unit(dimension.to_unit(value)) == value


def test_choice_bins_and_round_trip() -> None:
    choice = executor.Choice(["a", None, 3])

    assert [choice.from_unit(u) for u in (0.0, 0.4, 0.99, 1.0)] == ["a", None, 3, 3]
    assert choice.to_unit(None) == pytest.approx(0.5)
    with pytest.raises(SearchSpaceError, match="not one of the choices"):
        choice.to_unit("b")


def test_grid_values() -> None:
    assert executor.Float(0, 1).grid(3) == [0.0, 0.5, 1.0]
    assert executor.Float(1e-3, 1e-1, log=True).grid(3) == pytest.approx([1e-3, 1e-2, 1e-1])
    assert executor.Int(1, 3).grid(10) == [1, 2, 3]
    assert executor.Choice(["x", "y"]).grid(1) == ["x", "y"]


def test_default_space_is_optimizer_and_log_lr() -> None:
    space = SearchSpace(default_space())

    assert space.names == ["optimizer", "optimizer_config.lr"]
    assert space.dimensions[0].grid(1) == ["sgd", "rmsprop", "adam"]
    lr = space.dimensions[1]
    assert isinstance(lr, executor.Float)
    assert (lr.low, lr.high, lr.log) == (1e-5, 0.1, True)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"model": {"lr": executor.Float(0.1, 0.1)}}, "low must be below high"),
        ({"model": {"lr": executor.Float(1.0, 0.5)}}, "low must be below high"),
        ({"model": {"lr": executor.Float(0.0, 1.0, log=True)}}, "log-scaled range needs low > 0"),
        ({"model": {"lr": executor.Int(-2, 5, log=True)}}, "log-scaled range needs low > 0"),
        ({"model": {"lr": executor.Int(1, 5.5)}}, "whole number"),
        ({"model": {"lr": executor.Float(0, math.inf)}}, "must be finite"),
        ({"model": {"lr": executor.Float(0, "1")}}, "must be a number"),
        ({"model": {"lr": executor.Choice([])}}, "empty Choice"),
    ],
)
def test_bad_bounds_name_the_parameter_path(params: dict, message: str) -> None:
    with pytest.raises(SearchSpaceError, match=message) as caught:
        SearchSpace(params)

    assert caught.value.parameter == "model.lr"
    assert "model.lr" in str(caught.value)
    assert isinstance(caught.value, InvalidInputError)


def test_a_space_needs_a_dict_with_something_to_search() -> None:
    with pytest.raises(SearchSpaceError, match="no Choice, Float or Int"):
        SearchSpace({"lr": 0.1})
    with pytest.raises(SearchSpaceError, match="dict"):
        SearchSpace([executor.Float(0, 1)])  # type: ignore[arg-type]
    with pytest.raises(SearchSpaceError, match="list of values"):
        executor.Choice("abc")


def test_decode_checks_the_number_of_coordinates() -> None:
    space = SearchSpace({"a": executor.Float(0, 1)})

    with pytest.raises(SearchSpaceError, match="wrong number of coordinates"):
        space.decode([0.1, 0.2])
    with pytest.raises(SearchSpaceError, match="lack a searched parameter"):
        space.encode({"b": 1})
