"""``Experiment``: describe tasks, write their workplaces, run them, collect the results."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .contract import RootLayout, write_json_atomic
from .data import check_bundle, dump_bundle
from .errors import ContractError, InvalidInputError, UnknownNameError
from .keys import KeyRegistry
from .launchers.base import Launcher, LaunchSpec
from .locking import RootLock
from .outcome import Outcome
from .resources import check_cuda_list, cpus_per_task, gpus_needed
from .results import Results
from .resume import previous_outcome
from .scheduler import Job, Scheduler
from .spec import (
    LAUNCHERS,
    Resources,
    TaskSpec,
    check_config,
    check_count,
    check_key_part,
    check_positive,
    check_script,
    parse_command,
)

logger = logging.getLogger(__name__)

__all__ = ["Experiment", "Results"]


def _check_root(root: Path) -> None:
    if root.exists() and not root.is_dir():
        raise InvalidInputError("the experiment root exists and is not a folder", root=str(root))
    probe = root if root.exists() else root.parent
    while not probe.exists():
        probe = probe.parent
    if not os.access(probe, os.W_OK | os.X_OK):
        raise InvalidInputError("the experiment root is not writable", root=str(root))


class Experiment:
    """A set of tasks under one root: ``<root>/<model>/<idx>/`` each, data in ``__data__``."""

    def __init__(self, root: str | os.PathLike[str] = "__experiment__") -> None:
        self.layout = RootLayout(root)
        _check_root(self.layout.root)
        self.tasks: list[TaskSpec] = []
        self._keys = KeyRegistry(self.layout)

    @property
    def root(self) -> Path:
        """The experiment root, absolute."""
        return self.layout.root

    def dump_data_bundle(self, x: Any, y: Any, x_cv: Any = None, y_cv: Any = None) -> str:
        """Write ``x, y[, x_cv, y_cv]`` once under ``<root>/__data__`` and return the folder."""
        return str(dump_bundle(self.layout, x, y, x_cv, y_cv))

    def add_task(
        self,
        x: Any = None,
        y: Any = None,
        x_cv: Any = None,
        y_cv: Any = None,
        *,
        model: str = "fcnn",
        config: dict[str, Any] | None = None,
        data_folder: str | os.PathLike[str] | None = None,
        run_command: str | Sequence[str] | None = None,
        workplace_key: tuple[str, str] | None = None,
        launcher: str | None = None,
        image: str | None = None,
        gpus: int | str = 0,
        cpus: float | None = None,
        memory: str | None = None,
        timeout: float | None = None,
        retries: int | None = None,
        env: dict[str, str] | None = None,
        network: str | None = None,
        mounts: Sequence[str] | None = None,
    ) -> tuple[str, str]:
        """Describe one task and write its ``__meta__.json``; return its workplace key.

        Give either arrays (dumped as a bundle) or a ``data_folder`` from
        ``dump_data_bundle``, or neither for a task that needs no data. Without
        ``run_command`` the task trains the built-in ``model`` on its data.
        """
        check_key_part(model, "model")
        if launcher is not None and launcher not in LAUNCHERS:
            raise UnknownNameError(f"unknown launcher; known: {list(LAUNCHERS)}", input=launcher)
        check_positive("timeout", timeout)
        check_positive("cpus", cpus)
        if retries is not None:
            check_count("retries", retries, minimum=0)
        clean_config = check_config(config)
        if run_command is None:
            _check_builtin_model(model)

        if x is not None or y is not None:
            if data_folder is not None:
                raise InvalidInputError(
                    "give either arrays or data_folder, not both", input="data_folder"
                )
            data_folder = self.dump_data_bundle(x, y, x_cv, y_cv)
        elif x_cv is not None or y_cv is not None:
            raise InvalidInputError("x_cv and y_cv need x and y", input="x_cv")
        relative_data = None if data_folder is None else check_bundle(self.layout, data_folder)

        cwd = os.getcwd()
        command = parse_command(run_command)
        if run_command is not None and image is None and launcher != "docker":
            check_script(command, cwd)

        spec = TaskSpec(
            key=("", ""),
            model=model,
            config=clean_config,
            data_folder=relative_data,
            command=command,
            cwd=cwd,
            launcher=launcher,
            image=image,
            resources=Resources(cpus=cpus, gpus=gpus, memory=memory),
            timeout=timeout,
            retries=retries,
            env={str(name): str(value) for name, value in (env or {}).items()},
            network=network,
            mounts=list(mounts or []),
        )
        spec.added_fingerprint = spec.fingerprint()
        spec.key = self._keys.claim(spec.model, spec.added_fingerprint, workplace_key)
        self._write_meta(spec)
        self.tasks.append(spec)
        return spec.key

    def _write_meta(self, spec: TaskSpec) -> None:
        """Write the task's meta, unless the same meta (with no devices) is there already.

        After this a meta always lists no devices, so a CPU task's launch need not write it.
        """
        workplace = self.layout.workplace(*spec.key)
        if workplace.meta_file.is_file():
            try:
                existing = workplace.read_meta()
            except ContractError:
                existing = {}
            unchanged = (
                existing.get("fingerprint") == spec.fingerprint()
                and existing.get("launcher") == spec.launcher
                and not existing.get("devices")
            )
            if unchanged:
                return
        write_json_atomic(workplace.meta_file, spec.to_meta())

    def run_tasks(
        self,
        num_jobs: int = 1,
        task_loader: Callable[[str], Any] | None = None,
        *,
        timeout: float | None = None,
        retries: int = 0,
        retry_delay: float = 1.0,
        cuda_list: Sequence[int] | None = None,
        launcher: str | None = None,
        image: str | None = None,
        force: bool = False,
        lock: str = "wait",
        lock_timeout: float | None = None,
        grace: float = 3.0,
        progress: bool | None = None,
        backend: str = "local",
        on_finish: Callable[[Outcome], None] | None = None,
        **backend_options: Any,
    ) -> Results:
        """Run every added task and return their results (a failed task never raises here).

        Tasks that already succeeded with the same definition are skipped unless ``force``.
        """
        check_count("num_jobs", num_jobs, minimum=1)
        check_positive("timeout", timeout)
        check_positive("retry_delay", retry_delay, allow_zero=True)
        check_count("retries", retries, minimum=0)
        if backend not in ("local", "ray"):
            raise UnknownNameError("unknown backend; known: ['local', 'ray']", input=backend)
        if backend == "local" and backend_options:
            raise InvalidInputError(
                f"options {sorted(backend_options)} are for backend='ray', not the local one",
                input=sorted(backend_options),
            )
        if launcher is not None and launcher not in LAUNCHERS:
            raise UnknownNameError(f"unknown launcher; known: {list(LAUNCHERS)}", input=launcher)

        resolved = []
        for spec in self.tasks:
            before = (spec.launcher, spec.image)
            spec.image = spec.image or image
            spec.launcher = spec.launcher or launcher or ("docker" if spec.image else "process")
            if spec.launcher == "docker" and not spec.image:
                raise InvalidInputError("a docker task needs an image", task="/".join(spec.key))
            if (spec.launcher, spec.image) != before:
                resolved.append(spec)
        for spec in resolved:
            self._write_meta(spec)  # the launcher and image this run gives the task

        gpu_ids = check_cuda_list(cuda_list)
        if backend == "ray":  # the cluster's GPUs, not this machine's, decide
            from .cluster.ray import ray_gpu_count

            gpu_counts = [
                ray_gpu_count(spec.resources.gpus, "/".join(spec.key)) for spec in self.tasks
            ]
        else:
            gpu_counts = [
                gpus_needed(spec.resources.gpus, gpu_ids, "/".join(spec.key)) for spec in self.tasks
            ]
        launchers = _make_launchers({spec.launcher or "process" for spec in self.tasks})
        try:
            for name, each in launchers.items():
                if backend == "ray" and name != "process":
                    # On a cluster each node's own engine runs the containers; a node
                    # without the image fails that task with a reason naming it.
                    continue
                previews = [
                    self._preview(spec, count)
                    for spec, count in zip(self.tasks, gpu_counts, strict=True)
                    if spec.launcher == name
                ]
                each.check(previews)

            with RootLock(self.layout, lock, lock_timeout):
                outcomes, jobs = [], []
                for spec, count in zip(self.tasks, gpu_counts, strict=True):
                    workplace = self.layout.workplace(*spec.key)
                    chosen = launchers[spec.launcher or "process"]
                    outcome, skip = previous_outcome(spec, workplace, chosen, force=force)
                    outcomes.append(outcome)
                    if skip:
                        logger.info("%s already succeeded; skipped", workplace.path)
                        continue
                    jobs.append(
                        Job(
                            spec=spec,
                            outcome=outcome,
                            launcher=chosen,
                            gpu_count=count,
                            retries=spec.retries if spec.retries is not None else retries,
                            timeout=spec.timeout if spec.timeout is not None else timeout,
                            cpus=cpus_per_task(num_jobs, spec.resources.cpus),
                            first_attempt=len(outcome.attempts),
                        )
                    )

                if backend == "ray":
                    from .cluster.ray import run_on_ray

                    run_on_ray(
                        jobs,
                        num_jobs=num_jobs,
                        gpu_ids=gpu_ids,
                        grace=grace,
                        retry_delay=retry_delay,
                        progress=progress,
                        on_finish=on_finish,
                        **backend_options,
                    )
                else:
                    scheduler = Scheduler(
                        num_jobs,
                        gpu_ids,
                        retry_delay=retry_delay,
                        grace=grace,
                        progress=progress,
                        on_finish=on_finish,
                    )
                    scheduler.run(jobs)
        finally:
            for each in launchers.values():
                each.close()

        results = Results.collect(outcomes, task_loader)
        if not results.succeeded:
            logger.warning(
                "%d task(s) did not succeed (%s)", len(results.failures), results.summary()
            )
        return results

    def _preview(self, spec: TaskSpec, gpu_count: int) -> LaunchSpec:
        """A launch spec for a launcher's checks, before anything starts."""
        return LaunchSpec(
            workplace=self.layout.workplace(*spec.key),
            command=spec.command,
            cwd=Path(spec.cwd),
            env={},
            attempt=0,
            devices="all" if spec.resources.gpus == "all" else list(range(gpu_count)),
            cpus=spec.resources.cpus,
            memory=spec.resources.memory,
            image=spec.image,
            network=spec.network,
            mounts=list(spec.mounts),
        )


def _check_builtin_model(model: str) -> None:
    """Refuse, at ``add_task``, a built-in task whose model the default task cannot build."""
    from .models import is_known_model, known_models

    if is_known_model(model):
        return
    raise UnknownNameError(
        f"unknown model {model!r} for the built-in task: expected one of {known_models()}, "
        "the dotted path of a scikit-learn estimator, or a run_command of your own",
        input=model,
    )


def _make_launchers(names: set[str]) -> dict[str, Launcher]:
    launchers: dict[str, Launcher] = {}
    for name in sorted(names):
        if name == "process":
            from .launchers.process import ProcessLauncher

            launchers[name] = ProcessLauncher()
        else:
            from .launchers.docker import DockerLauncher

            launchers[name] = DockerLauncher()
    return launchers
