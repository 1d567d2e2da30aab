"""What a machine offers tasks: CPU shares, GPU ids, and the environment that caps threads."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence

from .errors import InvalidInputError, ResourceError

THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
)


def machine_cpus() -> int:
    """The CPUs this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def cpus_per_task(num_jobs: int, asked: float | None = None) -> int:
    """The thread cap of a task: what it asked, else the machine's CPUs shared by the slots."""
    if asked is not None:
        return max(1, int(asked))
    return max(1, machine_cpus() // num_jobs)


def thread_env(cpus: int) -> dict[str, str]:
    """Environment variables that cap math-library threads at ``cpus``."""
    return {name: str(cpus) for name in THREAD_VARIABLES}


def detect_gpus() -> list[int]:
    """GPU ids on this machine, found through ``nvidia-smi`` (empty when there is none)."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return [int(part) for part in visible.split(",") if part.strip().isdigit()]

    if shutil.which("nvidia-smi") is None:
        return []
    try:
        listing = subprocess.run(
            ["nvidia-smi", "-L"], capture_output=True, text=True, timeout=20, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [
        index for index, line in enumerate(listing.stdout.splitlines()) if line.startswith("GPU")
    ]


def check_cuda_list(cuda_list: Sequence[int] | None) -> list[int]:
    """The GPU ids tasks may use: the caller's list, checked, or the machine's."""
    if cuda_list is None:
        return detect_gpus()
    ids = list(cuda_list)
    if any(isinstance(i, bool) or not isinstance(i, int) or i < 0 for i in ids):
        raise InvalidInputError("cuda_list must hold GPU ids (integers >= 0)", input=ids)
    if len(set(ids)) != len(ids):
        raise InvalidInputError("cuda_list holds the same GPU id twice", input=ids)
    return ids


def gpus_needed(gpus: int | str, available: Sequence[int], where: str) -> int:
    """How many GPU ids a task takes; refuse more than exist."""
    if gpus == "all":
        if not available:
            raise ResourceError("the task asks for all GPUs but none was found", task=where)
        return len(available)
    if isinstance(gpus, bool) or not isinstance(gpus, int) or gpus < 0:
        raise InvalidInputError("gpus must be a count (0 or more) or 'all'", input=gpus, task=where)
    if gpus > len(available):
        raise ResourceError(
            f"the task asks for {gpus} GPU(s) but {len(available)} exist",
            task=where,
            available=list(available),
        )
    return gpus


class DevicePool:
    """Hands out GPU ids exclusively to running tasks."""

    def __init__(self, ids: Sequence[int]) -> None:
        self.free = list(ids)

    def take(self, count: int) -> list[int] | None:
        """Take ``count`` ids, or None when not enough are free now."""
        if count > len(self.free):
            return None
        taken, self.free = self.free[:count], self.free[count:]
        return taken

    def give_back(self, ids: Sequence[int]) -> None:
        """Return ids taken earlier."""
        self.free = sorted({*self.free, *ids})
