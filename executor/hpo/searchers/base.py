"""The ask/tell interface every searcher shares, apart from any loop that runs trials.

A searcher hands out trials (``ask``), hears how each went (``tell``), and keeps its whole
state as plain JSON (``state_dict`` / ``load_state_dict``), random state included, so that a
search can stop at any moment and go on later from the saved file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np

from ...errors import InvalidInputError
from ..space import Point, SearchSpace

_DUPLICATE_TOLERANCE = 1e-9


class TrialState(StrEnum):
    """Where a trial stands: asked and running, or finished one way or another."""

    RUNNING = "running"
    COMPLETE = "complete"
    FAILED = "failed"

    def is_finished(self) -> bool:
        """Whether the trial has ended (its value is known or it failed)."""
        return self is not TrialState.RUNNING


@dataclass
class Trial:
    """One asked point: its number, coordinates, params, state and (when told) value."""

    number: int
    unit: tuple[float, ...]
    params: dict[str, Any]
    state: TrialState = TrialState.RUNNING
    value: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The trial as a JSON object."""
        return {
            "number": self.number,
            "unit": list(self.unit),
            "params": self.params,
            "state": self.state.value,
            "value": self.value,
            "extra": self.extra,
        }

    @classmethod
    def from_json(cls, payload: dict[str, Any]) -> Trial:
        """A trial read back from :meth:`to_json`."""
        return cls(
            number=int(payload["number"]),
            unit=tuple(float(value) for value in payload["unit"]),
            params=dict(payload["params"]),
            state=TrialState(payload["state"]),
            value=None if payload.get("value") is None else float(payload["value"]),
            extra=dict(payload.get("extra") or {}),
        )


class Searcher:
    """The base of the searchers: owns the trials, leaves the choice of points to subclasses.

    Subclasses fill in :meth:`_propose` (the next unit-cube point) and, when they keep
    extra state, :meth:`_extra_state` and :meth:`_load_extra_state`.
    """

    name = "base"

    def __init__(self, space: SearchSpace, *, seed: int = 0, maximize: bool = True) -> None:
        self.space = space
        self.seed = int(seed)
        self.maximize = bool(maximize)
        self.trials: list[Trial] = []

    # -- the ask/tell interface -------------------------------------------------------

    @property
    def exhausted(self) -> bool:
        """Whether the searcher has no new point left to give (a finished grid)."""
        return False

    def ask(self) -> Trial:
        """Hand out the next trial; it stays running until :meth:`tell` is called."""
        if self.exhausted:
            raise InvalidInputError(f"the {self.name} searcher has no points left to ask")

        number = len(self.trials)
        point = self._propose(number)
        trial = Trial(number=number, unit=point.unit, params=point.params)
        self.trials.append(trial)
        return trial

    def tell(
        self, number: int, value: float | None, state: TrialState = TrialState.COMPLETE
    ) -> Trial:
        """Record how trial ``number`` went: its objective ``value``, or a failure.

        A complete trial needs a finite value; a failed one may have None.
        """
        trial = self.trial(number)
        if trial.state.is_finished():
            raise InvalidInputError(
                "the trial was already told", trial=number, state=trial.state.value
            )
        if state is TrialState.RUNNING:
            raise InvalidInputError("tell() needs a finished state", trial=number)

        if state is TrialState.COMPLETE:
            if value is None or not math.isfinite(float(value)):
                raise InvalidInputError(
                    "a complete trial needs a finite value; tell it FAILED instead",
                    trial=number,
                    value=value,
                )
            trial.value = float(value)
        else:
            trial.value = None if value is None else float(value)
        trial.state = state
        return trial

    def trial(self, number: int) -> Trial:
        """The trial with the given number."""
        if not 0 <= number < len(self.trials):
            raise InvalidInputError("no trial has this number", trial=number)
        return self.trials[number]

    # -- views ------------------------------------------------------------------------

    @property
    def complete(self) -> list[Trial]:
        """The trials told with a value."""
        return [trial for trial in self.trials if trial.state is TrialState.COMPLETE]

    @property
    def running(self) -> list[Trial]:
        """The trials asked and not yet told."""
        return [trial for trial in self.trials if trial.state is TrialState.RUNNING]

    @property
    def best(self) -> Trial | None:
        """The complete trial with the best value in the searcher's direction."""
        complete = self.complete
        if not complete:
            return None
        pick = max if self.maximize else min
        return pick(complete, key=lambda trial: float(trial.value or 0.0))

    # -- state ------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """The whole state as plain JSON."""
        return {
            "searcher": self.name,
            "seed": self.seed,
            "maximize": self.maximize,
            "space": self.space.describe(),
            "trials": [trial.to_json() for trial in self.trials],
            "extra": self._extra_state(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a state written by :meth:`state_dict` for the same space."""
        if state.get("searcher") != self.name:
            raise InvalidInputError(
                "the saved state belongs to another searcher",
                expected=self.name,
                got=state.get("searcher"),
            )
        if state.get("space") != self.space.describe():
            raise InvalidInputError("the saved state was made for another search space")

        self.seed = int(state["seed"])
        self.maximize = bool(state["maximize"])
        self.trials = [Trial.from_json(payload) for payload in state["trials"]]
        self._load_extra_state(dict(state.get("extra") or {}))

    # -- hooks and helpers for subclasses ---------------------------------------------

    def _propose(self, number: int) -> Point:
        raise NotImplementedError

    def _extra_state(self) -> dict[str, Any]:
        return {}

    def _load_extra_state(self, extra: dict[str, Any]) -> None:
        del extra

    def _rng(self, number: int, salt: int = 0) -> np.random.Generator:
        """A generator fixed by the seed and the trial number, so a resumed search repeats."""
        return np.random.default_rng([self.seed, number, salt])

    def _random_point(self, number: int, salt: int = 0) -> Point:
        unit = self._rng(number, salt).random(len(self.space))
        return self.space.decode(tuple(float(value) for value in unit))

    def _is_taken(self, unit: tuple[float, ...]) -> bool:
        """Whether a trial (running, complete or failed) already sits at this point."""
        for trial in self.trials:
            if max(abs(a - b) for a, b in zip(trial.unit, unit, strict=True)) < (
                _DUPLICATE_TOLERANCE
            ):
                return True
        return False
