"""Moving workplaces and data bundles between the experiment root and a node's disk.

A workplace travels to a node as a tar archive of its inputs and earlier artifacts, and
comes back as one of everything the attempt left. A data bundle travels once per run
through Ray's object store and is kept on each node in a folder named by its content hash,
so that the tasks of a node share one copy.
"""

from __future__ import annotations

import io
import logging
import os
import shutil
import tarfile
import tempfile
import uuid
from pathlib import Path

from ..contract import LOGS_DIR, META_FILE, OUTCOME_FILE, PID_FILE, Workplace
from ..errors import ContractError

logger = logging.getLogger(__name__)

OUTBOUND_SKIPPED = frozenset({LOGS_DIR, OUTCOME_FILE, PID_FILE})
"""Top-level names not sent to a node: earlier logs and the executor's own records."""
INBOUND_SKIPPED = frozenset({META_FILE, OUTCOME_FILE, PID_FILE})
"""Top-level names not taken back from a node: the executor writes these in the root."""


def _pack(folder: Path, skipped: frozenset[str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for path in sorted(folder.iterdir()):
            if path.name in skipped:
                continue
            archive.add(path, arcname=path.name, recursive=True)
    return buffer.getvalue()


def _unpack(data: bytes, folder: Path) -> list[str]:
    """Extract an archive into ``folder``; return the names of the files it held."""
    folder.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r") as archive:
        names = [member.name for member in archive.getmembers() if not member.isdir()]
        try:
            archive.extractall(folder, filter="data")
        except (tarfile.TarError, OSError) as error:
            raise ContractError(
                f"a workplace archive could not be unpacked: {error}", path=str(folder)
            ) from None
    return names


def pack_workplace(workplace: Workplace) -> bytes:
    """The workplace as a node needs it: meta and earlier artifacts, without logs."""
    return _pack(workplace.path, OUTBOUND_SKIPPED)


def unpack_workplace(data: bytes, workplace: Workplace) -> None:
    """Recreate a packed workplace at ``workplace`` (on the node)."""
    _unpack(data, workplace.path)


def pack_results(workplace: Workplace) -> bytes:
    """Everything an attempt left in its workplace copy: artifacts, metrics, logs, exit file."""
    return _pack(workplace.path, INBOUND_SKIPPED)


def apply_results(data: bytes, workplace: Workplace) -> None:
    """Bring an attempt's files into the root's workplace, mirroring what the task removed.

    A task artifact that the attempt deleted on the node is deleted here too; the
    executor's own files and the logs of earlier attempts are kept.
    """
    before = set(workplace.artifacts())
    names = set(_unpack(data, workplace.path))

    for relative in sorted(before - names):
        logger.debug("%s: %s was removed by the attempt", workplace.path, relative)
        (workplace.path / relative).unlink(missing_ok=True)


def read_bundle(folder: Path) -> dict[str, bytes]:
    """Every file of a data bundle folder, by name."""
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir()) if path.is_file()}


def cached_bundle(cache: Path, name: str, files: dict[str, bytes]) -> Path:
    """Write a bundle into the node's cache once; concurrent writers race to one rename."""
    target = cache / "bundles" / name
    if target.is_dir():
        return target

    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=target.parent))
    try:
        for file_name, content in files.items():
            (staging / file_name).write_bytes(content)
        os.rename(staging, target)
    except OSError:
        if not target.is_dir():
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def link_bundle(source: Path, destination: Path) -> None:
    """Make ``destination`` hold the bundle's files: hard links to the cache, else copies."""
    destination.mkdir(parents=True, exist_ok=True)
    for path in source.iterdir():
        try:
            os.link(path, destination / path.name)
        except OSError:
            shutil.copy2(path, destination / path.name)


def scratch_folder(cache: Path) -> Path:
    """A fresh folder on the node for one attempt's copy of the root."""
    folder = cache / "work" / uuid.uuid4().hex
    folder.mkdir(parents=True)
    return folder
