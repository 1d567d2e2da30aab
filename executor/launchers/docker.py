"""Run a task in a Docker container, through the Docker SDK.

One attempt is one container: created with the workplace read-write, the data bundle and
the caller's current directory read-only, run as the calling user, labelled with the
experiment root and the task key; its stdout and stderr are copied to the task's log files
as they come. The container is not auto-removed: once it has ended, its logs are drained
and its exit status and OOM flag are read, and only then is it removed, so that nothing is
lost to a removal racing the reads.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..contract import Workplace, hostname
from ..errors import ExecutorError, LaunchError
from . import docker_checks as checks
from .base import ExitStatus, Launcher, LaunchSpec, RunningTask, read_exit_file
from .docker_cleanup import (
    container_name,
    find_containers,
    is_running,
    remove_container,
    remove_root_containers,
)
from .docker_spec import LABEL_ROOT, ContainerPlan, describe_plan, plan_container

__all__ = ["DockerLauncher", "DockerTask", "find_containers", "remove_root_containers"]

logger = logging.getLogger(__name__)

LOG_DRAIN_TIMEOUT = 60.0
"""Seconds to wait, once a container has ended, for the rest of its logs."""


class DockerTask(RunningTask):
    """One container; ``oom_killed`` tells whether the kernel killed it for memory.

    The container is created by the launcher and started here on a thread of its own: the
    engine takes a few tenths of a second to start one, and the scheduler's loop need not
    wait for that before launching the next task. An error in starting it is raised by
    :meth:`wait`, and the container is removed.
    """

    def __init__(
        self, launcher: DockerLauncher, container_id: str, plan: ContainerPlan, spec: LaunchSpec
    ) -> None:
        self.client = launcher.client
        self.container_id = container_id
        self.plan = plan
        self.spec = spec
        self.oom_killed = False
        self._launcher = launcher
        self._status: ExitStatus | None = None
        self._start_error: Exception | None = None
        self._lock = threading.Lock()
        self._readers: list[_LogReader] = []
        self._starter = threading.Thread(
            target=self._start, name=f"docker-start-{container_id[:12]}", daemon=True
        )
        self._starter.start()

    def wait(self) -> ExitStatus:
        """Wait for the container to end, drain its logs, read its status, then remove it.

        Raises the error that kept the container from starting, if any.
        """
        self._starter.join()
        if self._start_error is not None:
            raise self._start_error
        with self._lock:
            if self._status is None:
                self._status = self._collect()
            return self._status

    def kill(self, grace: float = 2.0) -> None:
        """Stop the container (SIGTERM, then SIGKILL after ``grace`` seconds) and remove it."""
        import docker.errors

        self._starter.join()
        try:
            self.client.api.stop(self.container_id, timeout=max(0, math.ceil(grace)))
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as error:
            logger.warning("could not stop container %s: %s", self.plan.name, error)
        try:
            self.wait()
        except ExecutorError:
            return  # it never started, and is already removed

    def identity(self) -> dict[str, Any]:
        """The container's id and name, with the host, for a later run to find it."""
        return {
            "launcher": "docker",
            "container_id": self.container_id,
            "container_name": self.plan.name,
            "host": hostname(),
        }

    def _start(self) -> None:
        import docker.errors

        try:
            self.client.api.start(self.container_id)
        except docker.errors.APIError as error:
            self._start_error = self._launcher.start_error(error, self.plan, self.spec)
            remove_container(self.client, self.container_id)
            return
        except Exception as error:  # the error reaches the caller through wait()
            self._start_error = LaunchError(
                f"the container could not be started: {error}", image=self.plan.image
            )
            remove_container(self.client, self.container_id)
            return

        logger.debug("started container %s for %s", self.plan.name, self.spec.workplace.path)
        self._readers = [
            _LogReader(self.client, self.container_id, self.spec.stdout_path, stdout=True),
            _LogReader(self.client, self.container_id, self.spec.stderr_path, stdout=False),
        ]
        for reader in self._readers:
            reader.start()

    def _collect(self) -> ExitStatus:
        import docker.errors

        try:
            result = self.client.api.wait(self.container_id)
            code = int(result.get("StatusCode", -1))
        except docker.errors.NotFound:
            code = -1
        for reader in self._readers:
            reader.join(LOG_DRAIN_TIMEOUT)
            if reader.is_alive():
                logger.warning("the logs of %s were still coming; left incomplete", self.plan.name)

        try:
            state = self.client.api.inspect_container(self.container_id)["State"]
            self.oom_killed = bool(state.get("OOMKilled"))
            code = int(state.get("ExitCode", code))
        except docker.errors.NotFound:
            logger.warning("container %s vanished before its state was read", self.plan.name)
        remove_container(self.client, self.container_id)

        if code < 0:
            return ExitStatus(exit_code=None, signal=None)
        status = ExitStatus.from_wait_status(code)
        logger.debug(
            "container %s of %s ended: %s%s",
            self.plan.name,
            self.spec.workplace.path,
            status.describe(),
            " (out of memory)" if self.oom_killed else "",
        )
        return status


