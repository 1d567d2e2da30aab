"""Reading spec files (TOML or JSON) and checking their tables, keys and values.

Every error names the file and the key that is wrong, and says what was expected; it is a
usage error, so the command exits with status 2 before anything runs.
"""

from __future__ import annotations

import json
import math
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .common import UsageError

SPEC_SUFFIXES = (".toml", ".json")


def load_spec_file(path_text: str) -> dict[str, Any]:
    """The top-level table of a TOML or JSON spec file."""
    path = Path(path_text)
    if path.suffix.lower() not in SPEC_SUFFIXES:
        raise UsageError("a spec file must end in .toml or .json", spec=path_text)
    if not path.is_file():
        raise UsageError("the spec file does not exist", spec=str(path.absolute()))

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"the spec file cannot be read: {error}", spec=path_text) from None

    try:
        raw = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise UsageError(f"the spec file is not valid TOML: {error}", spec=path_text) from None
    except json.JSONDecodeError as error:
        raise UsageError(
            f"the spec file is not valid JSON: {error.msg} at line {error.lineno}", spec=path_text
        ) from None

    if not isinstance(raw, dict):
        raise UsageError("the spec file must hold a table (a JSON object)", spec=path_text)
    return raw


@dataclass
class GpuPlan:
    """Which GPU ids a run may use (None: those found) and how many each task takes."""

    cuda_list: list[int] | None = None
    per_task: int | str = 0


def parse_gpus(value: Any, where: str = "--gpus") -> GpuPlan:
    """``all``, ``none``, ``0,1`` or a list of ids: the GPUs of a run."""
    if value is None:
        return GpuPlan()
    if isinstance(value, str) and value.strip().lower() in ("all", "none", ""):
        return GpuPlan(per_task="all") if value.strip().lower() == "all" else GpuPlan()

    parts = value.split(",") if isinstance(value, str) else value
    if not isinstance(parts, list) or not parts:
        raise UsageError(f"{where} must be 'all', 'none' or GPU ids such as 0,1", value=value)
    ids: list[int] = []
    for part in parts:
        text = part.strip() if isinstance(part, str) else part
        if isinstance(text, str) and text.isdigit():
            text = int(text)
        if isinstance(text, bool) or not isinstance(text, int) or text < 0:
            raise UsageError(f"{where} must be 'all', 'none' or GPU ids such as 0,1", value=value)
        ids.append(text)
    if len(set(ids)) != len(ids):
        raise UsageError(f"{where} names the same GPU twice", value=value)
    return GpuPlan(cuda_list=ids, per_task=1)


@dataclass
class SpecReader:
    """Checks the values of one spec; ``source`` names it in every error."""

    source: str
    base: Path

    def fail(self, where: str, expected: str, value: Any = None) -> UsageError:
        """A usage error for the key ``where``."""
        shown = "" if value is None else f", got {value!r}"
        return UsageError(f"{self.source}: {where} must be {expected}{shown}")

    def table(self, value: Any, where: str, known: Iterable[str]) -> dict[str, Any]:
        """A table whose keys are all known."""
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(where, "a table", value)
        allowed = sorted(known)
        for key in value:
            if key not in allowed:
                raise UsageError(
                    f"{self.source}: unknown key {key!r} in {where}; known keys: "
                    + ", ".join(allowed)
                )
        return value

    def string(self, value: Any, where: str, choices: Iterable[str] | None = None) -> str | None:
        """An optional non-empty string, one of ``choices`` when given."""
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(where, "a non-empty string", value)
        if choices is not None and value not in choices:
            raise self.fail(where, "one of " + ", ".join(choices), value)
        return value

    def integer(self, value: Any, where: str, minimum: int) -> int | None:
        """An optional integer of at least ``minimum``."""
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.fail(where, f"an integer of {minimum} or more", value)
        return value

    def number(
        self, value: Any, where: str, *, low: float, high: float | None = None
    ) -> float | None:
        """An optional finite number in ``[low, high)`` (no upper bound when ``high`` is None)."""
        if value is None:
            return None
        is_number = isinstance(value, int | float) and not isinstance(value, bool)
        inside = is_number and math.isfinite(value) and value >= low
        if inside and high is not None:
            inside = value < high
        if not inside:
            bounds = f"at least {low}" if high is None else f"in [{low}, {high})"
            raise self.fail(where, f"a number {bounds}", value)
        return float(value)

    def path(self, value: Any, where: str) -> Path | None:
        """An optional path; a relative one is taken from the spec's folder."""
        text = self.string(value, where)
        if text is None:
            return None
        path = Path(text).expanduser()
        return path if path.is_absolute() else self.base / path

    def string_list(self, value: Any, where: str) -> list[str] | None:
        """An optional list of strings (a comma-separated string is accepted too)."""
        if value is None:
            return None
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if not isinstance(value, list) or not value:
            raise self.fail(where, "a non-empty list of strings", value)
        for item in value:
            if not isinstance(item, str) or not item.strip():
                raise self.fail(where, "a non-empty list of strings", value)
        return list(value)

    def string_map(self, value: Any, where: str) -> dict[str, str]:
        """A table of strings (environment variables)."""
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(where, "a table of strings", value)
        for name, item in value.items():
            if not isinstance(item, str | int | float) or isinstance(item, bool):
                raise self.fail(f"{where}.{name}", "a string", item)
        return {str(name): str(item) for name, item in value.items()}
