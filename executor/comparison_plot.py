"""A PNG of a comparison: one panel per metric, each method's values over its repeats.

matplotlib comes from the ``plot`` extra and is imported only here, when a plot is asked
for. The figure is drawn on an Agg canvas directly, so the caller's pyplot backend and
state are left as they were.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import InvalidInputError

if TYPE_CHECKING:
    from .comparison import Comparison

logger = logging.getLogger(__name__)

PANEL_WIDTH = 4.5
PANEL_HEIGHT = 3.5


def plot_comparison(comparison: Comparison, path: Path) -> Path:
    """Draw ``comparison`` and write it to ``path`` as a PNG (atomically)."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError(
            "Comparison.plot needs matplotlib; install the 'plot' extra: "
            "pip install 'executor[plot]'"
        ) from error
    if path.suffix.lower() != ".png":
        raise InvalidInputError("a comparison plot is written as PNG", path=str(path))

    methods = comparison.methods
    metrics = comparison.metrics
    figure = Figure(figsize=(PANEL_WIDTH * len(metrics), PANEL_HEIGHT + 0.25 * len(methods)))
    FigureCanvasAgg(figure)
    axes_list = figure.subplots(1, len(metrics), squeeze=False)[0]

    for axes, metric in zip(axes_list, metrics, strict=True):
        positions = list(range(1, len(methods) + 1))
        series = [comparison.values[method][metric] for method in methods]
        drawn = [(p, values) for p, values in zip(positions, series, strict=True) if values]
        if drawn:
            axes.boxplot([values for _, values in drawn], positions=[p for p, _ in drawn])
            for position, values in drawn:
                axes.scatter([position] * len(values), values, s=12, alpha=0.6, zorder=3)
        axes.set_xticks(positions)
        axes.set_xticklabels(methods, rotation=30, ha="right")
        arrow = "higher is better" if comparison.directions[metric] else "lower is better"
        axes.set_title(f"{metric} ({arrow})")
        best = comparison.best(metric)
        if best is not None:
            axes.get_xticklabels()[methods.index(best)].set_fontweight("bold")
    figure.tight_layout()

    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".png", dir=path.parent)
    os.close(handle)
    try:
        figure.savefig(temporary, format="png")
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    logger.info("saved the comparison plot to %s", path)
    return path
