"""What runs on a Ray node: one attempt of a task, through the ordinary launchers.

The driver sends a :class:`NodeRequest`. Unless the root is on shared storage, the node
recreates the task's workplace in a scratch copy of the root, with the data bundle from
the node's cache, runs the attempt with a process or container launcher as the local
scheduler would, and sends back every file the attempt left.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..contract import DEVICES_ENV, WORKPLACE_ENV, Workplace, hostname
from ..launchers.base import ExitStatus, Launcher, LaunchSpec, RunningTask
from .transfer import (
    cached_bundle,
    link_bundle,
    pack_results,
    scratch_folder,
    unpack_workplace,
)
from .watchdog import unwatch, watch

logger = logging.getLogger(__name__)

NODE_CACHE_ENV = "EXECUTOR_NODE_CACHE"
"""Set on a node (before ``ray start``) to choose where it keeps bundles and scratch copies."""
POLL_SECONDS = 0.2


@dataclass
class NodeRequest:
    """One attempt, as the driver hands it to a node."""

    spec: LaunchSpec
    launcher: str
    workplace_archive: bytes | None
    data_folder: str | None
    driver_python: str
    working_dir_shipped: bool
    grace: float


def node_cache() -> Path:
    """The folder where this machine keeps bundles and scratch copies.

    Bundles are named by their content and written by an atomic rename, so the nodes and
    runs of one machine can share it; it is a cache, safe to delete between runs.
    """
    base = os.environ.get(NODE_CACHE_ENV) or os.path.join(
        tempfile.gettempdir(), f"executor-ray-{os.getuid()}"
    )
    return Path(base)


def make_launcher(name: str) -> Launcher:
    """The node's own launcher of the given name."""
    if name == "process":
        from ..launchers.process import ProcessLauncher

        return ProcessLauncher()
    from ..launchers.docker import DockerLauncher

    return DockerLauncher()


def run_attempt(request: NodeRequest, bundle: list[Any]) -> Iterator[dict[str, Any]]:
    """Run one attempt here; yield where it started, then how it ended with its files.

    ``bundle`` holds the object reference of the task's data bundle (inside a list, so
    that Ray does not fetch it when this node has it cached already).
    """
    import ray

    node_id = ray.get_runtime_context().get_node_id()
    devices = [int(device) for device in ray.get_gpu_ids()]
    cache = node_cache()
    launcher = make_launcher(request.launcher)
    scratch: Path | None = None
    try:
        if request.workplace_archive is None:
            workplace = request.spec.workplace
        else:
            scratch = scratch_folder(cache)
            workplace = _materialise(request, bundle, cache, scratch)
        spec, notes = _node_spec(request, workplace, devices)

        handle = launcher.start(spec)
        identity = handle.identity()
        watch(request.launcher, identity, str(workplace.path), str(scratch) if scratch else None)
        try:
            yield {
                "host": hostname(),
                "ip": ray.util.get_node_ip_address(),
                "node_id": node_id,
                "devices": devices,
                "identity": identity,
                "workplace": str(workplace.path),
                "notes": notes,
            }
            status = _wait_interruptibly(handle, request.grace)
        finally:
            unwatch()

        ended = {
            "exit_code": status.exit_code,
            "signal": status.signal,
            "oom_killed": bool(getattr(handle, "oom_killed", False)),
            "files": None if scratch is None else pack_results(workplace),
        }
    finally:
        launcher.close()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    yield ended  # after the cleanup, so that nothing of the attempt outlives its report


def stop_attempt(
    launcher_name: str, identity: dict[str, Any], workplace: str, grace: float
) -> None:
    """Stop a running attempt on this node: SIGTERM, then SIGKILL after ``grace`` seconds.

    The attempt's own waiter on this node then sees it end and reports it as usual.
    """
    if launcher_name == "process":
        from ..launchers.process import stop_group

        pgid = identity.get("pgid")
        if isinstance(pgid, int) and identity.get("host") == hostname():
            stop_group(pgid, grace)
        return

    from ..launchers.docker import DockerLauncher

    launcher = DockerLauncher()
    try:
        container = identity.get("container_id")
        if container:
            launcher.client.api.stop(container, timeout=max(0, math.ceil(grace)))
        else:
            launcher.reap(Workplace(workplace), identity)
    except Exception as error:  # the engine's errors are many; the container may be gone
        logger.warning("could not stop the container of %s: %s", workplace, error)
    finally:
        launcher.close()


def _materialise(request: NodeRequest, bundle: list[Any], cache: Path, scratch: Path) -> Workplace:
    """Recreate the task's corner of the root under ``scratch``: workplace and data bundle."""
    model, name = request.spec.workplace.key
    workplace = Workplace(scratch / model / name)
    assert request.workplace_archive is not None
    unpack_workplace(request.workplace_archive, workplace)

    if request.data_folder is not None:
        bundle_name = Path(request.data_folder).name
        source = cache / "bundles" / bundle_name
        if not source.is_dir():
            import ray

            logger.info("fetching data bundle %s to this node", bundle_name)
            source = cached_bundle(cache, bundle_name, ray.get(bundle[0]))
        link_bundle(source, scratch / request.data_folder)
    return workplace


def _node_spec(
    request: NodeRequest, workplace: Workplace, devices: list[int]
) -> tuple[LaunchSpec, list[str]]:
    """The driver's launch spec, pointed at this node's workplace, GPUs and interpreter.

    Also returns notes for the driver to log (such as a folder missing on this node).
    """
    spec = request.spec
    visible = ",".join(str(device) for device in devices)
    env = {
        **spec.env,
        WORKPLACE_ENV: str(workplace.path),
        DEVICES_ENV: visible,
        "CUDA_VISIBLE_DEVICES": visible,
    }

    command = list(spec.command)
    if command and command[0] == request.driver_python:
        command[0] = sys.executable

    notes = []
    cwd = Path(os.getcwd()) if request.working_dir_shipped else spec.cwd
    if not cwd.is_dir():
        notes.append(
            f"the task's folder {cwd} does not exist on this node, so it runs in its workplace "
            "copy; ship the folder with runtime_env={'working_dir': ...} or install it there"
        )
        cwd = workplace.path
    node_spec = replace(
        spec, workplace=workplace, env=env, command=command, cwd=cwd, devices=devices
    )
    return node_spec, notes


def _wait_interruptibly(handle: RunningTask, grace: float) -> ExitStatus:
    """Wait in a helper thread, so that Ray's cancellation interrupts this one.

    If the attempt is cancelled here, its process group or container is stopped first.
    """
    result: list[ExitStatus | BaseException] = []
    done = threading.Event()

    def waiter() -> None:
        try:
            result.append(handle.wait())
        except BaseException as error:  # handed to the main thread below
            result.append(error)
        done.set()

    threading.Thread(target=waiter, daemon=True).start()
    try:
        while not done.wait(POLL_SECONDS):
            pass
    except BaseException:
        handle.kill(grace)
        done.wait(grace + 5.0)
        raise

    outcome = result[0]
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome
