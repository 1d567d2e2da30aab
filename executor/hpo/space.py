"""Search spaces: ``Choice``, ``Float`` and ``Int``, nested in dicts that mirror a config.

A space is a dict shaped like the task's config whose leaves are either dimensions to
search or fixed values. :class:`SearchSpace` flattens it into an ordered list of
dimensions, each mapping a point of the unit interval to a value and back, so that every
searcher works on the unit cube and hands back a dict shaped like the config again.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import SearchSpaceError

Path = tuple[str, ...]


def path_name(path: Path) -> str:
    """The dotted name of a parameter path, as errors and tables show it."""
    return ".".join(path) if path else "<root>"


class Dimension:
    """One searched parameter: a map from the unit interval to its values and back."""

    path: Path = ()

    def from_unit(self, unit: float) -> Any:
        """The value at ``unit`` (a number in [0, 1])."""
        raise NotImplementedError

    def to_unit(self, value: Any) -> float:
        """The unit-interval point that stands for ``value``."""
        raise NotImplementedError

    def grid(self, num_points: int) -> list[Any]:
        """Evenly spread values for a grid search, without repeats."""
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        """A JSON description, used to recognise the same space on resume."""
        raise NotImplementedError

    def bound(self, path: Path) -> Dimension:
        """A copy of this dimension that knows its path in the config."""
        clone = copy.copy(self)
        clone.path = path
        return clone


class Choice(Dimension):
    """One of a list of values (strings, numbers, booleans, None or JSON structures)."""

    def __init__(self, values: Sequence[Any]) -> None:
        if isinstance(values, str | bytes) or not isinstance(values, Sequence):
            raise SearchSpaceError("Choice takes a list of values", got=type(values).__name__)
        self.values = list(values)

    def __repr__(self) -> str:
        return f"Choice({self.values!r})"

    def check(self, path: Path) -> None:
        """Raise :class:`SearchSpaceError` naming ``path`` when the choice is empty."""
        if not self.values:
            raise SearchSpaceError(
                "an empty Choice has nothing to search", parameter=path_name(path)
            )

    def from_unit(self, unit: float) -> Any:
        """The value whose bin of the unit interval holds ``unit``."""
        index = min(int(unit * len(self.values)), len(self.values) - 1)
        return copy.deepcopy(self.values[max(index, 0)])

    def to_unit(self, value: Any) -> float:
        """The centre of the bin of ``value``."""
        for index, candidate in enumerate(self.values):
            if candidate == value:
                return (index + 0.5) / len(self.values)
        raise SearchSpaceError(
            f"{value!r} is not one of the choices", parameter=path_name(self.path)
        )

    def grid(self, num_points: int) -> list[Any]:
        """Every value, whatever ``num_points`` is."""
        return copy.deepcopy(self.values)

    def describe(self) -> dict[str, Any]:
        """The kind and the values."""
        return {"kind": "choice", "values": self.values}


class _Range(Dimension):
    """A numeric range, searched linearly or in log space."""

    kind = "range"

    def __init__(self, low: float, high: float, log: bool = False) -> None:
        self.low = low
        self.high = high
        self.log = bool(log)

    def __repr__(self) -> str:
        suffix = ", log=True" if self.log else ""
        return f"{type(self).__name__}({self.low!r}, {self.high!r}{suffix})"

    def check(self, path: Path) -> None:
        """Raise :class:`SearchSpaceError` naming ``path`` when the bounds are unusable."""
        name = path_name(path)
        for label, bound in (("low", self.low), ("high", self.high)):
            if isinstance(bound, bool) or not isinstance(bound, int | float):
                raise SearchSpaceError(f"{label} must be a number", parameter=name, got=bound)
            if not math.isfinite(bound):
                raise SearchSpaceError(f"{label} must be finite", parameter=name, got=bound)
        if self.low >= self.high:
            raise SearchSpaceError(
                "low must be below high", parameter=name, low=self.low, high=self.high
            )
        if self.log and self.low <= 0:
            raise SearchSpaceError("a log-scaled range needs low > 0", parameter=name, low=self.low)

    def _edges(self) -> tuple[float, float]:
        return float(self.low), float(self.high)

    def _continuous(self, unit: float) -> float:
        low, high = self._edges()
        unit = min(max(unit, 0.0), 1.0)
        if self.log:
            return math.exp(math.log(low) + unit * (math.log(high) - math.log(low)))
        return low + unit * (high - low)

    def _unit_of(self, value: float) -> float:
        low, high = self._edges()
        if self.log:
            unit = (math.log(value) - math.log(low)) / (math.log(high) - math.log(low))
        else:
            unit = (value - low) / (high - low)
        return min(max(unit, 0.0), 1.0)

    def describe(self) -> dict[str, Any]:
        """The kind, the bounds and the scale."""
        return {"kind": self.kind, "low": self.low, "high": self.high, "log": self.log}


class Float(_Range):
    """A real number between ``low`` and ``high``; ``log=True`` searches its logarithm."""

    kind = "float"

    def from_unit(self, unit: float) -> float:
        """The number at ``unit`` of the (log) range, clipped to the bounds."""
        return min(max(self._continuous(unit), float(self.low)), float(self.high))

    def to_unit(self, value: Any) -> float:
        """Where ``value`` sits in the (log) range."""
        return self._unit_of(float(value))

    def grid(self, num_points: int) -> list[Any]:
        """``num_points`` values evenly spaced in the (log) range, ends included."""
        if num_points <= 1:
            return [self.from_unit(0.5)]
        return [self.from_unit(step / (num_points - 1)) for step in range(num_points)]


class Int(_Range):
    """An integer from ``low`` to ``high`` inclusive; ``log=True`` searches its logarithm.

    Each integer owns an equal share of the unit interval (of its logarithm when log
    scaled), so that rounding favours no value.
    """

    kind = "int"

    def check(self, path: Path) -> None:
        """Also require integer bounds."""
        super().check(path)
        for label, bound in (("low", self.low), ("high", self.high)):
            if int(bound) != bound:
                raise SearchSpaceError(
                    f"{label} of an Int must be a whole number",
                    parameter=path_name(path),
                    got=bound,
                )

    def _edges(self) -> tuple[float, float]:
        return float(self.low) - 0.5, float(self.high) + 0.5

    def from_unit(self, unit: float) -> int:
        """The integer whose share of the interval holds ``unit``."""
        value = math.floor(self._continuous(unit) + 0.5)
        return int(min(max(value, int(self.low)), int(self.high)))

    def to_unit(self, value: Any) -> float:
        """The centre of the share of ``value``."""
        integer = int(value)
        lower = self._unit_of(integer - 0.5)
        upper = self._unit_of(integer + 0.5)
        return (lower + upper) / 2

    def grid(self, num_points: int) -> list[Any]:
        """Up to ``num_points`` distinct integers evenly spaced in the (log) range."""
        if num_points <= 1:
            return [self.from_unit(0.5)]
        values = [self.from_unit(step / (num_points - 1)) for step in range(num_points)]
        return sorted(set(values))


@dataclass(frozen=True)
class Point:
    """A point of the space: its unit-cube coordinates and the config-shaped params."""

    unit: tuple[float, ...]
    params: dict[str, Any]


class SearchSpace:
    """A nested dict of dimensions and fixed values, flattened into ordered dimensions."""

    def __init__(self, params: Mapping[str, Any]) -> None:
        if not isinstance(params, Mapping):
            raise SearchSpaceError("a search space is a dict of parameters", got=type(params))

        self.template: dict[str, Any] = copy.deepcopy(dict(params))
        self.dimensions: list[Dimension] = []
        self._collect(self.template, ())
        if not self.dimensions:
            raise SearchSpaceError(
                "the search space has no Choice, Float or Int to search", params=self.template
            )

    def _collect(self, node: Mapping[str, Any], prefix: Path) -> None:
        for key, value in node.items():
            path = (*prefix, str(key))
            if isinstance(value, Choice | _Range):
                value.check(path)
                self.dimensions.append(value.bound(path))
            elif isinstance(value, Dimension):
                raise SearchSpaceError("unknown kind of dimension", parameter=path_name(path))
            elif isinstance(value, Mapping):
                self._collect(value, path)

    @property
    def names(self) -> list[str]:
        """The dotted path of every dimension, in order."""
        return [path_name(dimension.path) for dimension in self.dimensions]

    def __len__(self) -> int:
        return len(self.dimensions)

    def describe(self) -> list[dict[str, Any]]:
        """A JSON description of the dimensions and fixed values."""
        described = [
            {"parameter": path_name(dimension.path), **dimension.describe()}
            for dimension in self.dimensions
        ]
        return [*described, {"fixed": _fixed_values(self.template)}]

    def snap(self, unit: Sequence[float]) -> tuple[float, ...]:
        """Move a unit-cube point to the canonical point of the params it decodes to."""
        return tuple(
            dimension.to_unit(dimension.from_unit(float(coordinate)))
            for dimension, coordinate in zip(self.dimensions, unit, strict=True)
        )

    def decode(self, unit: Sequence[float]) -> Point:
        """The point at the given unit-cube coordinates, its params shaped like the config."""
        if len(unit) != len(self.dimensions):
            raise SearchSpaceError(
                "a point has the wrong number of coordinates",
                expected=len(self.dimensions),
                got=len(unit),
            )

        params = copy.deepcopy(self.template)
        for dimension, coordinate in zip(self.dimensions, unit, strict=True):
            _set_path(params, dimension.path, dimension.from_unit(float(coordinate)))
        return Point(unit=self.snap(unit), params=params)

    def encode(self, params: Mapping[str, Any]) -> Point:
        """The point of a config-shaped params dict."""
        unit = tuple(
            dimension.to_unit(_get_path(params, dimension.path)) for dimension in self.dimensions
        )
        return self.decode(unit)


def default_space() -> dict[str, Any]:
    """The default space for the built-in networks: the optimizer and its learning rate."""
    return {
        "optimizer": Choice(["sgd", "rmsprop", "adam"]),
        "optimizer_config": {"lr": Float(1e-5, 0.1, log=True)},
    }


def _set_path(params: dict[str, Any], path: Path, value: Any) -> None:
    node = params
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value


def _get_path(params: Mapping[str, Any], path: Path) -> Any:
    node: Any = params
    for key in path:
        if not isinstance(node, Mapping) or key not in node:
            raise SearchSpaceError("params lack a searched parameter", parameter=path_name(path))
        node = node[key]
    return node


def _fixed_values(node: Mapping[str, Any]) -> dict[str, Any]:
    fixed: dict[str, Any] = {}
    for key, value in node.items():
        if isinstance(value, Mapping):
            nested = _fixed_values(value)
            if nested:
                fixed[str(key)] = nested
        elif not isinstance(value, Dimension):
            fixed[str(key)] = value
    return fixed
