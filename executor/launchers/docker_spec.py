"""How one launch spec becomes one container: mounts, environment, user, limits, labels.

Inside the container the task sees the same contract as a local process, laid out under
``/executor``::

    /executor/root/<model>/<name>       the workplace, read-write
    /executor/root/__data__/<hash>      the task's data bundle, read-only
    /executor/cwd                       the caller's current directory, read-only (working dir)

The meta file names its data folder relative to the root, so the same relative layout
makes it resolve inside the container. This module only plans; it needs no Docker engine.
"""

from __future__ import annotations

import posixpath
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..contract import DEVICES_ENV, WORKPLACE_ENV, Workplace
from ..errors import ContractError, InvalidInputError, LaunchError
from .base import LaunchSpec

CONTAINER_ROOT = "/executor/root"
CONTAINER_CWD = "/executor/cwd"
CONTAINER_HOME = "/tmp"

LABEL_ROOT = "executor.root"
LABEL_KEY = "executor.key"
LABEL_WORKPLACE = "executor.workplace"
LABEL_ATTEMPT = "executor.attempt"
LABEL_PROBE = "executor.probe"

CONTAINER_WRAPPER = (
    '"$@" & child=$!; '
    "trap 'kill -TERM \"$child\" 2>/dev/null' TERM; "
    "trap 'kill -INT \"$child\" 2>/dev/null' INT; "
    'wait "$child"; status=$?; '
    'while kill -0 "$child" 2>/dev/null; do wait "$child"; status=$?; done; '
    'printf \'{"exit_code": %d}\' "$status" > "$EXECUTOR_WORKPLACE/.__exit__.json.tmp" '
    '&& mv -f "$EXECUTOR_WORKPLACE/.__exit__.json.tmp" "$EXECUTOR_WORKPLACE/__exit__.json"; '
    'exit "$status"'
)
"""The exit-status wrapper of ``base.wrap_command``, made to pass a stop on to the task.

In a container the wrapper's shell is the only child of the init process, which hands it
the engine's SIGTERM; a shell waiting in the foreground would die of it and end the
container under the task. This one runs the task in the background, forwards SIGTERM and
SIGINT to it, and waits until it has really ended, so that the task gets its grace period.
"""

ENTRYPOINT = ["/bin/sh", "-c", CONTAINER_WRAPPER, "executor-task"]
"""The wrapper; the task's argv follows as the container's command."""

BUILTIN_NETWORKS = frozenset({"bridge", "host", "none", "default"})
_MEMORY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([bkmg]?)b?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
MIN_MEMORY = 6 * 1024**2
"""The smallest memory limit the engine accepts."""


@dataclass
class BindMount:
    """A host folder seen at ``target`` inside the container."""

    source: str
    target: str
    read_only: bool


@dataclass
class ContainerPlan:
    """Everything needed to create the container of one attempt."""

    image: str
    name: str
    command: list[str]
    environment: dict[str, str]
    user: str
    working_dir: str
    mounts: list[BindMount]
    labels: dict[str, str]
    nano_cpus: int | None = None
    mem_limit: int | None = None
    network_mode: str | None = None
    gpu_ids: list[str] | None = None
    all_gpus: bool = False
    entrypoint: list[str] = field(default_factory=lambda: list(ENTRYPOINT))

    @property
    def wants_gpus(self) -> bool:
        """True when the container asks the engine for GPUs."""
        return self.all_gpus or bool(self.gpu_ids)


def parse_memory(memory: str | int | None) -> int | None:
    """Bytes from a limit such as ``"512m"``, ``"4g"`` or ``1073741824``."""
    if memory is None:
        return None
    if isinstance(memory, bool) or not isinstance(memory, int | str):
        raise InvalidInputError("memory must be a size such as '512m' or '4g'", input=memory)

    if isinstance(memory, int):
        size = memory
    else:
        match = _MEMORY.match(memory)
        if match is None:
            raise InvalidInputError(
                "memory must be a number with an optional unit b, k, m or g, such as '4g'",
                input=memory,
            )
        size = int(float(match.group(1)) * _UNITS[match.group(2).lower()])

    if size < MIN_MEMORY:
        raise InvalidInputError("memory must be at least 6m for a container", input=memory)
    return size


def parse_mount(text: str, cwd: Path) -> BindMount:
    """A ``host:container[:ro|rw]`` mount; a relative host path is relative to ``cwd``."""
    parts = text.split(":") if isinstance(text, str) else []
    mode = "rw"
    if len(parts) == 3:
        mode = parts.pop()
    if len(parts) != 2 or not all(parts) or mode not in ("ro", "rw"):
        raise InvalidInputError(
            "a mount must read 'host_path:container_path', optionally with ':ro' or ':rw'",
            input=text,
        )

    source, target = Path(parts[0]), parts[1]
    if not source.is_absolute():
        source = cwd / source
    if not source.exists():
        raise InvalidInputError("a mount names a host path that does not exist", input=text)
    if not target.startswith("/") or target.rstrip("/") in ("", "/executor", CONTAINER_ROOT):
        raise InvalidInputError(
            "a mount needs an absolute container path outside /executor/root", input=text
        )
    return BindMount(str(source.resolve()), posixpath.normpath(target), mode == "ro")


def check_network(network: str | None) -> None:
    """Refuse a network name that cannot be one."""
    if network is None:
        return
    if not isinstance(network, str) or not network.strip() or any(c.isspace() for c in network):
        raise InvalidInputError(
            "network must be a Docker network mode such as 'none', 'bridge' or 'host'",
            input=network,
        )


