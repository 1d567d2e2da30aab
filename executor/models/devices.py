"""Which torch device a model trains on: the GPUs a task was given, and never another.

Inside a task the executor lists the GPUs it gave in ``EXECUTOR_DEVICES`` (and restricts
``CUDA_VISIBLE_DEVICES`` to them). A task given none trains on the CPU without asking
torch about CUDA at all, so that CUDA is never initialised where no GPU was given.
"""

from __future__ import annotations

import logging
import os

from ..contract import DEVICES_ENV
from ..errors import GPUUnavailableError

logger = logging.getLogger(__name__)

VISIBLE_ENV = "CUDA_VISIBLE_DEVICES"


def given_gpus() -> list[str] | None:
    """The GPUs this process was given, or None when nothing says (outside a task)."""
    executor_devices = os.environ.get(DEVICES_ENV)
    if executor_devices is not None:
        return [part.strip() for part in executor_devices.split(",") if part.strip()]

    visible = os.environ.get(VISIBLE_ENV)
    if visible is not None:
        parts = [part.strip() for part in visible.split(",") if part.strip()]
        return [] if parts in ([], ["-1"]) else parts
    return None


def resolve_device(requested: str) -> str:
    """The torch device for a config's ``device``: ``"cpu"`` or ``"cuda:N"``.

    ``"auto"`` takes the first GPU the task was given, else the CPU; outside a task it
    takes a GPU when torch sees one. ``"cuda"`` raises :class:`GPUUnavailableError` when
    no GPU was given or torch cannot use one.
    """
    if requested == "cpu":
        return "cpu"

    given = given_gpus()
    if requested == "auto":
        if given == []:
            return "cpu"
        if not _cuda_available():
            if given:
                logger.warning(
                    "the task was given GPUs %s but torch sees no CUDA: using CPU", given
                )
            return "cpu"
        return _first_given_device() if given else "cuda:0"

    if given == []:
        raise GPUUnavailableError(
            f"device {requested!r} was asked for, but the task was given no GPU",
            requested=requested,
        )
    if not _cuda_available():
        raise GPUUnavailableError(
            f"device {requested!r} was asked for, but torch cannot use CUDA here",
            requested=requested,
        )
    return requested if ":" in requested else _first_given_device()


def _first_given_device() -> str:
    """``cuda:0`` when ``CUDA_VISIBLE_DEVICES`` already narrows to the given GPUs."""
    executor_devices = os.environ.get(DEVICES_ENV, "")
    if os.environ.get(VISIBLE_ENV) is not None or not executor_devices.strip():
        return "cuda:0"
    first = executor_devices.split(",")[0].strip()
    return f"cuda:{first}" if first.isdigit() else "cuda:0"


def _cuda_available() -> bool:
    import torch

    return bool(torch.cuda.is_available())
