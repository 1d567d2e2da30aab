"""The comparison table of a run: pipelines scored on held-out data, or reported metrics."""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any

from ..contract import Workplace
from ..errors import ExecutorError, InvalidInputError

if TYPE_CHECKING:
    from ..evaluation import Comparison
    from ..results import Results

logger = logging.getLogger(__name__)


def load_saved_pipeline(workplace: str | os.PathLike[str]) -> Any:
    """The pipeline a built-in task saved in its workplace, or None when it saved none.

    A custom task that saved no pipeline is compared through the metrics it reported.
    """
    from ..models import task_loader
    from ..models.pipeline import DESCRIPTION_FILE

    if not (Workplace(workplace).model_dir / DESCRIPTION_FILE).is_file():
        return None
    return task_loader(workplace)


def compare(
    results: Results, x: Any, y: Any, metrics: list[str] | None
) -> tuple[Comparison | None, str | None]:
    """The comparison of a run's tasks, or None with the reason there is none."""
    from ..evaluation import evaluate

    if not any(outcome.succeeded for outcome in results.outcomes):
        return None, "no task succeeded, so there is nothing to compare"
    try:
        comparison = evaluate(x, y, metrics, pipelines=results, print_table=False)
    except InvalidInputError as error:
        if metrics:
            raise
        return None, f"the tasks cannot be compared: {error}"
    except ExecutorError as error:
        return None, f"the tasks cannot be compared: {error}"
    return comparison, None
