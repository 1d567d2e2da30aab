"""The config knobs of the built-in models: their defaults, and checks with clear errors.

A config is plain JSON. Every model shares the training knobs; each adds the knobs of its
architecture. An unknown key is a :class:`ConfigError` that names it and lists the known
ones, so that a typo never silently trains with a default.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError

TORCH_MODELS = ("linear", "fcnn", "tree_dnn")
"""The names of the built-in torch models, as ``make`` accepts them."""

OPTIMIZERS = ("sgd", "rmsprop", "adam", "adamw")
TASK_TYPES = ("clf", "reg")
NORMALIZATIONS = ("batch", "layer", "none")

DEFAULT_LEARNING_RATES = {"sgd": 0.01, "rmsprop": 1e-3, "adam": 3e-3, "adamw": 3e-3}
"""The ``lr`` used when ``optimizer_config`` does not give one."""

TRAINING_DEFAULTS: dict[str, Any] = {
    "task_type": None,
    "optimizer": "adam",
    "optimizer_config": {},
    "batch_size": 64,
    "num_epochs": 200,
    "patience": 20,
    "validation_fraction": 0.2,
    "seed": None,
    "device": "auto",
}
"""The knobs every torch model shares."""

ARCHITECTURE_DEFAULTS: dict[str, dict[str, Any]] = {
    "linear": {},
    "fcnn": {"hidden_units": [64, 64], "dropout": 0.2, "normalization": "batch"},
    "tree_dnn": {"num_trees": 16, "depth": 3, "hidden_units": [64], "dropout": 0.1},
}
"""The knobs of each model's architecture."""


@dataclass(frozen=True)
class TrainingSettings:
    """The training knobs of one resolved config, typed."""

    optimizer: str
    optimizer_config: dict[str, Any]
    batch_size: int
    num_epochs: int
    patience: int | None
    validation_fraction: float
    seed: int

    @classmethod
    def from_config(cls, config: dict[str, Any], seed: int) -> TrainingSettings:
        """Take the training knobs out of a resolved config, with the seed to use."""
        return cls(
            optimizer=config["optimizer"],
            optimizer_config=dict(config["optimizer_config"]),
            batch_size=config["batch_size"],
            num_epochs=config["num_epochs"],
            patience=config["patience"],
            validation_fraction=config["validation_fraction"],
            seed=seed,
        )


def known_keys(model: str) -> list[str]:
    """The config keys that ``model`` accepts, sorted."""
    return sorted({*TRAINING_DEFAULTS, *ARCHITECTURE_DEFAULTS[model]})


def ensure_json(config: dict[str, Any], *, model: str) -> None:
    """Raise :class:`ConfigError` unless ``config`` is a dict that JSON can hold as it is."""
    if not isinstance(config, dict):
        raise ConfigError(
            f"a model config must be a dict, got {type(config).__name__}", model=model
        )
    try:
        json.dumps(config, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"the config is not plain JSON: {error}", model=model) from None


def resolve_config(model: str, config: dict[str, Any]) -> dict[str, Any]:
    """The full config of a torch model: ``config`` checked and completed with defaults."""
    ensure_json(config, model=model)

    unknown = sorted(set(config) - set(known_keys(model)))
    if unknown:
        raise ConfigError(
            f"unknown config key {unknown[0]!r} for model {model!r}",
            unknown=unknown,
            known=known_keys(model),
        )

    resolved = copy.deepcopy({**TRAINING_DEFAULTS, **ARCHITECTURE_DEFAULTS[model]})
    resolved.update(copy.deepcopy(config))
    _check_training(resolved, model)
    _check_architecture(resolved, model)
    return resolved


def _check_training(config: dict[str, Any], model: str) -> None:
    _check_choice(config, "task_type", (None, *TASK_TYPES), model)
    _check_choice(config, "optimizer", OPTIMIZERS, model)
    if not isinstance(config["optimizer_config"], dict):
        raise ConfigError(
            "optimizer_config must be a dict such as {'lr': 0.001}",
            model=model,
            optimizer_config=config["optimizer_config"],
        )

    _check_int(config, "batch_size", model, minimum=1)
    _check_int(config, "num_epochs", model, minimum=1)
    if config["patience"] is not None:
        _check_int(config, "patience", model, minimum=1)
    if config["seed"] is not None:
        _check_int(config, "seed", model, minimum=0)

    fraction = config["validation_fraction"]
    if not _is_number(fraction) or not 0.0 <= fraction < 1.0:
        raise ConfigError(
            "validation_fraction must be a number in [0, 1)", model=model, value=fraction
        )

    device = config["device"]
    if not isinstance(device, str) or not _is_device_name(device):
        raise ConfigError(
            "device must be 'auto', 'cpu', 'cuda' or 'cuda:N'", model=model, value=device
        )


def _check_architecture(config: dict[str, Any], model: str) -> None:
    if "hidden_units" in config:
        units = config["hidden_units"]
        valid = isinstance(units, list) and all(_is_int(unit) and unit >= 1 for unit in units)
        if not valid:
            raise ConfigError(
                "hidden_units must be a list of positive integers", model=model, value=units
            )
    if "dropout" in config:
        dropout = config["dropout"]
        if not _is_number(dropout) or not 0.0 <= dropout < 1.0:
            raise ConfigError("dropout must be a number in [0, 1)", model=model, value=dropout)
    if "normalization" in config:
        _check_choice(config, "normalization", NORMALIZATIONS, model)
    if "num_trees" in config:
        _check_int(config, "num_trees", model, minimum=1)
    if "depth" in config:
        _check_int(config, "depth", model, minimum=1, maximum=10)


def _check_choice(config: dict[str, Any], key: str, choices: tuple[Any, ...], model: str) -> None:
    if config[key] not in choices:
        raise ConfigError(f"{key} must be one of {list(choices)}", model=model, value=config[key])


def _check_int(
    config: dict[str, Any], key: str, model: str, *, minimum: int, maximum: int | None = None
) -> None:
    value = config[key]
    too_big = maximum is not None and _is_int(value) and value > maximum
    if not _is_int(value) or value < minimum or too_big:
        bounds = f">= {minimum}" if maximum is None else f"in [{minimum}, {maximum}]"
        raise ConfigError(f"{key} must be an integer {bounds}", model=model, value=value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_device_name(device: str) -> bool:
    if device in ("auto", "cpu", "cuda"):
        return True
    prefix, _, index = device.partition(":")
    return prefix == "cuda" and index.isdigit()
