"""Finding the executor's containers by their labels, and removing them.

Every container the Docker launcher makes is labelled with the experiment root and the
workplace, so that a later run, ``executor clean`` or a test can find what a run left.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from .docker_checks import connect, short_error
from .docker_spec import LABEL_ROOT, LABEL_WORKPLACE

logger = logging.getLogger(__name__)


def find_containers(
    client: Any,
    *,
    root: str | None = None,
    workplace: str | None = None,
    identity: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Inspected containers (running or ended) labelled with this root or workplace."""
    import docker.errors

    labels = []
    if root is not None:
        labels.append(f"{LABEL_ROOT}={root}")
    if workplace is not None:
        labels.append(f"{LABEL_WORKPLACE}={workplace}")
    listed = client.api.containers(all=True, filters={"label": labels}) if labels else []
    ids = [entry["Id"] for entry in listed]
    recorded = (identity or {}).get("container_id")
    if recorded and recorded not in ids:
        ids.append(str(recorded))

    found: list[dict[str, Any]] = []
    for container_id in ids:
        try:
            found.append(client.api.inspect_container(container_id))
        except docker.errors.NotFound:
            continue
    return found


def remove_root_containers(root: str | os.PathLike[str]) -> list[str]:
    """Stop and remove every container labelled with this experiment root; return their names.

    Used on Ctrl-C, by ``clean`` and by tests. Raises :class:`DockerUnavailableError` when
    the engine cannot be reached.
    """
    client = connect()
    try:
        found = find_containers(client, root=str(Path(root).absolute()))
        names = [
            container_name(container)
            for container in found
            if remove_container(client, container["Id"])
        ]
        if names:
            logger.info("removed %d container(s) of %s", len(names), root)
        return names
    finally:
        client.close()


def remove_container(client: Any, container_id: str) -> bool:
    """Remove a container, killing it if it runs; False (with a warning) if the engine refused."""
    import docker.errors

    try:
        client.api.remove_container(container_id, force=True)
    except docker.errors.NotFound:
        return True
    except docker.errors.APIError as error:
        if "already in progress" in str(error):
            return True
        logger.warning("could not remove container %s: %s", container_id[:12], short_error(error))
        return False
    return True


def is_running(container: dict[str, Any]) -> bool:
    """True when an inspected container is running."""
    return bool(container.get("State", {}).get("Running"))


def container_name(container: dict[str, Any]) -> str:
    """The name of an inspected container, without its leading slash."""
    return str(container.get("Name", container.get("Id", "?"))).lstrip("/")
