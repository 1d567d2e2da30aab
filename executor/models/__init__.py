"""The built-in tabular models and the Pipeline that trains, predicts, saves and loads them.

``make("fcnn", **config)`` builds a pipeline; ``load_pipeline(folder)`` loads a saved one;
``task_loader(workplace)`` loads the pipeline that a task saved in its workplace. Importing
this package needs only numpy: torch and scikit-learn are imported when a model uses them.
"""

from __future__ import annotations

import os
from typing import Any

from ..contract import Workplace, read_json
from ..errors import ContractError, ModelNotFoundError, UnknownNameError
from .config import TORCH_MODELS
from .pipeline import DESCRIPTION_FILE, Pipeline


def known_models() -> list[str]:
    """The names ``make`` accepts besides a scikit-learn estimator's dotted path."""
    return list(TORCH_MODELS)


def is_known_model(model: str) -> bool:
    """True for a built-in name or what looks like a scikit-learn estimator's dotted path."""
    return model in TORCH_MODELS or (isinstance(model, str) and "." in model.strip("."))


def make(model: str = "fcnn", **config: Any) -> Pipeline:
    """A new, untrained pipeline of ``model`` with ``config`` (plain JSON knobs).

    ``model`` is a built-in name (``linear``, ``fcnn``, ``tree_dnn``) or the dotted path
    of a scikit-learn estimator such as ``sklearn.svm.SVR``. An unknown name raises
    :class:`UnknownNameError`; an unknown config key raises :class:`ConfigError`.
    """
    if model in TORCH_MODELS:
        from .torch_pipeline import TorchPipeline

        return TorchPipeline(model, config)

    if is_known_model(model):
        from .sklearn_pipeline import SklearnPipeline

        return SklearnPipeline(model, config)

    raise UnknownNameError(
        f"unknown model {model!r}: expected one of {known_models()} or the dotted path of "
        "a scikit-learn estimator (e.g. 'sklearn.svm.SVR')",
        known=known_models(),
    )


def load_pipeline(folder: str | os.PathLike[str]) -> Pipeline:
    """Load a pipeline saved with ``Pipeline.save``."""
    return Pipeline.load(folder)


def task_loader(workplace: str | os.PathLike[str] | Workplace) -> Pipeline:
    """Load the pipeline that the default task saved in ``workplace``.

    A workplace without one (a failed task, a custom script that saved nothing) raises
    :class:`ModelNotFoundError` naming the workplace and, when known, the task's state.
    """
    place = workplace if isinstance(workplace, Workplace) else Workplace(workplace)
    if not (place.model_dir / DESCRIPTION_FILE).is_file():
        raise ModelNotFoundError(
            "the workplace holds no saved model",
            workplace=str(place.path),
            expected=str(place.model_dir / DESCRIPTION_FILE),
            state=_task_state(place),
        )
    return Pipeline.load(place.model_dir)


def _task_state(place: Workplace) -> str | None:
    if not place.outcome_file.is_file():
        return None
    try:
        outcome = read_json(place.outcome_file, what="outcome file")
    except ContractError:
        return None
    return outcome.get("state") if isinstance(outcome, dict) else None


__all__ = ["Pipeline", "is_known_model", "known_models", "load_pipeline", "make", "task_loader"]
