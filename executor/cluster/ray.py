"""The Ray backend: ``run_tasks(backend="ray")`` runs the same scheduler loop on a cluster.

Timeouts, retries, cancellation and resume are the local scheduler's own; only where an
attempt runs changes. Each attempt becomes a Ray task asking for the task's CPUs (1 when
it asks none), GPUs and memory, so that Ray chooses the node and its GPU ids; on that node
the ordinary process or Docker launcher runs it (see :mod:`executor.cluster.node`).

An attempt lost with its node or Ray worker runs again at once, elsewhere if Ray so
places it; the lost attempt stays in the outcome with its reason and does not use the
task's ``retries``. At most ``lost_node_retries`` such re-runs are made per task and run.
"""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from typing import Any

from ..contract import now_iso, write_json_atomic
from ..errors import InvalidInputError, LaunchError, ResourceError
from ..launchers.base import ExitStatus
from ..launchers.docker_spec import parse_memory
from ..outcome import Outcome, TaskState
from ..progress import Progress
from ..resources import DevicePool
from ..scheduler import Job, Scheduler
from .launcher import NodeLostError, RayContext, RayLauncher, RayResources, RayTask

logger = logging.getLogger(__name__)

_connection: dict[str, str] = {}
"""The connection this module made, if any: the options it was made with."""


@dataclass
class RaySettings:
    """The options of the Ray backend, as ``run_tasks(backend="ray", ...)`` takes them.

    ``address``: None starts a private local Ray instance (kept for the life of the
    process, so that repeated runs do not start one each); ``"auto"`` or ``"host:port"``
    connects to a running cluster, which is never shut down. ``shared_storage``: the root
    is at the same path on every node, so nothing is copied. ``num_cpus``: the CPUs of a
    local instance. ``runtime_env``: Ray's runtime environment for the tasks, such as
    ``{"working_dir": "."}`` to ship the task scripts. ``lost_node_retries``: how many
    times per task an attempt lost with its node runs again. ``check_resources``: refuse,
    before anything starts, a task that no live node could hold.
    """

    address: str | None = None
    shared_storage: bool = False
    num_cpus: int | None = None
    runtime_env: dict[str, Any] | None = None
    lost_node_retries: int = 3
    check_resources: bool = True

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> RaySettings:
        """Check the backend options by name and type."""
        known = [item.name for item in fields(cls)]
        unknown = sorted(set(options) - set(known))
        if unknown:
            raise InvalidInputError(
                f"unknown option(s) for the ray backend; known: {known}", input=unknown
            )
        settings = cls(**options)

        if settings.address is not None and not isinstance(settings.address, str):
            raise InvalidInputError("address must be a string such as 'auto' or 'host:port'")
        for name in ("shared_storage", "check_resources"):
            if not isinstance(getattr(settings, name), bool):
                raise InvalidInputError(f"{name} must be True or False", input=name)
        if settings.num_cpus is not None and not _is_count(settings.num_cpus, minimum=1):
            raise InvalidInputError("num_cpus must be an integer of 1 or more", input="num_cpus")
        if settings.num_cpus is not None and settings.address is not None:
            raise InvalidInputError(
                "num_cpus sizes a local Ray instance; a cluster at an address has its own",
                input="num_cpus",
            )
        if not _is_count(settings.lost_node_retries, minimum=0):
            raise InvalidInputError(
                "lost_node_retries must be an integer, 0 or more", input="lost_node_retries"
            )
        if settings.runtime_env is not None and not isinstance(settings.runtime_env, dict):
            raise InvalidInputError("runtime_env must be a dict", input="runtime_env")
        return settings


def ray_gpu_count(gpus: int | str, where: str) -> int:
    """The GPU count a task asks of Ray; ``"all"`` has no meaning on a cluster."""
    if isinstance(gpus, bool) or not isinstance(gpus, int) or gpus < 0:
        raise InvalidInputError(
            "on the ray backend gpus must be a count (0 or more); 'all' is not known there",
            input=gpus,
            task=where,
        )
    return gpus


