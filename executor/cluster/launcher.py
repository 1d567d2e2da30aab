"""The driver's side of an attempt on Ray: submit it, follow it, stop it, bring it home.

:class:`RayLauncher` looks like any other launcher to the scheduler. Its ``start`` submits
one Ray task (:func:`executor.cluster.node.run_attempt`) asking for the task's CPUs, GPUs
and memory; the returned :class:`RayTask` learns where the attempt landed, waits for its
end, and unpacks the files it left into the root's workplace.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..contract import Workplace, hostname
from ..errors import ExecutorError, LaunchError
from ..launchers.base import ExitStatus, Launcher, LaunchSpec, RunningTask
from .node import NodeRequest, run_attempt, stop_attempt
from .transfer import apply_results, pack_workplace, read_bundle

logger = logging.getLogger(__name__)

STOP_MARGIN = 10.0
"""Seconds, beyond the grace, that a stop may take before the Ray task is cancelled by force."""
LOST_ERRORS = (
    "NodeDiedError",
    "WorkerCrashedError",
    "LocalRayletDiedError",
    "ObjectLostError",
    "ObjectFetchTimedOutError",
    "OutOfMemoryError",
    "RaySystemError",
)
"""Ray's errors that mean an attempt was lost with its node or worker, not failed by itself."""


class NodeLostError(LaunchError):
    """An attempt ended because its node or its Ray worker was lost, not because of the task."""


@dataclass
class RayResources:
    """What one task asks of Ray."""

    cpus: float
    gpus: int
    memory: int | None = None


@dataclass
class Placement:
    """Where an attempt runs: the node, its GPUs, and the node-side process or container."""

    host: str
    ip: str
    node_id: str
    devices: list[int] = field(default_factory=list)
    identity: dict[str, Any] = field(default_factory=dict)
    workplace: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def where(self) -> str:
        """The host name and Ray node id, as recorded in the attempt (``host/node-id``)."""
        return f"{self.host}/{self.node_id}"


class RayContext:
    """What the attempts of one run share: the remote functions and the bundles put once."""

    def __init__(
        self,
        *,
        grace: float,
        shared_storage: bool,
        working_dir_shipped: bool,
        task_runtime_env: dict[str, Any] | None,
    ) -> None:
        import ray

        self.grace = grace
        self.shared_storage = shared_storage
        self.working_dir_shipped = working_dir_shipped
        self.task_runtime_env = task_runtime_env
        self.attempt_remote = ray.remote(max_retries=0)(run_attempt)
        self.stop_remote = ray.remote(num_cpus=0, max_retries=0)(stop_attempt)
        self._bundles: dict[Path, Any] = {}
        self._lock = threading.Lock()

    def bundle_ref(self, folder: Path) -> Any:
        """The object reference of a data bundle, put into the object store once per run."""
        with self._lock:
            if folder not in self._bundles:
                import ray

                logger.debug("putting data bundle %s into the object store", folder)
                self._bundles[folder] = ray.put(read_bundle(folder))
            return self._bundles[folder]

    def stop(self, placement: Placement, launcher: str, grace: float) -> None:
        """Ask the attempt's node to stop it (a small task pinned to that node)."""
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        strategy = NodeAffinitySchedulingStrategy(node_id=placement.node_id, soft=False)
        self.stop_remote.options(scheduling_strategy=strategy).remote(
            launcher, placement.identity, placement.workplace, grace
        )


