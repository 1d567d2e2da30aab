"""The search loop: ask a batch of candidates, run their tasks, tell their scores, save.

Parallelism is by batches: each round asks ``ceil(num_parallel / num_repeat)`` candidates,
adds their repeats to an :class:`~executor.experiment.Experiment` and runs them with
``num_jobs=num_parallel``. Inside a round the scheduler refills a slot as soon as a task
ends; the next round starts when the whole round has ended, because the searcher needs
the round's scores to propose better points. The state is saved before each round (its
candidates marked running) and after it, so that an interrupted search resumes by running
the interrupted round again, where the Experiment skips every task that already succeeded.
"""

from __future__ import annotations

import copy
import logging
import math
import os
from pathlib import Path
from typing import Any, TypeGuard

import numpy as np

from ..contract import now_iso
from ..errors import ContractError, InvalidInputError, SearchFailedError
from .plan import TaskPlan
from .result import TuneResult
from .searchers import Searcher, Trial, TrialState, make_searcher
from .space import SearchSpace
from .split import SplitData
from .state import CandidateRecord, SearchState, load_state, save_state, short_hash, state_file

logger = logging.getLogger(__name__)


class SearchLoop:
    """One search: its searcher, its saved state, and the rounds of tasks it runs."""

    def __init__(
        self,
        *,
        root: str | os.PathLike[str],
        space: SearchSpace,
        plan: TaskPlan,
        search: str,
        search_options: dict[str, Any],
        objective: str,
        maximize: bool,
        metrics: list[str],
        directions: dict[str, bool],
        num_parallel: int,
        retries: int,
        run_options: dict[str, Any],
    ) -> None:
        if "num_jobs" in run_options:
            raise InvalidInputError("use num_parallel, not num_jobs", input="num_jobs")
        self.root = Path(root).absolute()
        self.space = space
        self.plan = plan
        self.search = search
        self.search_options = search_options
        self.objective = objective
        self.maximize = maximize
        self.metrics = metrics
        self.directions = directions
        self.num_parallel = num_parallel
        self.retries = retries
        self.run_options = run_options
        self.data_folder: str | None = None

    # ------------------------------------------------------------------------- setup

    def prepare(self, data: SplitData | None, metrics_argument: Any) -> None:
        """Dump the data, name the search, and load its saved state or start a new one."""
        from ..experiment import Experiment

        experiment = Experiment(self.root)
        if data is not None:
            self.data_folder = experiment.dump_data_bundle(data.x, data.y, data.x_cv, data.y_cv)
        if not self.plan.custom:
            self._check_builtin_config()

        identity = {
            "search": self.search,
            "search_options": self.search_options,
            "space": self.space.describe(),
            "plan": self.plan.describe(),
            "objective": self.objective,
            "maximize": self.maximize,
            "metrics": metrics_argument,
            "data": None if self.data_folder is None else Path(self.data_folder).name,
            "split": None if data is None else data.record,
        }
        self.search_id = short_hash(identity)
        self.state_path = state_file(self.root, self.search_id)
        self.searcher: Searcher = make_searcher(
            self.search,
            self.space,
            seed=self.plan.seed,
            maximize=self.maximize,
            **self.search_options,
        )

        saved = load_state(self.state_path)
        if saved is None:
            self.state = SearchState(
                search_id=self.search_id,
                settings={key: value for key, value in identity.items() if key != "split"},
                split=None if data is None else data.record,
            )
            return

        self.state = saved
        if saved.searcher is not None:
            self.searcher.load_state_dict(saved.searcher)
        if len(self.searcher.trials) != len(saved.candidates):
            raise ContractError(
                "the search state is inconsistent: trials and candidates differ in number",
                path=str(self.state_path),
            )

    def _check_builtin_config(self) -> None:
        """Build one candidate's model now, so a bad config key fails before any task."""
        from ..models import make

        middle = self.space.decode([0.5] * len(self.space))
        make(**self.plan.best_param(middle.params))

    # ------------------------------------------------------------------------- rounds

    def run(self, num_search: int) -> TuneResult:
        """Run rounds until ``num_search`` candidates have finished (or the grid ends)."""
        per_round = max(1, math.ceil(self.num_parallel / self.plan.num_repeat))
        self._resolve_duplicates()

        while True:
            batch = [
                record
                for record in self.state.candidates
                if not record.finished and record.duplicate_of is None
            ][:per_round]
            while (
                len(batch) < per_round
                and len(self.searcher.trials) < num_search
                and not self.searcher.exhausted
            ):
                record = self._ask()
                if record.duplicate_of is None:
                    batch.append(record)
                self._resolve_duplicates()
            if not batch:
                break

            self._save()
            self._run_round(batch)
            self._resolve_duplicates()
            self._save()

        return self._result()

    def _ask(self) -> CandidateRecord:
        trial = self.searcher.ask()
        code = short_hash(trial.params)
        record = CandidateRecord(
            number=trial.number,
            code=code,
            params=trial.params,
            config=self.plan.candidate_config(trial.params),
        )
        earlier = next((r for r in self.state.candidates if r.code == code), None)
        if earlier is not None:
            record.duplicate_of = earlier.code
            logger.info("trial %d repeats candidate %s; reusing its result", trial.number, code)
        self.state.candidates.append(record)
        return record

    def _resolve_duplicates(self) -> None:
        by_code = {r.code: r for r in self.state.candidates if r.duplicate_of is None}
        for record in self.state.candidates:
            original = by_code.get(record.duplicate_of or "")
            if record.finished or original is None or not original.finished:
                continue
            for name in ("state", "value", "metrics", "workplaces", "outcomes", "reasons"):
                setattr(record, name, copy.deepcopy(getattr(original, name)))
            record.ended_at = now_iso()
            self._tell(record)

    def _run_round(self, batch: list[CandidateRecord]) -> None:
        from ..experiment import Experiment

        experiment = Experiment(self.root)
        keys: dict[str, list[tuple[str, str]]] = {}
        options = dict(self.plan.task_options)
        if self.plan.timeout is not None:
            options["timeout"] = self.plan.timeout
        for record in batch:
            keys[record.code] = [
                experiment.add_task(
                    model=self.plan.model,
                    config=self.plan.task_config(record.params, repeat),
                    data_folder=self.data_folder,
                    run_command=self.plan.run_command,
                    image=self.plan.image,
                    workplace_key=(self.plan.model, f"{self.search_id}-{record.code}-{repeat}"),
                    **options,
                )
                for repeat in range(self.plan.num_repeat)
            ]

        codes = ", ".join(record.code for record in batch)
        logger.info("search %s: running candidate(s) %s", self.search_id, codes)
        results = experiment.run_tasks(
            num_jobs=self.num_parallel, retries=self.retries, **self.run_options
        )

        found = {
            key: (outcome, metrics)
            for key, outcome, metrics in zip(
                results.workplace_keys, results.outcomes, results.metrics, strict=True
            )
        }
        for record in batch:
            self._score(record, [found[key] for key in keys[record.code]])
            self._tell(record)

    def _score(self, record: CandidateRecord, repeats: list[tuple[Any, dict[str, Any]]]) -> None:
        """Fill a record from its repeats' outcomes and metrics."""
        record.workplaces = [outcome.workplace for outcome, _ in repeats]
        record.outcomes = [outcome.state.value for outcome, _ in repeats]
        record.reasons = []
        record.metrics = []
        values: list[float] = []
        for outcome, metrics in repeats:
            reason = None if outcome.succeeded else (outcome.reason or outcome.state.value)
            if outcome.succeeded:
                value = metrics.get(self.objective)
                if _is_finite(value):
                    values.append(float(value))
                    record.metrics.append(dict(metrics))
                else:
                    reason = (
                        f"the task reported no finite {self.objective!r} "
                        f"(it reported {sorted(metrics)})"
                    )
            record.reasons.append(reason)

        record.ended_at = now_iso()
        if not values:
            record.state, record.value = TrialState.FAILED.value, None
            logger.warning("candidate %s failed: %s", record.code, record.failure_reason)
            return

        mean, std = float(np.mean(values)), float(np.std(values))
        record.state = TrialState.COMPLETE.value
        record.value = mean - std if self.maximize else mean + std
        logger.info(
            "candidate %s: %s = %.6f ± %.6f (%d of %d repeats)",
            record.code,
            self.objective,
            mean,
            std,
            len(values),
            len(repeats),
        )

    def _tell(self, record: CandidateRecord) -> Trial:
        state = TrialState(record.state)
        return self.searcher.tell(record.number, record.value, state)

    def _save(self) -> None:
        self.state.searcher = self.searcher.state_dict()
        save_state(self.state_path, self.state)

    # ------------------------------------------------------------------------- result

    def _result(self) -> TuneResult:
        """The result; ties for the best go to the smallest code, as in the table."""
        distinct = [record for record in self.state.candidates if record.duplicate_of is None]
        complete = [record for record in distinct if record.state == TrialState.COMPLETE.value]
        if not complete:
            reasons = "\n".join(
                f"- {record.code} {record.params}: {record.failure_reason}" for record in distinct
            )
            raise SearchFailedError(
                f"every one of the {len(distinct)} candidates failed:\n{reasons}",
                search_id=self.search_id,
                state_file=str(self.state_path),
            )

        sign = -1.0 if self.maximize else 1.0
        best = min(complete, key=lambda record: (sign * float(record.value or 0.0), record.code))
        logger.info(
            "search %s: best candidate %s, %s score %.6f",
            self.search_id,
            best.code,
            self.objective,
            best.value,
        )
        return TuneResult(
            best_param=self.plan.best_param(best.params),
            best_code=best.code,
            best_value=float(best.value or 0.0),
            objective=self.objective,
            maximize=self.maximize,
            metrics=list(self.metrics),
            directions=dict(self.directions),
            trials=list(self.state.candidates),
            search_id=self.search_id,
            state_file=self.state_path,
            root=self.root,
            model=self.plan.model,
            split=self.state.split,
        )


def _is_finite(value: Any) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
