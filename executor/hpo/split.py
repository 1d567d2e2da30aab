"""The validation data of a search: given, or a fixed, recorded split of the training data.

Candidates are scored on data they were not trained on. Without ``x_cv``, a fraction of
``x`` is held out once, by the search's seed (stratified by class for classification); the
held-out row indices are recorded in the search state, so the split is known and the
same on resume.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import DataError, InvalidInputError

logger = logging.getLogger(__name__)


@dataclass
class SplitData:
    """Training and validation arrays, and how the validation part was obtained."""

    x: Any
    y: Any
    x_cv: Any
    y_cv: Any
    record: dict[str, Any]


def validation_split(
    x: Any,
    y: Any,
    x_cv: Any,
    y_cv: Any,
    *,
    task_type: str | None,
    fraction: float,
    seed: int,
) -> SplitData:
    """The data every candidate trains and is scored on."""
    if (x_cv is None) != (y_cv is None):
        raise InvalidInputError("give both x_cv and y_cv, or neither", input="x_cv")
    if x_cv is not None:
        return SplitData(x, y, x_cv, y_cv, {"kind": "given"})
    if y is None:
        raise InvalidInputError("x needs its targets y", input="y")
    if not 0.0 < fraction < 1.0:
        raise InvalidInputError("cv_split must be a fraction in (0, 1)", cv_split=fraction)

    x_array, y_array = np.asarray(x), np.asarray(y)
    if len(x_array) != len(y_array):
        raise DataError("x and y have different numbers of rows", x=len(x_array), y=len(y_array))
    num_rows = len(x_array)
    num_held = int(round(num_rows * fraction))
    if num_held < 1 or num_held >= num_rows:
        raise DataError(
            "too few rows to hold out a validation part; give x_cv and y_cv",
            rows=num_rows,
            cv_split=fraction,
        )

    held = _held_out_rows(y_array, num_held, task_type=task_type, seed=seed)
    mask = np.zeros(num_rows, dtype=bool)
    mask[held] = True
    record = {
        "kind": "split",
        "fraction": fraction,
        "seed": seed,
        "stratified": task_type == "clf",
        "validation_rows": [int(row) for row in held],
    }
    logger.info("holding out %d of %d rows for validation (seed %d)", num_held, num_rows, seed)
    return SplitData(x_array[~mask], y_array[~mask], x_array[mask], y_array[mask], record)


def _held_out_rows(y: np.ndarray, num_held: int, *, task_type: str | None, seed: int) -> list[int]:
    rng = np.random.default_rng(seed)
    if task_type != "clf":
        return sorted(int(row) for row in rng.permutation(len(y))[:num_held])

    labels = y.reshape(len(y), -1)[:, 0] if y.ndim > 1 else y
    classes, inverse = np.unique(labels, return_inverse=True)
    held: list[int] = []
    shares = np.bincount(inverse) * num_held / len(y)
    counts = np.floor(shares).astype(int)
    for index in np.argsort(-(shares - counts))[: num_held - int(counts.sum())]:
        counts[index] += 1

    for class_index in range(len(classes)):
        rows = np.flatnonzero(inverse == class_index)
        take = min(int(counts[class_index]), max(len(rows) - 1, 0))
        held.extend(int(row) for row in rng.permutation(rows)[:take])
    return sorted(held)
