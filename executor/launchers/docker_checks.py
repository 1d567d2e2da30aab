"""Reaching the Docker engine, and the checks made before any container starts.

Each failure is one clear error: an unreachable engine names the address tried, a missing
image names the image, and a GPU request on an engine without GPU support says so.

GPU support is judged first from ``docker info``: an engine with a runtime named
``nvidia`` can serve GPU requests, and no container is started. Otherwise the engine may
still serve them through the NVIDIA container toolkit's hook, which ``docker info`` does
not list, so one throwaway container that asks for the GPUs and runs ``true`` is created
and started; an engine without GPU support refuses to start it ("could not select device
driver"), so nothing runs. The answer is kept for the launcher's lifetime.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from ..errors import (
    DockerUnavailableError,
    GPUUnavailableError,
    ImageNotFoundError,
    LaunchError,
    ResourceError,
)
from .docker_spec import LABEL_PROBE, LABEL_ROOT, ContainerPlan

logger = logging.getLogger(__name__)

DEFAULT_ADDRESS = "unix:///var/run/docker.sock"
NO_GPU_DRIVER = "could not select device driver"
CLIENT_TIMEOUT = 60
POOL_SIZE = 64
"""HTTP connections kept to the engine: each running task holds three (wait and two logs)."""


def engine_address() -> str:
    """The address the client tries: ``DOCKER_HOST``, else the default socket."""
    return os.environ.get("DOCKER_HOST") or DEFAULT_ADDRESS


def connect() -> Any:
    """A Docker client that has answered a ping, or :class:`DockerUnavailableError`."""
    address = engine_address()
    try:
        import docker
    except ImportError:
        raise DockerUnavailableError(
            "the docker Python package is not installed (pip install docker)", address=address
        ) from None

    try:
        client = docker.from_env(timeout=CLIENT_TIMEOUT, max_pool_size=POOL_SIZE)
        client.ping()
    except Exception as error:  # the SDK raises several types for one cause: no engine
        raise DockerUnavailableError(
            f"the Docker engine cannot be reached: {short_error(error)}; "
            "is dockerd running, and may this user use its socket?",
            address=address,
        ) from None
    return client


def check_image(client: Any, image: str) -> None:
    """Refuse an image the engine does not have (nothing is pulled)."""
    import docker.errors

    try:
        client.api.inspect_image(image)
    except docker.errors.ImageNotFound:
        raise ImageNotFoundError(
            "the Docker image is not on this engine; build it (images/build.sh) or pull it",
            image=image,
            address=engine_address(),
        ) from None
    except docker.errors.APIError as error:
        raise LaunchError(
            f"the engine could not look up the image: {short_error(error)}", image=image
        ) from None


def check_cpus(engine_info: dict[str, Any], cpus: float | None) -> None:
    """Refuse a CPU limit above what the engine's machine has."""
    available = engine_info.get("NCPU")
    if cpus is not None and isinstance(available, int) and cpus > available:
        raise ResourceError(
            f"the task asks for {cpus} CPUs but the Docker engine has {available}",
            cpus=cpus,
        )


def check_network(client: Any, network: str | None) -> None:
    """Refuse a network that the engine does not know."""
    import docker.errors

    if network is None or network in ("bridge", "host", "none", "default"):
        return
    if network.startswith("container:"):
        return
    try:
        client.api.inspect_network(network)
    except docker.errors.NotFound:
        raise LaunchError("the Docker network does not exist", network=network) from None


def has_nvidia_runtime(engine_info: dict[str, Any]) -> bool:
    """True when ``docker info`` lists a runtime named ``nvidia``."""
    runtimes = engine_info.get("Runtimes") or {}
    return any("nvidia" in str(name) for name in runtimes)


def device_requests(plan: ContainerPlan) -> list[Any]:
    """The SDK's device requests for a plan's GPUs (none when it asks for none)."""
    from docker.types import DeviceRequest

    if plan.all_gpus:
        return [DeviceRequest(count=-1, capabilities=[["gpu"]])]
    if plan.gpu_ids:
        return [DeviceRequest(device_ids=list(plan.gpu_ids), capabilities=[["gpu"]])]
    return []


def gpu_error(error: Exception, **evidence: Any) -> GPUUnavailableError | None:
    """The clear error for an engine that refused a GPU request, else None."""
    if NO_GPU_DRIVER not in str(error):
        return None
    return GPUUnavailableError(
        "GPUs were asked for, but the Docker engine has no GPU runtime (install the NVIDIA "
        "container toolkit on the host, or run the task without gpus)",
        address=engine_address(),
        **evidence,
    )


def probe_gpus(client: Any, image: str, root: str) -> None:
    """Start a container that asks for every GPU and runs ``true``; raise if refused."""
    import docker.errors

    host_config = client.api.create_host_config(device_requests=device_requests(_ALL_GPUS))
    created = client.api.create_container(
        image,
        entrypoint=["/bin/sh", "-c", "true"],
        host_config=host_config,
        labels={LABEL_ROOT: root, LABEL_PROBE: "gpu"},
    )
    try:
        client.api.start(created["Id"])
        client.api.wait(created["Id"], timeout=CLIENT_TIMEOUT)
    except docker.errors.APIError as error:
        refused = gpu_error(error, image=image)
        if refused is not None:
            raise refused from None
        raise LaunchError(
            f"the GPU probe container failed: {short_error(error)}", image=image
        ) from None
    finally:
        try:
            client.api.remove_container(created["Id"], force=True)
        except docker.errors.APIError as error:
            logger.warning("could not remove the GPU probe container: %s", short_error(error))


_ALL_GPUS = ContainerPlan(
    image="",
    name="",
    command=[],
    environment={},
    user="",
    working_dir="/",
    mounts=[],
    labels={},
    all_gpus=True,
)


def short_error(error: BaseException) -> str:
    """The first line of an SDK error's explanation."""
    text = getattr(error, "explanation", None) or str(error)
    return str(text).strip().splitlines()[0] if str(text).strip() else type(error).__name__