class _LogReader(threading.Thread):
    """Copies one of a container's streams to a file as it comes."""

    def __init__(self, client: Any, container_id: str, path: Path, *, stdout: bool) -> None:
        super().__init__(name=f"docker-logs-{container_id[:12]}", daemon=True)
        self.client = client
        self.container_id = container_id
        self.path = path
        self.stdout = stdout

    def run(self) -> None:
        try:
            chunks = self.client.api.logs(
                self.container_id,
                stdout=self.stdout,
                stderr=not self.stdout,
                stream=True,
                follow=True,
            )
            with open(self.path, "ab") as stream:
                for chunk in chunks:
                    stream.write(chunk)
                    stream.flush()
        except Exception as error:  # a log reader must never take the run down
            logger.warning("stopped copying the logs of %s: %s", self.container_id[:12], error)


class DockerLauncher(Launcher):
    """Runs each attempt in a container of the task's image.

    ``user`` is the ``(uid, gid)`` the container runs as; it defaults to the caller's, so
    that every file the task writes belongs to the caller.
    """

    name = "docker"
    orphan_wait = 5.0

    def __init__(self, client: Any = None, user: tuple[int, int] | None = None) -> None:
        self._client = client
        self.user = user or (os.getuid(), os.getgid())
        self._gpu_checked: set[str] = set()

    @property
    def client(self) -> Any:
        """The Docker client, connected on first use."""
        if self._client is None:
            self._client = checks.connect()
        return self._client

    def check(self, specs: Sequence[LaunchSpec]) -> None:
        """Refuse, before anything starts: bad input, no engine, a missing image, no GPUs."""
        plans = [plan_container(spec, *self.user) for spec in specs]
        if not plans:
            return

        client = self.client
        for image in sorted({plan.image for plan in plans}):
            checks.check_image(client, image)

        engine_info = client.api.info()
        for plan in plans:
            checks.check_cpus(engine_info, None if plan.nano_cpus is None else plan.nano_cpus / 1e9)
            checks.check_network(client, plan.network_mode)

        wanting = [plan for plan in plans if plan.wants_gpus]
        if wanting and not checks.has_nvidia_runtime(engine_info):
            image = wanting[0].image
            if image not in self._gpu_checked:
                checks.probe_gpus(client, image, wanting[0].labels[LABEL_ROOT])
                self._gpu_checked.add(image)

    def start(self, spec: LaunchSpec) -> RunningTask:
        """Create the attempt's container and start it; its logs stream to the log files.

        The engine's start runs on the task's own thread; its errors are raised by ``wait``.
        """
        import docker.errors
        from docker.types import Mount

        plan = plan_container(spec, *self.user)
        spec.stdout_path.parent.mkdir(parents=True, exist_ok=True)
        for path in (spec.stdout_path, spec.stderr_path):
            path.write_bytes(b"")

        client = self.client
        host_config = client.api.create_host_config(
            mounts=[
                Mount(m.target, m.source, type="bind", read_only=m.read_only) for m in plan.mounts
            ],
            nano_cpus=plan.nano_cpus,
            mem_limit=plan.mem_limit,
            memswap_limit=plan.mem_limit,
            network_mode=plan.network_mode,
            device_requests=checks.device_requests(plan),
            init=True,
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
        )
        logger.debug("creating a container for %s: %s", spec.workplace.path, describe_plan(plan))

        try:
            created = client.api.create_container(
                plan.image,
                command=plan.command,
                entrypoint=plan.entrypoint,
                environment=plan.environment,
                user=plan.user,
                working_dir=plan.working_dir,
                labels=plan.labels,
                name=plan.name,
                host_config=host_config,
            )
        except docker.errors.ImageNotFound:
            checks.check_image(client, plan.image)
            raise
        except docker.errors.APIError as error:
            raise self.start_error(error, plan, spec) from None

        return DockerTask(self, created["Id"], plan, spec)

    def reap(self, workplace: Workplace, identity: dict[str, Any]) -> ExitStatus | None:
        """Stop and remove the containers a dead run left for ``workplace``.

        Running ones get ``orphan_wait`` seconds to end on their own first. The exit status
        of one that ended on its own is returned (or, when none is left, the exit file's).
        """
        client = self.client
        deadline = time.monotonic() + self.orphan_wait
        found = find_containers(client, workplace=str(workplace.path), identity=identity)
        while any(is_running(c) for c in found) and time.monotonic() < deadline:
            time.sleep(0.1)
            found = find_containers(client, workplace=str(workplace.path), identity=identity)

        status: ExitStatus | None = None
        unfinished = False
        for container in found:
            state = container.get("State", {})
            if state.get("Status") == "exited":
                status = ExitStatus.from_wait_status(int(state.get("ExitCode", -1)))
            else:  # running, or created and never started
                logger.warning(
                    "removing container %s (%s) left by a dead run",
                    container_name(container),
                    state.get("Status"),
                )
                unfinished = True
            remove_container(client, container["Id"])
        if unfinished:
            return None
        if status is not None:
            return status
        return read_exit_file(workplace)

    def close(self) -> None:
        """Close the connection to the engine."""
        if self._client is not None:
            self._client.close()
            self._client = None

    def start_error(self, error: Exception, plan: ContainerPlan, spec: LaunchSpec) -> Exception:
        """The clear error for an engine's refusal to create or start a container."""
        refused = checks.gpu_error(error, image=plan.image, workplace=str(spec.workplace.path))
        if refused is not None:
            return refused
        return LaunchError(
            f"the container could not be started: {checks.short_error(error)}",
            image=plan.image,
            workplace=str(spec.workplace.path),
            command=plan.command,
        )