def connect(settings: RaySettings) -> bool:
    """Connect this process to Ray as asked; True when the runtime env applies to the job.

    A connection the caller made with ``ray.init`` is used as it is.
    """
    try:
        import ray
    except ImportError:
        raise LaunchError(
            "the ray backend needs the ray package: pip install 'executor[ray]'"
        ) from None

    if settings.address is not None:
        _check_reachable(settings.address)
    wanted = json.dumps(
        [settings.address, settings.num_cpus, settings.runtime_env], sort_keys=True, default=str
    )
    if ray.is_initialized():
        if _connection.get("options") == wanted:
            return True
        if "options" not in _connection:
            if settings.address is not None or settings.num_cpus is not None:
                raise InvalidInputError(
                    "Ray is already initialised in this process; leave address and num_cpus "
                    "unset to use that connection, or call ray.shutdown() first",
                    input="address",
                )
            return False
        ray.shutdown()

    arguments: dict[str, Any] = {"log_to_driver": False, "runtime_env": settings.runtime_env}
    if settings.address is None:
        arguments.update(address="local", num_cpus=settings.num_cpus, include_dashboard=False)
    else:
        arguments.update(address=settings.address)
    try:
        ray.init(**arguments)
    except (ConnectionError, RuntimeError, ValueError) as error:
        raise LaunchError(f"could not connect to Ray: {error}", address=settings.address) from None

    _connection["options"] = wanted
    logger.info("connected to Ray: %s", ray.cluster_resources())
    return True


def _check_reachable(address: str, timeout: float = 5.0) -> None:
    """Refuse at once a ``host:port`` address where nothing answers.

    Ray itself keeps retrying such an address for minutes before it gives up.
    """
    target = address.removeprefix("ray://")
    host, _, port = target.rpartition(":")
    if not host or not port.isdigit():
        return  # "auto", "local" and the like: Ray resolves them itself
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            return
    except OSError as error:
        raise LaunchError(
            f"nothing answers at the Ray address ({error}); start the cluster with "
            "'ray start --head' or give its address",
            address=address,
        ) from None


def disconnect() -> None:
    """End the connection ``run_tasks`` made; a local instance it started stops with it.

    A connection the caller made with ``ray.init`` is left alone.
    """
    if _connection.pop("options", None) is None:
        return
    import ray

    if ray.is_initialized():
        ray.shutdown()


def check_cluster(demands: dict[str, RayResources]) -> None:
    """Refuse a task that no live node of the cluster could hold."""
    import ray

    nodes = [node["Resources"] for node in ray.nodes() if node.get("Alive")]
    for where, asked in demands.items():
        if not any(_fits(asked, node) for node in nodes):
            raise ResourceError(
                "no node of the Ray cluster has the resources this task asks for",
                task=where,
                asked=vars(asked),
                nodes=[
                    {name: node.get(name) for name in ("CPU", "GPU", "memory")} for node in nodes
                ],
            )


class ClusterDevices(DevicePool):
    """Ray assigns GPU ids on the node; the driver hands out none and holds none back."""

    def __init__(self) -> None:
        super().__init__([])

    def take(self, count: int) -> list[int] | None:
        """Always grant: the GPUs are Ray's to give, on the node."""
        return []

    def give_back(self, ids: Sequence[int]) -> None:
        """Nothing was taken."""


