"""The run lock of an experiment root: one run at a time may launch its tasks."""

from __future__ import annotations

import logging
import os
from types import TracebackType
from typing import Any

from .contract import RootLayout, hostname, now_iso, read_json, write_json_atomic
from .errors import ContractError, InvalidInputError, RootLockedError

logger = logging.getLogger(__name__)

LOCK_MODES = ("wait", "fail")


class RootLock:
    """Holds ``<root>/__lock__`` for the length of a run.

    ``mode="wait"`` blocks until the other run ends (``wait_timeout`` seconds at most, None
    for no limit); ``mode="fail"`` refuses at once. Either way the error names the root and
    the holder.
    """

    def __init__(self, layout: RootLayout, mode: str = "wait", wait_timeout: float | None = None):
        if mode not in LOCK_MODES:
            raise InvalidInputError(f"lock must be one of {LOCK_MODES}", input=mode)
        from filelock import FileLock

        self.layout = layout
        self.mode = mode
        self.wait_timeout = wait_timeout
        self._lock = FileLock(str(layout.lock_file))

    def holder(self) -> dict[str, Any] | None:
        """Who holds the lock, as it wrote itself down (None when unknown)."""
        try:
            payload = read_json(self.layout.lock_info_file, what="lock info file")
        except ContractError:
            return None
        return payload if isinstance(payload, dict) else None

    def __enter__(self) -> RootLock:
        from filelock import Timeout

        self.layout.root.mkdir(parents=True, exist_ok=True)
        if self.mode == "fail":
            timeout: float = 0
        else:
            timeout = -1 if self.wait_timeout is None else self.wait_timeout

        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            if timeout == 0:
                raise self._locked_error() from None
            logger.warning(
                "waiting for another run on %s (held by %s)", self.layout.root, self.holder()
            )
            try:
                self._lock.acquire(timeout=timeout)
            except Timeout:
                raise self._locked_error() from None

        write_json_atomic(
            self.layout.lock_info_file,
            {"pid": os.getpid(), "host": hostname(), "since": now_iso()},
        )
        return self

    def _locked_error(self) -> RootLockedError:
        return RootLockedError(
            "another run holds this experiment root; wait for it or use another root",
            root=str(self.layout.root),
            holder=self.holder(),
        )

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.layout.lock_info_file.unlink(missing_ok=True)
        self._lock.release()
