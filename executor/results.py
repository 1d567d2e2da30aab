"""What ``run_tasks`` returns: every task's workplace, outcome, metrics and pipeline."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .contract import Workplace
from .errors import ContractError, ExecutorError, TaskFailedError
from .outcome import Outcome

logger = logging.getLogger(__name__)


@dataclass
class Results:
    """The tasks of a run, in the order they were added."""

    workplaces: list[str]
    workplace_keys: list[tuple[str, str]]
    outcomes: list[Outcome]
    pipelines: list[Any] = field(default_factory=list)
    metrics: list[dict[str, Any]] = field(default_factory=list)
    load_errors: dict[tuple[str, str], str] = field(default_factory=dict)

    @classmethod
    def collect(
        cls, outcomes: list[Outcome], task_loader: Callable[[str], Any] | None = None
    ) -> Results:
        """Gather metrics and, with a ``task_loader``, pipelines of the succeeded tasks."""
        results = cls(
            workplaces=[outcome.workplace for outcome in outcomes],
            workplace_keys=[outcome.key for outcome in outcomes],
            outcomes=outcomes,
        )
        for outcome in outcomes:
            results.metrics.append(_read_metrics(outcome))
            results.pipelines.append(results._load(outcome, task_loader))
        return results

    def _load(self, outcome: Outcome, task_loader: Callable[[str], Any] | None) -> Any:
        if task_loader is None or not outcome.succeeded:
            return None
        try:
            return task_loader(outcome.workplace)
        except ExecutorError as error:
            logger.warning("could not load the pipeline of %s: %s", outcome.workplace, error)
            self.load_errors[outcome.key] = str(error)
            return None

    @property
    def failures(self) -> list[Outcome]:
        """The outcomes of tasks that did not succeed."""
        return [outcome for outcome in self.outcomes if not outcome.succeeded]

    @property
    def succeeded(self) -> bool:
        """True when every task succeeded."""
        return not self.failures

    def summary(self) -> str:
        """One line of counts per state."""
        counts: dict[str, int] = {}
        for outcome in self.outcomes:
            counts[outcome.state.value] = counts.get(outcome.state.value, 0) + 1
        return ", ".join(f"{count} {state}" for state, count in sorted(counts.items()))

    def raise_for_failures(self) -> None:
        """Raise :class:`TaskFailedError` listing every task that did not succeed."""
        failures = self.failures
        if not failures:
            return
        lines = "\n".join(f"- {outcome.describe()}" for outcome in failures)
        raise TaskFailedError(
            f"{len(failures)} of {len(self.outcomes)} task(s) did not succeed:\n{lines}",
            failures=[outcome.workplace for outcome in failures],
        )


def _read_metrics(outcome: Outcome) -> dict[str, Any]:
    try:
        return Workplace(outcome.workplace).read_metrics()
    except ContractError as error:
        logger.warning("ignoring the metrics of %s: %s", outcome.workplace, error)
        return {}
