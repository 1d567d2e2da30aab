"""Searchers with an ask/tell interface: ``bo``, ``random`` and ``grid``."""

from __future__ import annotations

from typing import Any

from ...errors import UnknownNameError
from ..space import SearchSpace
from .base import Searcher, Trial, TrialState

SEARCHERS = ("bo", "random", "grid")


def make_searcher(
    name: str, space: SearchSpace, *, seed: int = 0, maximize: bool = True, **options: Any
) -> Searcher:
    """The searcher called ``name`` over ``space``; ``options`` go to its constructor."""
    if name == "bo":
        from .bo import BayesianSearcher

        return BayesianSearcher(space, seed=seed, maximize=maximize, **options)
    if name == "random":
        from .random import RandomSearcher

        return RandomSearcher(space, seed=seed, maximize=maximize, **options)
    if name == "grid":
        from .grid import GridSearcher

        return GridSearcher(space, seed=seed, maximize=maximize, **options)
    raise UnknownNameError("unknown searcher", search=name, expected=SEARCHERS)


__all__ = ["SEARCHERS", "Searcher", "Trial", "TrialState", "make_searcher"]
