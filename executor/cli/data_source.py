"""Loading a run's data: a scikit-learn data set, ``.npy`` files or a ``.csv`` file.

When the spec gives no validation files, a fraction of the rows (``validation``) is held out
as ``x_cv``, ``y_cv``: the split is drawn from ``split_seed`` (stratified by class for
classification), so the same spec always gives the same split, and the bundle that records
it is the same folder run after run.
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError
from .run_spec import DEFAULT_VALIDATION, DataSpec

logger = logging.getLogger(__name__)

SKLEARN_DATASETS = {
    "breast_cancer": "load_breast_cancer",
    "diabetes": "load_diabetes",
    "digits": "load_digits",
    "iris": "load_iris",
    "linnerud": "load_linnerud",
    "wine": "load_wine",
}
"""The data sets that ship inside scikit-learn (nothing is downloaded)."""


@dataclass
class LoadedData:
    """The arrays of a run, with a line that says where they came from."""

    x: np.ndarray
    y: np.ndarray
    x_cv: np.ndarray | None
    y_cv: np.ndarray | None
    description: str


def load_data(spec: DataSpec, *, split: bool = True) -> LoadedData:
    """Read the data a spec names and, with ``split``, hold out its validation part."""
    x_cv: np.ndarray | None = None
    y_cv: np.ndarray | None = None
    if spec.dataset is not None:
        x, y = _load_sklearn(spec.dataset)
        origin = f"scikit-learn's {spec.dataset}"
    elif spec.csv is not None:
        assert spec.label is not None
        x, y = _load_csv(spec.csv, spec.label)
        if spec.cv_csv is not None:
            x_cv, y_cv = _load_csv(spec.cv_csv, spec.label)
        origin = str(spec.csv)
    else:
        assert spec.x is not None and spec.y is not None
        x, y = _load_npy(spec.x), _load_npy(spec.y)
        if spec.x_cv is not None and spec.y_cv is not None:
            x_cv, y_cv = _load_npy(spec.x_cv), _load_npy(spec.y_cv)
        origin = str(spec.x)

    if x_cv is not None and y_cv is not None:
        description = f"{origin}: {len(x)} training rows, {len(x_cv)} validation rows (given)"
        return LoadedData(x, y, x_cv, y_cv, description)

    fraction = DEFAULT_VALIDATION if spec.validation is None else spec.validation
    if fraction == 0 or not split:
        return LoadedData(x, y, None, None, f"{origin}: {len(x)} rows, no validation part")
    x, y, x_cv, y_cv = hold_out(x, y, fraction, spec.split_seed)
    description = (
        f"{origin}: {len(x)} training rows, {len(x_cv)} held-out validation rows "
        f"(fraction {fraction}, split_seed {spec.split_seed})"
    )
    return LoadedData(x, y, x_cv, y_cv, description)


def hold_out(
    x: np.ndarray, y: np.ndarray, fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split off ``fraction`` of the rows, stratified by class when ``y`` holds classes."""
    from ..models.preprocessing import infer_task_type

    if len(x) != len(y):
        raise DataError(f"x has {len(x)} rows but y has {len(y)}", input="y")
    generator = np.random.default_rng(seed)
    labels = y.reshape(len(y), -1)
    classification = labels.shape[1] == 1 and infer_task_type(labels) == "clf"

    if classification:
        held: list[np.ndarray] = []
        for label in np.unique(labels[:, 0]):
            members = generator.permutation(np.flatnonzero(labels[:, 0] == label))
            count = min(len(members) - 1, int(round(fraction * len(members))))
            held.append(members[: max(count, 0)])
        cv_rows = np.sort(np.concatenate(held))
    else:
        count = int(round(fraction * len(x)))
        cv_rows = np.sort(generator.permutation(len(x))[:count])

    if len(cv_rows) == 0 or len(cv_rows) == len(x):
        raise DataError(
            f"a validation fraction of {fraction} of {len(x)} rows leaves no rows on one side",
            rows=len(x),
        )
    train_rows = np.setdiff1d(np.arange(len(x)), cv_rows)
    return x[train_rows], y[train_rows], x[cv_rows], y[cv_rows]


def _load_sklearn(name: str) -> tuple[np.ndarray, np.ndarray]:
    if name not in SKLEARN_DATASETS:
        raise DataError(
            f"unknown data set {name!r}; the ones that ship with scikit-learn are "
            + ", ".join(SKLEARN_DATASETS),
            dataset=name,
        )
    import sklearn.datasets

    loader: Any = getattr(sklearn.datasets, SKLEARN_DATASETS[name])
    x, y = loader(return_X_y=True)
    return np.asarray(x, dtype=np.float64), np.asarray(y)


def _load_npy(path: Path) -> np.ndarray:
    if not path.is_file():
        raise DataError("the data file does not exist", path=str(path))
    try:
        return np.asarray(np.load(path, allow_pickle=False))
    except (OSError, ValueError) as error:
        raise DataError(f"the file is not a numpy .npy array: {error}", path=str(path)) from None


def _load_csv(path: Path, label: str) -> tuple[np.ndarray, np.ndarray]:
    """Features (every column but ``label``, as numbers) and the label column."""
    if not path.is_file():
        raise DataError("the data file does not exist", path=str(path))
    with open(path, newline="", encoding="utf-8") as stream:
        rows = list(csv.reader(stream))
    if not rows or label not in rows[0]:
        header = rows[0] if rows else []
        raise DataError(
            f"the csv file has no column {label!r}; its columns are {header}", path=str(path)
        )

    header = rows[0]
    label_index = header.index(label)
    features: list[list[float]] = []
    labels: list[str] = []
    for line_number, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        if len(row) != len(header):
            raise DataError(
                f"line {line_number} has {len(row)} fields, the header has {len(header)}",
                path=str(path),
            )
        labels.append(row[label_index].strip())
        try:
            features.append([float(v) for i, v in enumerate(row) if i != label_index])
        except ValueError:
            raise DataError(
                f"line {line_number} has a feature that is not a number", path=str(path)
            ) from None
    if not features:
        raise DataError("the csv file has a header but no rows", path=str(path))
    return np.asarray(features, dtype=np.float64), _as_labels(labels)


def _as_labels(texts: list[str]) -> np.ndarray:
    """Labels as integers, else floats, else strings."""
    for kind in (int, float):
        try:
            return np.asarray([kind(text) for text in texts])
        except ValueError:
            continue
    return np.asarray(texts)
