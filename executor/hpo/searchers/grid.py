"""Grid search: every combination of the choices and of evenly spaced range values."""

from __future__ import annotations

import itertools
from typing import Any

from ...errors import InvalidInputError
from ..space import Point, SearchSpace
from .base import Searcher

_SHUFFLE_SALT = 7919


class GridSearcher(Searcher):
    """Walk the grid of the space in order, one combination per trial.

    Choices contribute all their values; a ``Float`` or ``Int`` contributes
    ``num_points`` values evenly spaced in its (log) range, ends included (fewer for an
    ``Int`` whose range holds fewer integers). With ``shuffle=True`` the order is a
    permutation fixed by the seed, which spreads a budget smaller than the grid over it.
    """

    name = "grid"

    def __init__(
        self,
        space: SearchSpace,
        *,
        seed: int = 0,
        maximize: bool = True,
        num_points: int = 5,
        shuffle: bool = False,
    ) -> None:
        super().__init__(space, seed=seed, maximize=maximize)
        if num_points < 1:
            raise InvalidInputError("num_points must be at least 1", num_points=num_points)

        self.num_points = int(num_points)
        self.shuffle = bool(shuffle)
        self._grid = self._build_grid()

    def _build_grid(self) -> list[tuple[float, ...]]:
        axes = [
            [dimension.to_unit(value) for value in dimension.grid(self.num_points)]
            for dimension in self.space.dimensions
        ]
        grid = [tuple(point) for point in itertools.product(*axes)]
        if self.shuffle:
            order = self._rng(0, salt=_SHUFFLE_SALT).permutation(len(grid))
            grid = [grid[index] for index in order]
        return grid

    @property
    def size(self) -> int:
        """How many points the grid holds."""
        return len(self._grid)

    @property
    def exhausted(self) -> bool:
        """True once every grid point has been asked."""
        return len(self.trials) >= len(self._grid)

    def _propose(self, number: int) -> Point:
        return self.space.decode(self._grid[number])

    def _extra_state(self) -> dict[str, Any]:
        return {"num_points": self.num_points, "shuffle": self.shuffle}

    def _load_extra_state(self, extra: dict[str, Any]) -> None:
        self.num_points = int(extra.get("num_points", self.num_points))
        self.shuffle = bool(extra.get("shuffle", self.shuffle))
        self._grid = self._build_grid()
