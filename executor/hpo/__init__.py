"""Hyper-parameter search: spaces, ask/tell searchers and ``tune_with``.

Importing this package is light; the searchers and the search loop load their heavier
dependencies (the Gaussian process, the experiment) when first used.
"""

from __future__ import annotations

from .space import Choice, Float, Int, SearchSpace, default_space

__all__ = ["Choice", "Float", "Int", "SearchSpace", "default_space"]
