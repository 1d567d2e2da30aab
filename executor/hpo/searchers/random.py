"""Random search: every point drawn uniformly from the unit cube of the space."""

from __future__ import annotations

from ..space import Point
from .base import Searcher

_MAX_REDRAWS = 32


class RandomSearcher(Searcher):
    """Draw each trial uniformly at random (log-scaled dimensions uniform in their log).

    Draws are fixed by the seed and the trial number, so a resumed search asks the same
    points it would have asked without the interruption. A point that repeats an earlier
    trial is drawn again, a bounded number of times, so small discrete spaces still work.
    """

    name = "random"

    def _propose(self, number: int) -> Point:
        point = self._random_point(number)
        for salt in range(1, _MAX_REDRAWS):
            if not self._is_taken(point.unit):
                break
            point = self._random_point(number, salt)
        return point