class RayTask(RunningTask):
    """One attempt submitted to Ray."""

    def __init__(self, context: RayContext, generator: Any, spec: LaunchSpec, launcher: str):
        self.context = context
        self.generator = generator
        self.spec = spec
        self.launcher = launcher
        self.placement: Placement | None = None
        self.started_at: float | None = None
        self.recorded = False
        self.oom_killed = False
        self._ended = threading.Event()

    def wait(self) -> ExitStatus:
        """Wait for the attempt on its node; unpack what it left into the root's workplace."""
        import ray
        import ray.exceptions

        try:
            started = ray.get(next(self.generator))
            self.placement = Placement(**started)
            self.started_at = time.monotonic()
            logger.debug("%s runs on %s", self.spec.workplace.path, self.placement.where)
            for note in self.placement.notes:
                logger.warning("%s on %s: %s", self.spec.workplace.path, self.placement.where, note)
            ended = ray.get(next(self.generator))
        except ray.exceptions.TaskCancelledError:
            return ExitStatus(exit_code=None, signal=int(signal.SIGKILL))
        except ray.exceptions.RayError as error:
            if any(base.__name__ in LOST_ERRORS for base in type(error).__mro__):
                raise _lost(error, self.placement) from None
            raise _node_side_error(error, self.placement) from None
        except StopIteration:
            raise LaunchError("the attempt ended on its node without reporting back") from None
        finally:
            self._ended.set()

        if ended["files"] is not None:
            apply_results(ended["files"], self.spec.workplace)
        self.oom_killed = bool(ended["oom_killed"])
        return ExitStatus(exit_code=ended["exit_code"], signal=ended["signal"])

    def kill(self, grace: float = 2.0) -> None:
        """Stop the attempt on its node, with a grace; cancel it in Ray if that does not work."""
        if self._ended.is_set():
            return
        placement = self.placement
        if placement is not None:
            self.context.stop(placement, self.launcher, grace)
        elif grace > 0:
            # Not known to run yet: a queued task is dropped; one that just started is
            # interrupted on its node, which stops what it launched.
            self._cancel(force=False)

        if grace > 0 and self._ended.wait(grace + STOP_MARGIN):
            return
        if not self._ended.is_set():
            if grace > 0:
                logger.warning("%s did not stop; cancelling its Ray task", self.spec.workplace.path)
            self._cancel(force=True)

    def _cancel(self, *, force: bool) -> None:
        import ray

        try:
            ray.cancel(self.generator, force=force)
        except Exception as error:  # Ray refuses in several ways for a task already gone
            logger.debug("cancelling %s: %s", self.spec.workplace.path, error)

    def identity(self) -> dict[str, Any]:
        """Where the attempt runs: the driver host, and once known the node and its process."""
        identity: dict[str, Any] = {"launcher": "ray", "inner": self.launcher, "host": hostname()}
        if self.placement is not None:
            identity.update(
                node_id=self.placement.node_id,
                node_host=self.placement.host,
                node_ip=self.placement.ip,
                node_identity=self.placement.identity,
            )
        return identity


class RayLauncher(Launcher):
    """Runs each attempt as a Ray task that uses the named launcher on its node."""

    def __init__(self, context: RayContext, inner: str, resources: RayResources) -> None:
        self.context = context
        self.name = inner
        self.resources = resources

    def start(self, spec: LaunchSpec) -> RunningTask:
        """Submit the attempt; its workplace and data bundle travel unless storage is shared."""
        context = self.context
        bundle: list[Any] = []
        archive = None
        data_folder = None
        if not context.shared_storage:
            archive = pack_workplace(spec.workplace)
            data_folder = spec.workplace.read_meta().get("data_folder")
            if data_folder is not None:
                bundle.append(context.bundle_ref(spec.workplace.root / data_folder))

        request = NodeRequest(
            spec=spec,
            launcher=self.name,
            workplace_archive=archive,
            data_folder=data_folder,
            driver_python=sys.executable,
            working_dir_shipped=context.working_dir_shipped,
            grace=context.grace,
        )
        options: dict[str, Any] = {
            "num_cpus": self.resources.cpus,
            "num_gpus": self.resources.gpus,
            "name": "executor " + "/".join(spec.workplace.key),
        }
        if self.resources.memory is not None:
            options["memory"] = self.resources.memory
        if context.task_runtime_env is not None:
            options["runtime_env"] = context.task_runtime_env

        generator = context.attempt_remote.options(**options).remote(request, bundle)
        return RayTask(context, generator, spec, self.name)

    def reap(self, workplace: Workplace, identity: dict[str, Any]) -> ExitStatus | None:
        """Nothing to reap from the driver: Ray stops the tasks of a driver that died."""
        return None


def _lost(error: Exception, placement: Placement | None) -> NodeLostError:
    where = placement.where if placement is not None else None
    first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return NodeLostError(
        f"lost with its node or Ray worker ({type(error).__name__}): {first_line}", node=where
    )


def _node_side_error(error: Exception, placement: Placement | None) -> ExecutorError:
    cause = getattr(error, "cause", None)
    if isinstance(cause, ExecutorError):
        return cause
    where = placement.where if placement is not None else None
    return LaunchError(f"Ray could not run the attempt: {cause or error}", node=where)
