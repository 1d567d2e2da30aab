"""Bayesian optimisation through the ``bayesian-optimization`` package (3.x).

The package sees the unit cube of the space: log-scaled ranges are searched in their
logarithm, integers and choices are continuous coordinates rounded to their nearest value.
For each suggestion a fresh optimizer is fitted to every complete trial and to every
running one, the latter registered at a constant "liar" value, so that parallel workers
are steered apart. The package only maximises: when the search minimises, values are
negated in one place, :meth:`BayesianSearcher._target`.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

import numpy as np

from ...errors import InvalidInputError
from ..space import Point, SearchSpace
from .base import Searcher

logger = logging.getLogger(__name__)

ACQUISITIONS = ("ei", "ucb", "poi")
LIARS = ("min", "mean", "max")
_MAX_REDRAWS = 32


class BayesianSearcher(Searcher):
    """Gaussian-process Bayesian optimisation with an ask/tell interface.

    ``num_initial`` trials are drawn at random before the Gaussian process takes over.
    ``acquisition`` is ``"ei"`` (expected improvement, the default), ``"ucb"`` or
    ``"poi"``. ``liar`` is the value given to running trials while they run: the
    ``"min"`` (worst, the default), ``"mean"`` or ``"max"`` of the values seen so far,
    in the maximised direction. ``gp_restarts`` is how many times the kernel's
    hyper-parameters are fitted from a random start. A suggestion that repeats an earlier
    trial is replaced by a random point, so a small discrete space never stalls the search.
    """

    name = "bo"

    def __init__(
        self,
        space: SearchSpace,
        *,
        seed: int = 0,
        maximize: bool = True,
        num_initial: int = 5,
        acquisition: str = "ei",
        xi: float = 0.01,
        kappa: float = 2.576,
        liar: str = "min",
        gp_restarts: int = 2,
        acquisition_samples: int = 10_000,
        acquisition_starts: int = 5,
    ) -> None:
        super().__init__(space, seed=seed, maximize=maximize)
        if num_initial < 1:
            raise InvalidInputError("num_initial must be at least 1", num_initial=num_initial)
        if acquisition not in ACQUISITIONS:
            raise InvalidInputError(
                "unknown acquisition function", acquisition=acquisition, expected=ACQUISITIONS
            )
        if liar not in LIARS:
            raise InvalidInputError("unknown liar", liar=liar, expected=LIARS)

        self.num_initial = int(num_initial)
        self.acquisition = acquisition
        self.xi = float(xi)
        self.kappa = float(kappa)
        self.liar = liar
        self.gp_restarts = int(gp_restarts)
        self.acquisition_samples = int(acquisition_samples)
        self.acquisition_starts = int(acquisition_starts)

    # -- proposing --------------------------------------------------------------------

    def _propose(self, number: int) -> Point:
        complete = self.complete
        if not complete or len(complete) + len(self.running) < self.num_initial:
            return self._fresh_random(number)

        try:
            unit = self._suggest(number)
        except Exception as error:  # noqa: BLE001 - any fitting failure falls back to random
            logger.warning(
                "bo: the Gaussian process failed (%s); trial %d is random", error, number
            )
            return self._fresh_random(number)

        point = self.space.decode(unit)
        if self._is_taken(point.unit):
            logger.debug("bo: trial %d repeats an earlier point; drawing a random one", number)
            return self._fresh_random(number)
        return point

    def _fresh_random(self, number: int) -> Point:
        point = self._random_point(number)
        for salt in range(1, _MAX_REDRAWS):
            if not self._is_taken(point.unit):
                break
            point = self._random_point(number, salt)
        return point

    def _suggest(self, number: int) -> tuple[float, ...]:
        """Fit the Gaussian process and maximise the acquisition, on one thread.

        The fit and the acquisition's many small predictions gain nothing from a
        multi-threaded BLAS, and on a machine busy with tasks its threads fight them.
        """
        from bayes_opt import BayesianOptimization
        from threadpoolctl import threadpool_limits

        keys = [f"d{index:03d}" for index in range(len(self.space))]
        seed = int(self._rng(number).integers(2**31 - 1))
        acquisition = self._acquisition_function()
        optimizer = BayesianOptimization(
            f=None,
            pbounds={key: (0.0, 1.0) for key in keys},
            acquisition_function=acquisition,
            random_state=seed,
            verbose=0,
            allow_duplicate_points=True,
        )

        targets = [self._target(float(trial.value or 0.0)) for trial in self.complete]
        for trial, target in zip(self.complete, targets, strict=True):
            optimizer.register(params=dict(zip(keys, trial.unit, strict=True)), target=target)
        lie = self._lie(targets)
        for trial in self.running:
            optimizer.register(params=dict(zip(keys, trial.unit, strict=True)), target=lie)

        with warnings.catch_warnings(), threadpool_limits(limits=1):
            warnings.simplefilter("ignore")
            best = acquisition.suggest(
                gp=self._gaussian_process(seed),
                target_space=optimizer.space,
                n_random=self.acquisition_samples,
                n_smart=self.acquisition_starts,
                random_state=seed,
            )
        suggestion = optimizer.space.array_to_params(best)
        return tuple(float(suggestion[key]) for key in keys)

    def _acquisition_function(self) -> Any:
        from bayes_opt import acquisition

        if self.acquisition == "ucb":
            return acquisition.UpperConfidenceBound(kappa=self.kappa)
        if self.acquisition == "poi":
            return acquisition.ProbabilityOfImprovement(xi=self.xi)
        return acquisition.ExpectedImprovement(xi=self.xi)

    def _target(self, value: float) -> float:
        """The value as the package sees it: negated, once, when the search minimises."""
        return value if self.maximize else -value

    def _gaussian_process(self, seed: int) -> Any:
        """The Gaussian process fitted for each suggestion.

        The package's default kernel has one length scale and no amplitude; on a steep
        objective its fit can collapse to a length scale near zero, which turns every
        suggestion into noise. Here the kernel has an amplitude, a length scale per
        dimension kept within [0.01, 10] of the unit cube, and a small noise term, as
        training metrics are noisy.
        """
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

        matern = Matern(
            length_scale=np.full(len(self.space), 0.5),
            length_scale_bounds=(1e-2, 1e1),
            nu=2.5,
        )
        kernel = ConstantKernel(1.0, (1e-3, 1e3)) * matern + WhiteKernel(1e-4, (1e-8, 1e-1))
        return GaussianProcessRegressor(
            kernel=kernel,
            alpha=1e-6,
            normalize_y=True,
            n_restarts_optimizer=self.gp_restarts,
            random_state=seed,
        )

    def _lie(self, targets: list[float]) -> float:
        if self.liar == "max":
            return max(targets)
        if self.liar == "mean":
            return float(np.mean(targets))
        return min(targets)

    # -- state ------------------------------------------------------------------------

    def _extra_state(self) -> dict[str, Any]:
        return {
            "num_initial": self.num_initial,
            "acquisition": self.acquisition,
            "xi": self.xi,
            "kappa": self.kappa,
            "liar": self.liar,
            "gp_restarts": self.gp_restarts,
            "acquisition_samples": self.acquisition_samples,
            "acquisition_starts": self.acquisition_starts,
        }

    def _load_extra_state(self, extra: dict[str, Any]) -> None:
        self.num_initial = int(extra.get("num_initial", self.num_initial))
        self.acquisition = str(extra.get("acquisition", self.acquisition))
        self.xi = float(extra.get("xi", self.xi))
        self.kappa = float(extra.get("kappa", self.kappa))
        self.liar = str(extra.get("liar", self.liar))
        self.gp_restarts = int(extra.get("gp_restarts", self.gp_restarts))
        self.acquisition_samples = int(extra.get("acquisition_samples", self.acquisition_samples))
        self.acquisition_starts = int(extra.get("acquisition_starts", self.acquisition_starts))
