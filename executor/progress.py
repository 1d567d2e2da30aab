"""A progress bar of tasks done, failed, running and left, shown only on a terminal."""

from __future__ import annotations

import sys
from typing import Any


class Progress:
    """Counts finished tasks and draws a tqdm bar on stderr when it is a terminal."""

    def __init__(self, total: int, *, enabled: bool | None = None) -> None:
        self.total = total
        self.done = 0
        self.failed = 0
        self.running = 0
        show = sys.stderr.isatty() if enabled is None else enabled
        self._bar: Any = None
        if show and total > 0:
            from tqdm import tqdm

            self._bar = tqdm(total=total, unit="task", file=sys.stderr, dynamic_ncols=True)
            self._refresh()

    def update(self, *, running: int) -> None:
        """Record how many tasks are running now."""
        self.running = running
        self._refresh()

    def advance(self, *, succeeded: bool) -> None:
        """Record one more finished task."""
        self.done += 1
        self.failed += 0 if succeeded else 1
        self.running = max(0, self.running - 1)
        if self._bar is not None:
            self._bar.update(1)
        self._refresh()

    def _refresh(self) -> None:
        if self._bar is None:
            return
        left = self.total - self.done
        self._bar.set_postfix_str(
            f"done={self.done - self.failed} failed={self.failed} "
            f"running={self.running} left={left}",
            refresh=True,
        )

    def close(self) -> None:
        """Remove the bar from the terminal."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
