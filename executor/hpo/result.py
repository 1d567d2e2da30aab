"""What ``tune_with`` returns: the best params, the per-candidate table, every trial."""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InvalidInputError
from .state import CandidateRecord

if TYPE_CHECKING:
    from ..comparison import Comparison

logger = logging.getLogger(__name__)

RULE = "-" * 100


@dataclass
class TuneResult:
    """The outcome of a search.

    ``best_param`` is the winner's full config with its ``model``, so that
    ``executor.make(**result.best_param)`` rebuilds it (for a built-in model). ``trials``
    lists every candidate in the order it was asked, with its params, state, value,
    metrics, workplaces and failure reasons. ``metrics`` are the columns of the table;
    ``objective`` is the metric the search optimised, in the direction ``maximize``.
    """

    best_param: dict[str, Any]
    best_code: str
    best_value: float
    objective: str
    maximize: bool
    metrics: list[str]
    directions: dict[str, bool]
    trials: list[CandidateRecord]
    search_id: str
    state_file: Path
    root: Path
    model: str
    split: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    # ------------------------------------------------------------------------- views

    @property
    def candidates(self) -> list[CandidateRecord]:
        """One record per distinct candidate (duplicates left out), in asked order."""
        return [trial for trial in self.trials if trial.duplicate_of is None]

    @property
    def failed(self) -> list[CandidateRecord]:
        """The candidates whose tasks all failed."""
        return [trial for trial in self.candidates if trial.state == "failed"]

    @property
    def best_trial(self) -> CandidateRecord:
        """The record of the best candidate."""
        return next(trial for trial in self.candidates if trial.code == self.best_code)

    def best_so_far(self) -> list[float | None]:
        """The best objective value after each trial (None until one completes)."""
        best: float | None = None
        history: list[float | None] = []
        for trial in self.trials:
            if trial.state == "complete" and trial.value is not None:
                better = best is None or (
                    trial.value > best if self.maximize else trial.value < best
                )
                best = trial.value if better else best
            history.append(best)
        return history

    def comparison(self) -> Comparison:
        """The per-candidate statistics (mean, std, score per metric), rows named by code."""
        from ..comparison import Comparison

        values: dict[str, dict[str, list[float]]] = {}
        for trial in self.candidates:
            values[trial.code] = {
                metric: [
                    float(repeat[metric])
                    for repeat in trial.metrics
                    if _is_number(repeat.get(metric))
                ]
                for metric in self.metrics
            }
        return Comparison(
            metrics=list(self.metrics),
            values=values,
            directions=dict(self.directions),
            sources={code: "reported" for code in values},
        )

    # ------------------------------------------------------------------------- text

    def table(self) -> str:
        """The per-candidate table: mean, std and score of every metric."""
        return self.comparison().table()

    def best_params_text(self) -> str:
        """The "Best Parameters" block: the best candidate of each metric, then overall."""
        comparison = self.comparison()
        lines = [RULE]
        for metric in self.metrics:
            code = comparison.best(metric)
            if code is None:
                continue
            summary = comparison.summary(code, metric)
            assert summary is not None  # best() only names candidates that have a value
            lines += [
                f"{metric}  ({code}) ({summary.mean:.6f} ± {summary.std:.6f})",
                RULE,
                repr(self._params_of(code)),
                RULE,
            ]
        lines += [f"best ({self.best_code})", RULE, repr(self._params_of(self.best_code)), RULE]
        return "\n".join(lines)

    def __str__(self) -> str:
        """The table followed by the best-parameters block."""
        return f"{self.table()}\n\n{self.best_params_text()}"

    def show(self) -> None:
        """Print the table and the best-parameters block."""
        print(str(self))

    def _params_of(self, code: str) -> dict[str, Any]:
        return next(trial.params for trial in self.candidates if trial.code == code)

    # ------------------------------------------------------------------------- plot

    def plot(self, path: str | os.PathLike[str]) -> Path:
        """Save a PNG of the best objective value so far against the trial number."""
        target = Path(path)
        if target.suffix.lower() not in (".png", ".pdf", ".svg"):
            raise InvalidInputError("plot() writes .png, .pdf or .svg files", path=str(target))

        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        numbers = [trial.number + 1 for trial in self.trials]
        values = [
            trial.value if trial.state == "complete" and trial.value is not None else math.nan
            for trial in self.trials
        ]
        best = [math.nan if value is None else value for value in self.best_so_far()]

        figure, axes = plt.subplots(figsize=(6.4, 4.0))
        try:
            axes.plot(numbers, values, "o", alpha=0.5, label="trial")
            axes.step(numbers, best, where="post", label="best so far")
            axes.set_xlabel("trial")
            direction = "max" if self.maximize else "min"
            axes.set_ylabel(f"{self.objective} ({direction})")
            axes.set_title(f"search {self.search_id}")
            axes.legend()
            target.parent.mkdir(parents=True, exist_ok=True)
            figure.savefig(target, dpi=100, bbox_inches="tight")
        finally:
            plt.close(figure)
        logger.info("saved the search plot to %s", target)
        return target


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
