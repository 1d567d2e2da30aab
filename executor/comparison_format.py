"""Text renderings of a comparison: the fixed-width table and the Markdown table.

The fixed-width table has a header row naming each metric over its three columns (mean,
std, score), a row of those column names, then one row per method sorted by name. Rules of
``=`` open and close it and rules of ``-`` separate the rows; every cell is centred. A
marked cell reads ``-- value --``; a method with no value for a metric shows ``-``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .comparison import STAT_NAMES

if TYPE_CHECKING:
    from .comparison import Comparison

NAME_WIDTH = 24
CELL_WIDTH = 16
MISSING = "-"


def format_number(value: float, precision: int) -> str:
    """``value`` rounded to ``precision`` decimals, never shown as ``-0.000000``."""
    rounded = round(value, precision) + 0.0
    return f"{rounded:.{precision}f}"


def _cells(comparison: Comparison, marked: bool) -> dict[str, list[str]]:
    """The text of every value cell of every method, in metric then stat order."""
    marks = comparison.marks()
    cells: dict[str, list[str]] = {}
    for method in comparison.methods:
        row: list[str] = []
        for metric in comparison.metrics:
            summary = comparison.summary(method, metric)
            for stat in STAT_NAMES:
                if summary is None:
                    row.append(MISSING)
                    continue
                text = format_number(getattr(summary, stat), comparison.precision)
                if marked and method in marks[metric][stat]:
                    text = f"-- {text} --"
                row.append(text)
        cells[method] = row
    return cells


def render_table(comparison: Comparison) -> str:
    """The fixed-width text table of ``comparison``."""
    cells = _cells(comparison, marked=True)
    longest_cell = max((len(text) for row in cells.values() for text in row), default=0)
    longest_metric = max(len(metric) for metric in comparison.metrics)
    cell_width = max(CELL_WIDTH, longest_cell + 2, -(-longest_metric // 3))
    name_width = max(NAME_WIDTH, max((len(m) for m in comparison.methods), default=0) + 2)
    span_width = 3 * cell_width + 2
    total_width = 2 + name_width + len(comparison.metrics) * (span_width + 1)

    def line(first: str, rest: list[str], width: int) -> str:
        return "|" + first.center(name_width) + "|" + "|".join(t.center(width) for t in rest) + "|"

    thick, thin = "=" * total_width, "-" * total_width
    lines = [thick, line("metrics", comparison.metrics, span_width), thin]
    lines.append(line("", list(STAT_NAMES) * len(comparison.metrics), cell_width))
    for method in comparison.methods:
        lines += [thin, line(method, cells[method], cell_width)]
    lines.append(thick)
    return "\n".join(lines)


def render_markdown(comparison: Comparison) -> str:
    """A Markdown table: one column per metric and statistic, marked cells in bold."""
    marks = comparison.marks()
    header = ["method"] + [f"{m} {stat}" for m in comparison.metrics for stat in STAT_NAMES]
    align = [":---"] + ["---:"] * (len(header) - 1)
    cells = _cells(comparison, marked=False)

    rows = []
    for method in comparison.methods:
        row = [_escape(method)]
        position = 0
        for metric in comparison.metrics:
            for stat in STAT_NAMES:
                text = cells[method][position]
                position += 1
                row.append(f"**{text}**" if method in marks[metric][stat] else text)
        rows.append(row)

    return "\n".join("| " + " | ".join(row) + " |" for row in [header, align, *rows])


def _escape(text: str) -> str:
    return text.replace("|", "\\|")
