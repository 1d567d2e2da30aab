"""A pipeline around any scikit-learn estimator, named by its dotted path.

``make(model="sklearn.svm.SVR", C=2.0)`` builds ``SVR(C=2.0)``: the config goes to the
estimator's constructor, except ``seed`` (given to ``random_state`` when the estimator
has one) and ``task_type`` (checked against the estimator). Features are standardised as
for the built-in models; classification labels are encoded and decoded the same way.

The estimator is saved with joblib, which is a pickle: loading one runs code chosen by
whoever wrote the file, so load only the models of people you trust.
"""

from __future__ import annotations

import importlib
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError, InvalidInputError, ModelNotFoundError, UnknownNameError
from .config import TASK_TYPES, ensure_json
from .pipeline import Pipeline
from .preprocessing import Preprocessing

logger = logging.getLogger(__name__)

ESTIMATOR_FILE = "estimator.joblib"
RESERVED_KEYS = ("seed", "task_type")
"""Config keys a scikit-learn pipeline takes for itself rather than for the estimator."""


def import_estimator(path: str) -> type[Any]:
    """The estimator class at dotted ``path``, checked to be a scikit-learn estimator."""
    from sklearn.base import BaseEstimator

    module_name, _, class_name = path.rpartition(".")
    try:
        module = importlib.import_module(module_name)
        estimator_class = getattr(module, class_name)
    except (ImportError, AttributeError, ValueError) as error:
        raise UnknownNameError(
            f"cannot import the estimator {path!r}: {error}", model=path
        ) from None

    if not (isinstance(estimator_class, type) and issubclass(estimator_class, BaseEstimator)):
        raise UnknownNameError(f"{path!r} is not a scikit-learn estimator class", model=path)
    return estimator_class


class SklearnPipeline(Pipeline):
    """A scikit-learn estimator with the shared preprocessing."""

    kind = "sklearn"

    def __init__(self, model: str, config: dict[str, Any]) -> None:
        ensure_json(config, model=model)
        super().__init__(model, dict(config))
        self.estimator_class = import_estimator(model)
        self.estimator: Any = None

        accepted = sorted(self.estimator_class._get_param_names())
        unknown = sorted(set(config) - set(accepted) - set(RESERVED_KEYS))
        if unknown:
            raise ConfigError(
                f"unknown config key {unknown[0]!r} for {model}",
                unknown=unknown,
                known=sorted({*accepted, *RESERVED_KEYS}),
            )
        self.accepted_params = accepted
        self.configured_task_type = self._estimator_task_type(config.get("task_type"))

    def _estimator_task_type(self, configured: Any) -> str:
        from sklearn.base import is_classifier, is_regressor

        probe = self._build_estimator()
        found = "clf" if is_classifier(probe) else "reg" if is_regressor(probe) else None
        if found is None:
            raise UnknownNameError(
                f"{self.model!r} is neither a classifier nor a regressor", model=self.model
            )
        if configured is not None and configured not in TASK_TYPES:
            raise ConfigError(f"task_type must be one of {list(TASK_TYPES)}", value=configured)
        if configured is not None and configured != found:
            raise ConfigError(
                f"task_type {configured!r} does not match the estimator, which is {found!r}",
                model=self.model,
            )
        return found

    def _build_estimator(self) -> Any:
        params = {key: value for key, value in self.config.items() if key not in RESERVED_KEYS}
        seed = self.config.get("seed")
        if seed is not None and "random_state" in self.accepted_params:
            params.setdefault("random_state", seed)
        try:
            return self.estimator_class(**params)
        except (TypeError, ValueError) as error:
            raise ConfigError(f"cannot build {self.model}: {error}", model=self.model) from None

    def _fit(
        self,
        x: np.ndarray,
        y: np.ndarray,
        validation: tuple[np.ndarray, np.ndarray] | None,
        weights: np.ndarray | None,
    ) -> None:
        task_type = self.configured_task_type
        preprocessing = Preprocessing.fit(x, y, task_type, standardise_target=False)
        features = preprocessing.transform_features(x)
        target = preprocessing.encode_target(y, rows=x.shape[0])
        if target.ndim == 2 and target.shape[1] == 1:
            target = target[:, 0]
        if validation is not None:
            logger.debug("%s does not use x_cv for training; it is ignored", self.model)

        estimator = self._build_estimator()
        fit_options: dict[str, Any] = {}
        if weights is not None:
            from sklearn.utils.validation import has_fit_parameter

            if not has_fit_parameter(estimator, "sample_weight"):
                raise InvalidInputError(
                    f"{self.model} does not accept sample_weights", model=self.model
                )
            fit_options["sample_weight"] = weights
        estimator.fit(features, target, **fit_options)

        self.estimator = estimator
        self.task_type = task_type
        self.preprocessing = preprocessing
        self.num_outputs = 1 if target.ndim == 1 else int(target.shape[1])
        if task_type == "clf" and preprocessing.classes is not None:
            self.num_outputs = len(preprocessing.classes)
        self.training = {"seed": self.config.get("seed")}

    def _predict_encoded(self, features: np.ndarray) -> np.ndarray:
        predictions = np.asarray(self.estimator.predict(features))
        if self.task_type == "clf":
            return predictions.astype(np.int64).reshape(-1)
        return predictions.reshape(features.shape[0], -1)

    def _predict_probabilities(self, features: np.ndarray) -> np.ndarray:
        if not hasattr(self.estimator, "predict_proba"):
            raise InvalidInputError(
                f"{self.model} gives no probabilities (for SVC, set probability=True)",
                model=self.model,
            )
        probabilities = np.zeros((features.shape[0], self.num_outputs))
        known = np.asarray(self.estimator.classes_, dtype=np.int64)
        probabilities[:, known] = self.estimator.predict_proba(features)
        return probabilities

    def _save_artifacts(self, folder: Path) -> None:
        import joblib

        temporary = folder / f".{ESTIMATOR_FILE}.tmp"
        joblib.dump(self.estimator, temporary)
        os.replace(temporary, folder / ESTIMATOR_FILE)

    def _artifact_files(self) -> dict[str, str]:
        return {"estimator": ESTIMATOR_FILE}

    def _versions(self) -> dict[str, str]:
        import sklearn

        return {"sklearn": sklearn.__version__, "numpy": np.__version__}

    @classmethod
    def from_saved(cls, folder: Path, description: dict[str, Any]) -> SklearnPipeline:
        """Rebuild the pipeline and unpickle its estimator: trust the folder's author."""
        import joblib

        pipeline = cls(description["model"], description["config"])
        pipeline.restore_common(description)

        estimator_name = Path(description.get("files", {}).get("estimator", ESTIMATOR_FILE)).name
        estimator_file = folder / estimator_name
        if not estimator_file.is_file():
            raise ModelNotFoundError(
                "the saved pipeline has no estimator file", path=str(estimator_file)
            )
        pipeline.estimator = joblib.load(estimator_file)
        return pipeline
