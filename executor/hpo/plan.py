"""How a candidate becomes tasks: the model, the fixed config, the command or image."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidInputError

_RESERVED_TASK_OPTIONS = ("model", "config", "data_folder", "run_command", "workplace_key", "image")


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``override`` laid over it, nested dicts merged key by key."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


@dataclass
class TaskPlan:
    """How a candidate becomes tasks: the model, the fixed config, the command or image."""

    model: str
    fixed_config: dict[str, Any]
    custom: bool
    run_command: str | Sequence[str] | None
    image: str | None
    seed: int
    num_repeat: int
    timeout: float | None = None
    task_options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Refuse task options that the plan itself sets."""
        clashing = sorted(set(self.task_options) & set(_RESERVED_TASK_OPTIONS))
        if clashing:
            raise InvalidInputError(
                "task_options may not set what tune_with sets itself", options=clashing
            )

    def describe(self) -> dict[str, Any]:
        """A JSON description, part of the search's identity."""
        command = self.run_command
        return {
            "model": self.model,
            "fixed_config": self.fixed_config,
            "run_command": command
            if command is None or isinstance(command, str)
            else list(command),
            "image": self.image,
            "seed": self.seed,
            "num_repeat": self.num_repeat,
        }

    def candidate_config(self, params: dict[str, Any]) -> dict[str, Any]:
        """The config of a candidate: its params laid over the fixed config."""
        return deep_merge(self.fixed_config, params)

    def task_config(self, params: dict[str, Any], repeat: int) -> dict[str, Any]:
        """The config of one repeat; built-in models get the seed ``seed + repeat``."""
        config = self.candidate_config(params)
        if not self.custom:
            config["seed"] = self.seed + repeat
        return config

    def best_param(self, params: dict[str, Any]) -> dict[str, Any]:
        """What ``make(**best_param)`` needs: the model and the candidate's config."""
        return {"model": self.model, **self.candidate_config(params)}