class RayScheduler(Scheduler):
    """The local loop over Ray tasks: deadlines count from the start on a node."""

    def __init__(self, num_jobs: int, *, lost_node_retries: int, **options: Any) -> None:
        super().__init__(num_jobs, [], **options)
        self.devices = ClusterDevices()
        self.lost_node_retries = lost_node_retries
        self.lost: dict[tuple[str, str], int] = {}

    def _enforce_deadlines(self, running: list[Job]) -> None:
        for job in running:
            self._follow(job)
        super()._enforce_deadlines(running)

    def _follow(self, job: Job) -> None:
        """Record where an attempt landed and arm its deadline from when it started there."""
        handle = job.handle
        if not isinstance(handle, RayTask) or handle.recorded:
            return
        if handle.placement is None or handle.started_at is None:
            job.deadline = None  # still in Ray's queue: the timeout has not begun
            return

        handle.recorded = True
        job.started = handle.started_at
        job.deadline = job.started + job.timeout if job.timeout else None
        attempt = job.outcome.attempts[-1]
        attempt.host = handle.placement.where
        attempt.devices = list(handle.placement.devices)
        job.outcome.save()
        write_json_atomic(job.workplace.pid_file, handle.identity())

    def _settle(
        self, job: Job, result: ExitStatus | BaseException, pending: list[Job], progress: Progress
    ) -> None:
        self._follow(job)
        if isinstance(result, NodeLostError):
            self._settle_lost(job, result, pending, progress)
        else:
            super()._settle(job, result, pending, progress)

    def _settle_lost(
        self, job: Job, error: NodeLostError, pending: list[Job], progress: Progress
    ) -> None:
        attempt = job.outcome.attempts[-1]
        attempt.ended_at = now_iso()
        attempt.duration = round(time.monotonic() - job.started, 4) if job.started else 0.0
        attempt.state, attempt.reason = TaskState.FAILED.value, str(error)
        job.workplace.pid_file.unlink(missing_ok=True)

        lost = self.lost[job.spec.key] = self.lost.get(job.spec.key, 0) + 1
        if lost > self.lost_node_retries:
            reason = f"{error}; gave up after {lost} attempt(s) lost with their node"
            self._finish(job, TaskState.FAILED, reason, progress)
            return

        logger.warning("%s: %s; running it again", job.workplace.path, error)
        job.first_attempt += 1  # a lost attempt does not use the task's own retries
        job.outcome.state, job.outcome.reason = TaskState.PENDING, str(error)
        job.outcome.save()
        job.not_before = time.monotonic()
        job.started = 0.0
        pending.insert(0, job)


def run_on_ray(
    jobs: Sequence[Job],
    *,
    num_jobs: int,
    gpu_ids: Sequence[int],
    grace: float,
    retry_delay: float,
    progress: bool | None,
    on_finish: Callable[[Outcome], None] | None,
    **options: Any,
) -> None:
    """Run the jobs on Ray, ``num_jobs`` at a time; each job's outcome is updated in place.

    ``gpu_ids`` (the driver's GPUs) does not apply: the nodes' GPUs are Ray's to assign.
    """
    settings = RaySettings.from_options(options)
    demands = {
        "/".join(job.spec.key): RayResources(
            cpus=job.spec.resources.cpus or 1,
            gpus=job.gpu_count,
            memory=parse_memory(job.spec.resources.memory),
        )
        for job in jobs
    }
    if not jobs:
        return

    job_level_env = connect(settings)
    if settings.check_resources:
        check_cluster(demands)
    shipped = bool(settings.runtime_env and settings.runtime_env.get("working_dir"))
    context = RayContext(
        grace=grace,
        shared_storage=settings.shared_storage,
        working_dir_shipped=shipped,
        task_runtime_env=None if job_level_env else settings.runtime_env,
    )

    for job in jobs:
        resources = demands["/".join(job.spec.key)]
        job.cpus = max(1, int(resources.cpus))
        job.launcher = RayLauncher(context, job.launcher.name, resources)

    logger.info("running %d task(s) on Ray, %d at a time", len(jobs), num_jobs)
    scheduler = RayScheduler(
        num_jobs,
        lost_node_retries=settings.lost_node_retries,
        retry_delay=retry_delay,
        grace=grace,
        progress=progress,
        on_finish=on_finish,
    )
    scheduler.run(jobs)


def _is_count(value: Any, *, minimum: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def _fits(asked: RayResources, node: dict[str, float]) -> bool:
    if node.get("CPU", 0.0) < asked.cpus or node.get("GPU", 0.0) < asked.gpus:
        return False
    return asked.memory is None or node.get("memory", 0.0) >= asked.memory
