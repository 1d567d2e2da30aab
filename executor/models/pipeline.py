"""The Pipeline: preprocessing plus a model, trained, used for predictions, saved, loaded.

This module holds what every pipeline shares (input checks, the task type, labels, the
saved description) and needs only numpy; the torch and scikit-learn pipelines fill in
training and prediction, and import their libraries only when they are used.

A saved pipeline is a folder with ``pipeline.json`` (the model's name, config, task type,
preprocessing and training summary) beside the model's own file: torch weights for the
built-in models, or a pickle for a scikit-learn estimator.
"""

from __future__ import annotations

import importlib
import os
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np

from ..contract import read_json, write_json_atomic
from ..errors import ContractError, InvalidInputError, ModelNotFoundError
from .preprocessing import Preprocessing, as_features, as_sample_weights, as_target

DESCRIPTION_FILE = "pipeline.json"
FORMAT_VERSION = 1

PIPELINE_KINDS = {
    "torch": ("executor.models.torch_pipeline", "TorchPipeline"),
    "sklearn": ("executor.models.sklearn_pipeline", "SklearnPipeline"),
}
"""Where the pipeline class of each saved ``kind`` lives, imported only when loaded."""


class Pipeline(ABC):
    """A trainable model with its preprocessing; ``executor.make`` builds one.

    ``predict`` returns an array of shape (rows, 1) for one target (class labels in the
    caller's own values for classification) and (rows, targets) for several regression
    targets; ``predict_prob`` returns class probabilities in the order of ``classes_``.
    """

    kind: ClassVar[str] = "base"

    def __init__(self, model: str, config: dict[str, Any]) -> None:
        self.model = model
        self.config = config
        self.task_type: str | None = None
        self.preprocessing: Preprocessing | None = None
        self.num_outputs = 0
        self.training: dict[str, Any] = {}

    def __repr__(self) -> str:
        state = f"task_type={self.task_type!r}" if self.is_fitted else "not fitted"
        return f"{type(self).__name__}(model={self.model!r}, {state})"

    @property
    def is_fitted(self) -> bool:
        """Whether the pipeline has been trained (or loaded)."""
        return self.preprocessing is not None

    @property
    def classes_(self) -> np.ndarray | None:
        """The class labels, in the order of ``predict_prob``'s columns (None for regression)."""
        return None if self.preprocessing is None else self.preprocessing.classes

    def fit(
        self,
        x: Any,
        y: Any,
        x_cv: Any = None,
        y_cv: Any = None,
        sample_weights: Any = None,
    ) -> Self:
        """Train on ``x``, ``y``; ``x_cv``, ``y_cv`` (if given) drive early stopping."""
        features = as_features(x, name="x")
        target = as_target(y, rows=features.shape[0], name="y")
        weights = as_sample_weights(sample_weights, rows=features.shape[0])
        if (x_cv is None) != (y_cv is None):
            raise InvalidInputError("x_cv and y_cv must be given together, or neither")

        validation = None
        if x_cv is not None:
            cv_features = as_features(x_cv, name="x_cv", num_features=features.shape[1])
            validation = (cv_features, as_target(y_cv, rows=cv_features.shape[0], name="y_cv"))

        self._fit(features, target, validation, weights)
        return self

    def predict(self, x: Any) -> np.ndarray:
        """Predicted labels (classification) or values (regression), one row per row of x."""
        preprocessing = self._fitted()
        features = preprocessing.transform_features(x)
        encoded = self._predict_encoded(features)
        if self.task_type == "clf":
            return preprocessing.decode_labels(encoded)
        return preprocessing.decode_values(encoded)

    def predict_prob(self, x: Any) -> np.ndarray:
        """Class probabilities of shape (rows, classes), columns in the order of ``classes_``."""
        preprocessing = self._fitted()
        if self.task_type != "clf":
            raise InvalidInputError(
                "predict_prob is for classification; this pipeline does regression",
                model=self.model,
            )
        return self._predict_probabilities(preprocessing.transform_features(x))

    def describe(self) -> dict[str, Any]:
        """The pipeline's JSON description, as ``save`` writes it."""
        preprocessing = self._fitted()
        return {
            "format_version": FORMAT_VERSION,
            "kind": self.kind,
            "model": self.model,
            "task_type": self.task_type,
            "config": self.config,
            "num_features": preprocessing.num_features,
            "num_outputs": self.num_outputs,
            "preprocessing": preprocessing.to_json(),
            "training": self.training,
            "files": self._artifact_files(),
            "versions": self._versions(),
        }

    def save(self, folder: str | os.PathLike[str]) -> str:
        """Save into ``folder`` (created if needed) and return its absolute path.

        The model's own file is written first and ``pipeline.json`` last, so a folder
        with a description always holds a whole model.
        """
        self._fitted()
        path = Path(folder).absolute()
        path.mkdir(parents=True, exist_ok=True)

        self._save_artifacts(path)
        write_json_atomic(path / DESCRIPTION_FILE, self.describe())
        return str(path)

    @classmethod
    def load(cls, folder: str | os.PathLike[str]) -> Pipeline:
        """Load a pipeline saved by :meth:`save`, whichever kind it is."""
        path = Path(folder).absolute()
        description_file = path / DESCRIPTION_FILE
        if not description_file.is_file():
            raise ModelNotFoundError("no saved pipeline in this folder", folder=str(path))

        description = read_json(description_file, what="pipeline description")
        if not isinstance(description, dict):
            raise ContractError("the pipeline description is not a JSON object", path=str(path))
        version = description.get("format_version")
        if version != FORMAT_VERSION:
            raise ContractError(
                f"the pipeline has format version {version!r}, expected {FORMAT_VERSION}",
                path=str(path),
            )

        kind = description.get("kind")
        if kind not in PIPELINE_KINDS:
            raise ContractError(f"unknown pipeline kind {kind!r}", path=str(path))
        module_name, class_name = PIPELINE_KINDS[kind]
        pipeline_class: type[Pipeline] = getattr(importlib.import_module(module_name), class_name)
        return pipeline_class.from_saved(path, description)

    @classmethod
    @abstractmethod
    def from_saved(cls, folder: Path, description: dict[str, Any]) -> Pipeline:
        """Rebuild a trained pipeline of this kind from its folder and description."""

    def restore_common(self, description: dict[str, Any]) -> None:
        """Set the fields every kind saves, from a description."""
        self.task_type = description["task_type"]
        self.num_outputs = int(description["num_outputs"])
        self.training = dict(description.get("training") or {})
        self.preprocessing = Preprocessing.from_json(
            description["task_type"], description["preprocessing"]
        )

    @abstractmethod
    def _fit(
        self,
        x: np.ndarray,
        y: np.ndarray,
        validation: tuple[np.ndarray, np.ndarray] | None,
        weights: np.ndarray | None,
    ) -> None:
        """Train on checked arrays; set task_type, preprocessing, num_outputs, training."""

    @abstractmethod
    def _predict_encoded(self, features: np.ndarray) -> np.ndarray:
        """Class indices (classification) or model-unit values (regression)."""

    @abstractmethod
    def _predict_probabilities(self, features: np.ndarray) -> np.ndarray:
        """Class probabilities for preprocessed features."""

    @abstractmethod
    def _save_artifacts(self, folder: Path) -> None:
        """Write the model's own files into ``folder``."""

    @abstractmethod
    def _artifact_files(self) -> dict[str, str]:
        """The model's own files, by role, relative to the saved folder."""

    @abstractmethod
    def _versions(self) -> dict[str, str]:
        """The versions of the libraries the saved form depends on."""

    def _fitted(self) -> Preprocessing:
        if self.preprocessing is None:
            raise InvalidInputError(
                "the pipeline is not fitted: call fit() or load a saved one", model=self.model
            )
        return self.preprocessing
