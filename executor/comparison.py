"""The comparison of several methods over repeats: statistics, marks, exports.

A :class:`Comparison` holds the raw value of every metric for every repeat of every method,
and derives the rest from them:

* per method and metric: ``mean``, ``std`` (population, ``ddof=0``) and ``score``, which is
  ``mean - std`` when higher is better and ``-(mean + std)`` when lower is better, so that
  a higher score is always better and an unstable method pays for its spread;
* with more than one method, the marks of each column: the best mean (by the metric's
  direction), the lowest std and the highest score; values that tie once rounded to the
  shown precision are all marked;
* the best method of each metric: the one with the highest score (ties go to the first
  name in sorted order).

Exports are strings (``to_json``, ``to_csv``, ``to_markdown``, ``str()``) or files
(``save``, ``plot``); ``from_json`` reads back what ``to_json`` wrote.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .contract import write_text_atomic
from .errors import DataError, InvalidInputError
from .metrics import get_metric

logger = logging.getLogger(__name__)

FORMAT_NAME = "executor.comparison"
FORMAT_VERSION = 1
STAT_NAMES = ("mean", "std", "score")


@dataclass(frozen=True)
class MetricSummary:
    """The statistics of one metric of one method over its repeats."""

    mean: float
    std: float
    score: float
    count: int


@dataclass
class Comparison:
    """Per-repeat metric values of several methods, and what follows from them.

    ``values[method][metric]`` lists one value per repeat (empty when the method has no
    value for that metric). ``directions[metric]`` is True when higher is better.
    ``sources[method]`` says where the values came from: ``"pipeline"``, ``"pattern"`` or
    ``"reported"`` (metrics a task reported itself), or a mix joined by ``+``.
    """

    metrics: list[str]
    values: dict[str, dict[str, list[float]]]
    directions: dict[str, bool] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    task_type: str | None = None
    precision: int = 6

    def __post_init__(self) -> None:
        """Check the shape of ``values`` and fill in missing directions from the registry."""
        if not self.metrics:
            raise InvalidInputError("a comparison needs at least one metric")
        for metric in self.metrics:
            if metric not in self.directions:
                self.directions[metric] = get_metric(metric).higher_is_better

        for method, per_metric in self.values.items():
            unknown = sorted(set(per_metric) - set(self.metrics))
            if unknown:
                raise DataError(
                    "a method has values for metrics the comparison does not list",
                    method=method,
                    metrics=unknown,
                )
            for metric in self.metrics:
                per_metric[metric] = [float(value) for value in per_metric.get(metric, [])]

    # ------------------------------------------------------------------------- statistics

    @property
    def methods(self) -> list[str]:
        """The method names in the order rows are shown: sorted by name."""
        return sorted(self.values)

    def raw(self, method: str, metric: str) -> list[float]:
        """The per-repeat values of ``metric`` for ``method``."""
        self._check(method, metric)
        return list(self.values[method][metric])

    def summary(self, method: str, metric: str) -> MetricSummary | None:
        """Mean, std and score of ``metric`` for ``method``; None when it has no value."""
        self._check(method, metric)
        repeats = np.asarray(self.values[method][metric], dtype=np.float64)
        if repeats.size == 0:
            return None

        mean = float(np.mean(repeats))
        std = float(np.std(repeats))
        score = mean - std if self.directions[metric] else -(mean + std)
        return MetricSummary(mean, std, score, int(repeats.size))

    def summaries(self) -> dict[str, dict[str, MetricSummary | None]]:
        """Every summary, as ``{method: {metric: summary}}``."""
        return {
            method: {metric: self.summary(method, metric) for metric in self.metrics}
            for method in self.methods
        }

    def marks(self) -> dict[str, dict[str, set[str]]]:
        """The marked cells, as ``{metric: {stat: {methods}}}``; empty with one method.

        Values are compared once rounded to ``precision`` digits, so cells that look the
        same are marked together.
        """
        marked: dict[str, dict[str, set[str]]] = {
            metric: {stat: set() for stat in STAT_NAMES} for metric in self.metrics
        }
        if len(self.values) < 2:
            return marked

        for metric in self.metrics:
            present = {
                method: summary
                for method in self.methods
                if (summary := self.summary(method, metric)) is not None
            }
            if not present:
                continue
            higher_mean_is_better = self.directions[metric]
            for stat, higher in (("mean", higher_mean_is_better), ("std", False), ("score", True)):
                shown = {m: self._rounded(getattr(s, stat)) for m, s in present.items()}
                best = max(shown.values()) if higher else min(shown.values())
                marked[metric][stat] = {m for m, value in shown.items() if value == best}
        return marked

    def best(self, metric: str, by: str = "score") -> str | None:
        """The best method for ``metric`` by ``score`` (default) or ``mean``; None if no value.

        Ties go to the first method name in sorted order.
        """
        if by not in ("score", "mean"):
            raise InvalidInputError("by must be 'score' or 'mean'", by=by)
        self._check(None, metric)

        best_method: str | None = None
        best_value = 0.0
        higher = True if by == "score" else self.directions[metric]
        for method in self.methods:
            summary = self.summary(method, metric)
            if summary is None:
                continue
            value = getattr(summary, by)
            better = value > best_value if higher else value < best_value
            if best_method is None or better:
                best_method, best_value = method, value
        return best_method

    @property
    def best_methods(self) -> dict[str, str | None]:
        """The best method of each metric, by score."""
        return {metric: self.best(metric) for metric in self.metrics}

    # ------------------------------------------------------------------------- text

    def table(self) -> str:
        """The comparison as the fixed-width text table that ``evaluate`` prints."""
        from .comparison_format import render_table

        return render_table(self)

    def __str__(self) -> str:
        """The text table."""
        return self.table()

    def show(self) -> None:
        """Print the text table (and log it at INFO)."""
        text = self.table()
        logger.info("comparison of %d methods:\n%s", len(self.values), text)
        print(text)

    # ------------------------------------------------------------------------- exports

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary: the raw values, plus the derived statistics and marks."""
        marks = self.marks()
        summaries = self.summaries()
        return {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "task_type": self.task_type,
            "precision": self.precision,
            "metrics": [
                {"name": metric, "higher_is_better": self.directions[metric]}
                for metric in self.metrics
            ],
            "methods": {
                method: {
                    "source": self.sources.get(method),
                    "values": self.values[method],
                    "summary": {
                        metric: None if summary is None else summary.__dict__
                        for metric, summary in summaries[method].items()
                    },
                }
                for method in self.methods
            },
            "marks": {
                metric: {stat: sorted(names) for stat, names in per_stat.items()}
                for metric, per_stat in marks.items()
            },
            "best": self.best_methods,
        }

    def to_json(self, indent: int | None = 2) -> str:
        """The comparison as a JSON string; ``from_json`` reads it back."""
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_json(cls, text: str) -> Comparison:
        """Rebuild a comparison from ``to_json`` output (statistics are recomputed)."""
        try:
            payload = json.loads(text)
            if payload.get("format") != FORMAT_NAME:
                raise DataError("not a comparison document", format=payload.get("format"))
            metrics = [entry["name"] for entry in payload["metrics"]]
            directions = {e["name"]: bool(e["higher_is_better"]) for e in payload["metrics"]}
            methods = payload["methods"]
            values = {name: dict(entry["values"]) for name, entry in methods.items()}
            sources = {n: e["source"] for n, e in methods.items() if e.get("source") is not None}
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise DataError(f"cannot read a comparison from JSON: {error}") from error

        return cls(
            metrics=metrics,
            values=values,
            directions=directions,
            sources=sources,
            task_type=payload.get("task_type"),
            precision=int(payload.get("precision", 6)),
        )

    def to_csv(self, raw: bool = False) -> str:
        """CSV text: one row per method and metric with its statistics and marks.

        With ``raw=True``, one row per method, metric and repeat with its value instead.
        """
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        if raw:
            writer.writerow(["method", "metric", "repeat", "value"])
            for method in self.methods:
                for metric in self.metrics:
                    for repeat, value in enumerate(self.values[method][metric]):
                        writer.writerow([method, metric, repeat, repr(value)])
            return buffer.getvalue()

        marks = self.marks()
        header = ["method", "metric", "mean", "std", "score", "repeats"]
        writer.writerow([*header, "best_mean", "best_std", "best_score"])
        for method in self.methods:
            for metric in self.metrics:
                summary = self.summary(method, metric)
                numbers = ["", "", "", 0] if summary is None else list(summary.__dict__.values())
                flags = [method in marks[metric][stat] for stat in STAT_NAMES]
                writer.writerow([method, metric, *map(_csv_cell, numbers), *flags])
        return buffer.getvalue()

    def to_markdown(self) -> str:
        """A Markdown table; marked cells are in bold."""
        from .comparison_format import render_markdown

        return render_markdown(self)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the comparison to ``path``, the format chosen by its extension.

        ``.json``, ``.csv``, ``.md``/``.markdown``, ``.txt`` (the text table) or ``.png``
        (the plot).
        """
        target = Path(path)
        suffix = target.suffix.lower()
        writers = {
            ".json": self.to_json,
            ".csv": self.to_csv,
            ".md": self.to_markdown,
            ".markdown": self.to_markdown,
            ".txt": self.table,
        }
        if suffix == ".png":
            return self.plot(target)
        if suffix not in writers:
            raise InvalidInputError(
                "cannot tell the format from the extension; use .json, .csv, .md, .txt or .png",
                path=str(target),
            )

        write_text_atomic(target, writers[suffix]() + ("" if suffix == ".csv" else "\n"))
        logger.info("saved the comparison to %s", target)
        return target

    def plot(self, path: str | os.PathLike[str]) -> Path:
        """Write a PNG with one panel per metric: each method's values over its repeats."""
        from .comparison_plot import plot_comparison

        return plot_comparison(self, Path(path))

    # ------------------------------------------------------------------------- helpers

    def _rounded(self, value: float) -> float:
        return round(value, self.precision) + 0.0

    def _check(self, method: str | None, metric: str) -> None:
        if metric not in self.metrics:
            raise InvalidInputError(
                "the comparison has no such metric", metric=metric, metrics=self.metrics
            )
        if method is not None and method not in self.values:
            raise InvalidInputError(
                "the comparison has no such method", method=method, methods=self.methods
            )


def _csv_cell(value: object) -> str:
    return repr(value) if isinstance(value, float) else str(value)