def container_workplace(workplace: Workplace) -> str:
    """Where the workplace appears inside the container."""
    model, name = workplace.key
    return posixpath.join(CONTAINER_ROOT, model, name)


def data_mount(workplace: Workplace) -> BindMount | None:
    """The task's data bundle, read-only, at its place relative to the container's root."""
    try:
        meta = workplace.read_meta()
    except ContractError as error:
        raise LaunchError(
            "the task's meta file cannot be read, so its data cannot be mounted",
            workplace=str(workplace.path),
            cause=str(error),
        ) from None

    relative = meta.get("data_folder")
    if not relative:
        return None

    source = (workplace.root / relative).resolve()
    target = posixpath.normpath(posixpath.join(CONTAINER_ROOT, str(relative)))
    if not source.is_dir():
        raise LaunchError("the task's data folder is missing", data_folder=str(source))
    if not target.startswith(CONTAINER_ROOT + "/"):
        raise LaunchError(
            "the task's data folder is not inside the experiment root", data_folder=str(source)
        )
    return BindMount(str(source), target, read_only=True)


def container_devices(devices: list[int] | str) -> tuple[list[str] | None, bool, str | None]:
    """The device request (ids or all) and the ids the task sees inside the container.

    The engine exposes the requested GPUs renumbered from 0, so the task is told ``0..n-1``.
    """
    if devices == "all":
        return None, True, None
    if not devices:
        return None, False, ""
    ids = [str(device) for device in devices]
    return ids, False, ",".join(str(index) for index in range(len(ids)))


def container_environment(spec: LaunchSpec, visible: str | None) -> dict[str, str]:
    """The spec's environment, with paths and GPU ids as the container sees them."""
    environment = dict(spec.env)
    environment[WORKPLACE_ENV] = container_workplace(spec.workplace)
    environment.setdefault("HOME", CONTAINER_HOME)
    environment.setdefault("USER", "executor")
    environment.setdefault("PYTHONUNBUFFERED", "1")

    if visible is None:
        environment.pop("CUDA_VISIBLE_DEVICES", None)
        environment.pop(DEVICES_ENV, None)
    else:
        environment["CUDA_VISIBLE_DEVICES"] = visible
        environment[DEVICES_ENV] = visible
    if spec.devices:
        host_ids = "all" if spec.devices == "all" else ",".join(map(str, spec.devices))
        environment["EXECUTOR_HOST_DEVICES"] = host_ids
    return environment


def container_labels(spec: LaunchSpec) -> dict[str, str]:
    """The labels by which the executor finds its own containers again."""
    workplace = spec.workplace
    return {
        **spec.labels,
        LABEL_ROOT: str(workplace.root),
        LABEL_KEY: "/".join(workplace.key),
        LABEL_WORKPLACE: str(workplace.path),
        LABEL_ATTEMPT: str(spec.attempt),
    }


def container_name(spec: LaunchSpec) -> str:
    """A readable, unique name: ``executor-<model>-<name>-a<attempt>-<random>``."""
    model, name = spec.workplace.key
    slug = re.sub(r"[^a-zA-Z0-9_.-]+", "_", f"{model}-{name}").strip("_.-")[:60] or "task"
    return f"executor-{slug}-a{spec.attempt}-{secrets.token_hex(3)}"


def plan_container(spec: LaunchSpec, uid: int, gid: int) -> ContainerPlan:
    """The container for one attempt; bad input is refused before the engine is touched."""
    if not spec.image:
        raise InvalidInputError("a docker task needs an image", workplace=str(spec.workplace))
    if spec.cpus is not None and (isinstance(spec.cpus, bool) or spec.cpus <= 0):
        raise InvalidInputError("cpus must be a number more than zero", input=spec.cpus)
    check_network(spec.network)
    cwd = Path(spec.cwd)
    if not cwd.is_dir():
        raise LaunchError("the task's current directory does not exist", cwd=str(cwd))

    mounts = [
        BindMount(str(spec.workplace.path), container_workplace(spec.workplace), False),
        BindMount(str(cwd.resolve()), CONTAINER_CWD, True),
    ]
    bundle = data_mount(spec.workplace)
    if bundle is not None:
        mounts.append(bundle)
    mounts += [parse_mount(text, cwd) for text in spec.mounts]

    gpu_ids, all_gpus, visible = container_devices(spec.devices)
    return ContainerPlan(
        image=spec.image,
        name=container_name(spec),
        command=list(spec.command),
        environment=container_environment(spec, visible),
        user=f"{uid}:{gid}",
        working_dir=CONTAINER_CWD,
        mounts=mounts,
        labels=container_labels(spec),
        nano_cpus=None if spec.cpus is None else int(spec.cpus * 1e9),
        mem_limit=parse_memory(spec.memory),
        network_mode=spec.network,
        gpu_ids=gpu_ids,
        all_gpus=all_gpus,
    )


def describe_plan(plan: ContainerPlan) -> dict[str, Any]:
    """A JSON-friendly summary of a plan, for debug logs."""
    return {
        "image": plan.image,
        "name": plan.name,
        "user": plan.user,
        "mounts": [
            f"{m.source} -> {m.target}{' (ro)' if m.read_only else ''}" for m in plan.mounts
        ],
        "gpus": "all" if plan.all_gpus else plan.gpu_ids,
        "nano_cpus": plan.nano_cpus,
        "mem_limit": plan.mem_limit,
        "network": plan.network_mode,
    }
