"""Checks of input arrays, the task type, and the preprocessing a pipeline saves with it.

Features are standardised with the means and standard deviations of the training data.
Class labels (any integers or strings) become indices and come back as the caller's own
labels. Regression targets of the torch models are standardised too. All of it is kept as
plain JSON beside the weights. This module needs only numpy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import DataError

MAX_INFERRED_CLASSES = 20
"""An integer target with at most this many distinct values is taken as classification."""


def as_features(x: Any, *, name: str = "x", num_features: int | None = None) -> np.ndarray:
    """``x`` as a finite 2-D float array, checked against the expected number of features."""
    array = np.asarray(x)
    if array.ndim != 2:
        raise DataError(f"{name} must be a 2-D array of shape (rows, features)", shape=array.shape)
    if array.dtype.kind not in "biuf":
        raise DataError(f"{name} must be numeric", dtype=str(array.dtype))
    if array.shape[0] == 0:
        raise DataError(f"{name} has no rows", shape=array.shape)

    array = array.astype(np.float64)
    if not np.isfinite(array).all():
        raise DataError(f"{name} holds NaN or infinite values", shape=array.shape)
    if num_features is not None and array.shape[1] != num_features:
        raise DataError(
            f"{name} has {array.shape[1]} features, the model was trained on {num_features}",
            shape=array.shape,
        )
    return array


def as_target(y: Any, *, rows: int, name: str = "y") -> np.ndarray:
    """``y`` as a 2-D array of shape (rows, targets); a 1-D ``y`` becomes one column."""
    array = np.asarray(y)
    if array.ndim == 1:
        array = array.reshape(-1, 1)
    if array.ndim != 2 or array.shape[1] == 0:
        raise DataError(f"{name} must be 1-D or of shape (rows, targets)", shape=array.shape)
    if array.shape[0] != rows:
        raise DataError(
            f"{name} has {array.shape[0]} rows but its features have {rows}", shape=array.shape
        )
    return array


def as_sample_weights(weights: Any, *, rows: int) -> np.ndarray | None:
    """``sample_weights`` as a 1-D array of non-negative finite floats, or None."""
    if weights is None:
        return None

    array = np.asarray(weights, dtype=np.float64).reshape(-1)
    if array.shape[0] != rows:
        raise DataError(
            f"sample_weights has {array.shape[0]} values but x has {rows} rows", rows=rows
        )
    if not np.isfinite(array).all() or (array < 0).any() or array.sum() <= 0:
        raise DataError("sample_weights must be finite, non-negative and not all zero")
    return array


def infer_task_type(y: np.ndarray) -> str:
    """``"clf"`` for labels (strings, booleans, few distinct integers), else ``"reg"``."""
    kind = y.dtype.kind
    if kind in "USOb":
        return "clf"
    if kind in "iu" and y.shape[1] == 1 and len(np.unique(y)) <= MAX_INFERRED_CLASSES:
        return "clf"
    if kind in "iuf":
        return "reg"
    raise DataError("y must hold numbers or labels", dtype=str(y.dtype))


@dataclass
class Preprocessing:
    """What a pipeline does to its inputs and outputs, fitted on the training data."""

    task_type: str
    feature_means: np.ndarray
    feature_stds: np.ndarray
    classes: np.ndarray | None = None
    target_means: np.ndarray | None = None
    target_stds: np.ndarray | None = None

    @classmethod
    def fit(
        cls, x: np.ndarray, y: np.ndarray, task_type: str, *, standardise_target: bool
    ) -> Preprocessing:
        """Learn the preprocessing from checked training arrays."""
        means, stds = _moments(x)
        if task_type == "clf":
            return cls(task_type, means, stds, classes=_classes_of(y))

        target = _numeric_target(y)
        if not standardise_target:
            return cls(task_type, means, stds)
        target_means, target_stds = _moments(target)
        return cls(task_type, means, stds, target_means=target_means, target_stds=target_stds)

    @property
    def num_features(self) -> int:
        """The number of input features."""
        return int(self.feature_means.shape[0])

    def transform_features(self, x: Any, *, name: str = "x") -> np.ndarray:
        """Check ``x`` and standardise it, as float32."""
        array = as_features(x, name=name, num_features=self.num_features)
        return ((array - self.feature_means) / self.feature_stds).astype(np.float32)

    def encode_target(self, y: Any, *, rows: int, name: str = "y") -> np.ndarray:
        """Class indices (1-D int64) for classification, else the (standardised) targets."""
        target = as_target(y, rows=rows, name=name)
        if self.task_type == "clf":
            return self._label_indices(target, name)

        values = _numeric_target(target, name=name)
        if self.target_means is None or self.target_stds is None:
            return values
        return ((values - self.target_means) / self.target_stds).astype(np.float32)

    def decode_labels(self, indices: np.ndarray) -> np.ndarray:
        """The caller's labels for predicted class indices, shape (rows, 1)."""
        assert self.classes is not None
        return self.classes[np.asarray(indices, dtype=np.int64)].reshape(-1, 1)

    def decode_values(self, values: np.ndarray) -> np.ndarray:
        """Regression outputs in the caller's units, shape (rows, targets)."""
        values = np.asarray(values, dtype=np.float64).reshape(values.shape[0], -1)
        if self.target_means is None or self.target_stds is None:
            return values
        return values * self.target_stds + self.target_means

    def to_json(self) -> dict[str, Any]:
        """The preprocessing as plain JSON."""
        payload: dict[str, Any] = {
            "feature_means": self.feature_means.tolist(),
            "feature_stds": self.feature_stds.tolist(),
        }
        if self.classes is not None:
            payload["classes"] = self.classes.tolist()
            payload["classes_dtype"] = self.classes.dtype.str
        if self.target_means is not None and self.target_stds is not None:
            payload["target_means"] = self.target_means.tolist()
            payload["target_stds"] = self.target_stds.tolist()
        return payload

    @classmethod
    def from_json(cls, task_type: str, payload: dict[str, Any]) -> Preprocessing:
        """Rebuild the preprocessing that :meth:`to_json` wrote."""
        classes = None
        if "classes" in payload:
            classes = np.array(payload["classes"], dtype=np.dtype(payload["classes_dtype"]))

        target_means = target_stds = None
        if "target_means" in payload:
            target_means = np.array(payload["target_means"], dtype=np.float64)
            target_stds = np.array(payload["target_stds"], dtype=np.float64)

        return cls(
            task_type,
            np.array(payload["feature_means"], dtype=np.float64),
            np.array(payload["feature_stds"], dtype=np.float64),
            classes=classes,
            target_means=target_means,
            target_stds=target_stds,
        )

    def _label_indices(self, target: np.ndarray, name: str) -> np.ndarray:
        assert self.classes is not None
        labels = _label_column(target, name)
        try:
            positions = np.searchsorted(self.classes, labels)
        except TypeError:
            raise DataError(f"the labels of {name} cannot be compared with the classes") from None

        positions = np.clip(positions, 0, len(self.classes) - 1)
        unseen = labels[self.classes[positions] != labels]
        if unseen.size:
            raise DataError(
                f"{name} holds labels the model was not trained on",
                unseen=sorted({str(label) for label in unseen})[:10],
                classes=[str(label) for label in self.classes],
            )
        return positions.astype(np.int64)


def _moments(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    means = values.mean(axis=0)
    stds = values.std(axis=0)
    stds[stds < 1e-12] = 1.0
    return means, stds


def _label_column(target: np.ndarray, name: str) -> np.ndarray:
    if target.shape[1] != 1:
        raise DataError(
            f"classification takes one column of labels; {name} has {target.shape[1]}",
            shape=target.shape,
        )
    return target[:, 0]


def _classes_of(y: np.ndarray) -> np.ndarray:
    labels = _label_column(y, "y")
    try:
        classes = np.unique(labels)
    except TypeError:
        raise DataError("the labels of y mix types that cannot be sorted") from None

    if len(classes) < 2:
        raise DataError(
            "classification needs at least two classes in y",
            classes=[str(label) for label in classes],
        )
    return classes


def _numeric_target(y: np.ndarray, *, name: str = "y") -> np.ndarray:
    if y.dtype.kind not in "biuf":
        raise DataError(f"regression needs a numeric {name}", dtype=str(y.dtype))
    values = y.astype(np.float64)
    if not np.isfinite(values).all():
        raise DataError(f"{name} holds NaN or infinite values")
    return values
