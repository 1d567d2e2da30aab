"""The built-in task: ``python -m executor.task`` trains the model its meta names.

A task added without a ``run_command`` runs this module. It reads its meta and data with
``get_info()``, builds the pipeline with ``make(**kwargs)`` (the task's config plus its
``model``), fits it on ``x, y`` (``x_cv, y_cv`` drive early stopping), saves it into the
workplace's model folder for ``task_loader``, and reports the default metrics of its task
type on ``x_cv, y_cv`` when they are given. On any failure it leaves the reason with
``report_failure`` and exits with status 1.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

from .contract import Workplace
from .errors import DataError, ExecutorError, InvalidInputError
from .task_api import TaskInfo, get_info, report, report_failure

logger = logging.getLogger(__name__)


def use_given_threads() -> None:
    """Cap torch's threads at ``OMP_NUM_THREADS``, the CPU share the executor gave the task."""
    value = os.environ.get("OMP_NUM_THREADS", "").strip()
    if not value.isdigit() or int(value) < 1:
        return

    import torch

    torch.set_num_threads(int(value))


def evaluate_on_cv(pipeline: Any, x_cv: Any, y_cv: Any) -> dict[str, float]:
    """The default metrics of the pipeline's task type on the validation data."""
    from .metrics import compute_metrics, default_metrics, get_metric

    names = default_metrics(pipeline.task_type)
    predictions = pipeline.predict(x_cv)

    probabilities = None
    if pipeline.task_type == "clf":
        try:
            probabilities = pipeline.predict_prob(x_cv)
        except InvalidInputError as error:
            skipped = [name for name in names if get_metric(name).needs_prob]
            logger.warning("not reporting %s: %s", skipped, error)
            names = [name for name in names if name not in skipped]

    return compute_metrics(
        names, y_cv, predictions, probabilities, classes=getattr(pipeline, "classes_", None)
    )


def train_from_info(info: TaskInfo) -> dict[str, float]:
    """Train, save and evaluate the pipeline a task's info describes; return its metrics."""
    from .models import make

    x, y, x_cv, y_cv = info.data_list
    if x is None or y is None:
        raise DataError(
            "the built-in task needs data: add the task with x and y or a data_folder",
            workplace=info.workplace,
        )

    pipeline = make(**info.kwargs)
    if pipeline.kind == "torch":
        use_given_threads()
    pipeline.fit(x, y, x_cv, y_cv)

    saved = pipeline.save(Workplace(info.workplace).model_dir)
    logger.info("saved the %s pipeline in %s", pipeline.model, saved)

    if x_cv is None or y_cv is None:
        return {}
    metrics = evaluate_on_cv(pipeline, x_cv, y_cv)
    report(metrics)
    return metrics


def main() -> int:
    """Run the built-in task in the current workplace; the process's exit status."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        info = get_info()
        metrics = train_from_info(info)
    except Exception as error:  # every failure must reach the outcome with its reason
        reason = f"{type(error).__name__}: {error}"
        logger.exception("the built-in task failed")
        try:
            report_failure(reason)
        except ExecutorError:
            print(reason, file=sys.stderr)
        return 1

    logger.info("done: %s", metrics or "no validation data, no metrics")
    return 0


if __name__ == "__main__":
    sys.exit(main())
