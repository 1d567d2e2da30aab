"""``executor clean``: stop what a dead run left running, and remove workplaces on request.

Leftovers are found through each workplace's pid file and, for Docker, the label every
container of the root carries. Removing workplaces deletes only what the executor made
(task folders with a meta file, the data bundles, the search state and the lock files),
and only after ``--yes`` or a ``y`` at the prompt.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
from typing import Any

from ..contract import DATA_DIR, LOCK_FILE, LOCK_INFO_FILE, SEARCH_DIR, RootLayout, Workplace
from ..errors import ContractError, ExecutorError, RootLockedError
from ..launchers.base import Launcher
from ..locking import RootLock
from ..outcome import TaskState, load_outcome
from ..resume import recover
from .common import FAILED_EXIT, active_run, note, open_root, say

logger = logging.getLogger(__name__)

EXAMPLES = """\
examples:
  executor clean __experiment__                        stop leftover processes and containers
  executor clean __experiment__ --workplaces           ... and remove the root's workplaces
  executor clean __experiment__ --workplaces --yes     ... without asking
"""


def add_parser(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Register ``clean``."""
    parser = commands.add_parser(
        "clean",
        parents=parents,
        help="stop leftover processes and containers of a root; remove its workplaces",
        description=(
            "Stop the processes and containers that a dead run of this root left behind, "
            "and close their outcomes. With --workplaces, also remove every workplace, "
            "data bundle and search state of the root, after confirmation."
        ),
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("root", help="the experiment root, such as __experiment__")
    parser.add_argument(
        "--workplaces", action="store_true", help="also remove the root's workplaces and data"
    )
    parser.add_argument("-y", "--yes", action="store_true", help="remove without asking")
    parser.set_defaults(handler=execute)


def _launcher_for(name: str, launchers: dict[str, Launcher]) -> Launcher | None:
    if name not in launchers:
        try:
            if name == "docker":
                from ..launchers.docker import DockerLauncher

                launchers[name] = DockerLauncher()
            else:
                from ..launchers.process import ProcessLauncher

                launchers[name] = ProcessLauncher()
        except (ImportError, ExecutorError) as error:
            note(f"cannot reach the {name} launcher ({error}); its tasks are left as they are")
            return None
    return launchers[name]


def stop_leftovers(layout: RootLayout) -> int:
    """Close every task recorded as running; stop what it left. Return how many."""
    launchers: dict[str, Launcher] = {}
    closed = 0
    try:
        for workplace in layout.iter_workplaces():
            try:
                outcome = load_outcome(workplace)
            except ContractError as error:
                note(f"skipping {workplace.path}: {error}")
                continue
            if outcome is None or outcome.state is not TaskState.RUNNING:
                continue

            launcher = _launcher_for(_launcher_name(workplace), launchers)
            if launcher is None:
                continue
            try:
                recovered = recover(workplace, outcome, launcher)
            except ExecutorError as error:
                note(f"could not stop {'/'.join(workplace.key)}: {error}")
                continue
            closed += 1
            say(f"{'/'.join(workplace.key)}: closed ({recovered.state.value})")
    finally:
        for launcher in launchers.values():
            launcher.close()
    return closed


def _launcher_name(workplace: Workplace) -> str:
    try:
        meta = workplace.read_meta()
    except ContractError:
        return "process"
    return str(meta.get("launcher") or ("docker" if meta.get("image") else "process"))


def _uses_docker(layout: RootLayout) -> bool:
    for workplace in layout.iter_workplaces():
        if _launcher_name(workplace) == "docker":
            return True
    return False


def remove_containers(layout: RootLayout) -> None:
    """Remove the containers labelled with this root, when its tasks ran in Docker."""
    if not _uses_docker(layout):
        return
    try:
        from ..launchers.docker import remove_root_containers

        removed = remove_root_containers(layout.root)
    except ImportError as error:
        note(f"docker is not installed, so no container was looked for ({error})")
        return
    except ExecutorError as error:
        note(f"docker is not reachable, so no container was looked for ({error})")
        return
    for name in removed or []:
        say(f"removed container {name}")


def _confirm(layout: RootLayout, count: int, assume_yes: bool) -> bool:
    if assume_yes:
        return True
    prompt = f"remove {count} workplace(s) and the data under {layout.root}? [y/N] "
    sys.stderr.write(prompt)
    sys.stderr.flush()
    answer = sys.stdin.readline()
    return answer.strip().lower() in ("y", "yes")


def remove_workplaces(layout: RootLayout) -> tuple[int, list[str]]:
    """Remove what the executor made under the root; return the count and what was kept."""
    workplaces = layout.iter_workplaces()
    for workplace in workplaces:
        shutil.rmtree(workplace.path)
    for name in (DATA_DIR, SEARCH_DIR):
        shutil.rmtree(layout.root / name, ignore_errors=True)
    for name in (LOCK_FILE, LOCK_INFO_FILE):
        (layout.root / name).unlink(missing_ok=True)

    for model_dir in sorted(layout.root.iterdir()):
        if model_dir.is_dir() and not any(model_dir.iterdir()):
            model_dir.rmdir()
    kept = sorted(path.name for path in layout.root.iterdir())
    if not kept:
        layout.root.rmdir()
    return len(workplaces), kept


def execute(args: argparse.Namespace) -> int:
    """Stop leftovers; then remove workplaces when asked and confirmed."""
    layout = open_root(args.root)
    holder = active_run(layout)
    if holder is not None:
        raise RootLockedError(
            "a run is active on this root; stop it (Ctrl-C) or wait for it, then clean",
            root=str(layout.root),
            holder=holder,
        )

    with RootLock(layout, "fail"):
        closed = stop_leftovers(layout)
        remove_containers(layout)
        note(f"closed {closed} task(s) left running" if closed else "nothing was left running")
        if not args.workplaces:
            return 0

        count = len(layout.iter_workplaces())
        if not _confirm(layout, count, args.yes):
            note("nothing removed")
            return FAILED_EXIT
    removed, kept = remove_workplaces(layout)
    note(f"removed {removed} workplace(s) under {layout.root}")
    if kept:
        note(f"kept what the executor did not make: {', '.join(kept)}")
    return 0
