"""Peers on the same work: 100 short trials through executor, joblib and Ray Tune, 2 at a time.

Every trial is the same ridge fit of ``_peer_trial.fit`` (about 50 ms of numpy on one
thread). joblib (loky) and Ray Tune call it in long-lived worker processes; executor runs
each trial as a task of its own, a fresh process that imports numpy and the task API, reads
its config and reports its metric through files.

    python bench/peers.py [--trials 100] [--slots 2] [--skip ray]
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import _peer_trial
import _report

SECTION = "Peers"
TRIAL_SCRIPT = Path(_peer_trial.__file__).resolve()


def trial_configs(trials: int) -> list[dict[str, float | int]]:
    """The same list of trial configs for every tool."""
    return [
        {"alpha": 10 ** (-3 + 3 * index / max(1, trials - 1)), "seed": index}
        for index in range(trials)
    ]


def run_in_process(configs: list[dict[str, Any]], slots: int, scratch: Path) -> dict[str, float]:
    """The work alone: a plain loop in this process, one trial after another."""
    del slots, scratch
    with _report.Stopwatch() as watch:
        for config in configs:
            _peer_trial.fit(config["alpha"], config["seed"])
    return {"wall": watch.seconds}


def run_executor(configs: list[dict[str, Any]], slots: int, scratch: Path) -> dict[str, float]:
    """Each trial as an executor task (a separate process), ``slots`` at a time."""
    from executor import Experiment

    with _report.Stopwatch() as watch:
        experiment = Experiment(scratch / "executor")
        for config in configs:
            experiment.add_task(
                model="ridge", config=config, run_command=["python", str(TRIAL_SCRIPT)]
            )
        results = experiment.run_tasks(num_jobs=slots, progress=False)
    results.raise_for_failures()
    return {"wall": watch.seconds}


def run_joblib(configs: list[dict[str, Any]], slots: int, scratch: Path) -> dict[str, float]:
    """joblib's ``Parallel`` with the loky backend (worker start-up included)."""
    from joblib import Parallel, delayed
    from joblib.externals.loky import get_reusable_executor

    del scratch
    get_reusable_executor().shutdown(wait=True)
    with _report.Stopwatch() as watch:
        Parallel(n_jobs=slots, backend="loky")(
            delayed(_peer_trial.fit)(config["alpha"], config["seed"]) for config in configs
        )
    return {"wall": watch.seconds}


def run_ray_tune(configs: list[dict[str, Any]], slots: int, scratch: Path) -> dict[str, float]:
    """Ray Tune: a function trainable over the same configs, ``slots`` trials at a time."""
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    warnings.filterwarnings("ignore")
    import ray
    from ray import cloudpickle, tune

    cloudpickle.register_pickle_by_value(_peer_trial)

    def trainable(config: dict[str, Any]) -> None:
        chosen = configs[config["index"]]
        tune.report({"mse": _peer_trial.fit(chosen["alpha"], chosen["seed"])})

    started = time.perf_counter()
    ray.init(
        num_cpus=slots,
        include_dashboard=False,
        log_to_driver=False,
        logging_level=logging.ERROR,
        configure_logging=True,
    )
    ray_start = time.perf_counter() - started
    try:
        with _report.Stopwatch() as watch:
            tuner = tune.Tuner(
                tune.with_resources(trainable, {"cpu": 1}),
                param_space={"index": tune.grid_search(list(range(len(configs))))},
                tune_config=tune.TuneConfig(
                    num_samples=1, max_concurrent_trials=slots, reuse_actors=True
                ),
                run_config=tune.RunConfig(
                    storage_path=str(scratch / "ray"), verbose=0, name="peers"
                ),
            )
            grid = tuner.fit()
        if grid.num_errors:
            raise RuntimeError(f"{grid.num_errors} Ray Tune trials failed")
    finally:
        ray.shutdown()
    return {"wall": watch.seconds, "startup": ray_start}


WAYS: dict[str, tuple[str, Callable[[list[dict[str, Any]], int, Path], dict[str, float]]]] = {
    "loop": ("in-process loop, 1 core (the work alone)", run_in_process),
    "executor": ("executor, 2 slots (a process per trial)", run_executor),
    "joblib": ("joblib Parallel(n_jobs=2, loky)", run_joblib),
    "ray": ("Ray Tune Tuner, max_concurrent_trials=2", run_ray_tune),
}


def process_start_ms(repeats: int = 5) -> float:
    """Median milliseconds to start an interpreter that imports numpy and the task API."""
    import subprocess

    command = [sys.executable, "-c", "import numpy, executor"]
    times = []
    for _ in range(repeats):
        with _report.Stopwatch() as watch:
            subprocess.run(command, check=True)
        times.append(1000 * watch.seconds)
    return _report.median(times)


def measure(args: argparse.Namespace) -> dict[str, dict[str, float]]:
    """Run each way once on the same configs, in the order of ``WAYS``."""
    configs = trial_configs(args.trials)
    scratch = Path(tempfile.mkdtemp(prefix="bench-peers-"))
    measured: dict[str, dict[str, float]] = {}
    try:
        for name, (label, run) in WAYS.items():
            if name in args.skip:
                continue
            measured[name] = run(configs, args.slots, scratch)
            print(f"{label}: {measured[name]['wall']:.1f}s", flush=True)
        if "executor" in measured:
            measured["executor"]["process_start_ms"] = process_start_ms()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return measured


HEADERS = ["way", "wall s", "ms per trial", "executor's time / this"]


def table_rows(measured: dict[str, dict[str, float]], trials: int) -> list[list[Any]]:
    """Rows: way, wall time, per trial, executor's wall time over this way's."""
    reference = measured.get("executor", {}).get("wall")
    rows = []
    for name, figures in measured.items():
        ratio = reference / figures["wall"] if reference else float("nan")
        rows.append([WAYS[name][0], figures["wall"], 1000 * figures["wall"] / trials, ratio])
    return rows


def write_report(measured: dict[str, dict[str, float]], args: argparse.Namespace) -> None:
    """Write the section, with what each way does per trial."""
    lines = [
        _report.describe_run(),
        "",
        f"{args.trials} trials of the same ridge fit by gradient descent (numpy, "
        f"{_peer_trial.ROWS} x {_peer_trial.FEATURES}, {_peer_trial.STEPS} steps, one "
        f"thread), {args.slots} at a time, one run of each way after the other.",
        "",
        _report.format_table(HEADERS, table_rows(measured, args.trials)),
        "",
        "Notes: executor runs every trial as a separate process: each pays an interpreter "
        "start, the numpy import and its file contract (meta, outcome, logs and metrics "
        "files written, then read back), which is what a process per trial buys (isolation, "
        "a crash or leak in one trial cannot touch another, any command or container can "
        "be a trial, every result survives on disk). joblib and Ray Tune reuse warm worker "
        "processes and pass results in memory; joblib's time includes starting its workers.",
    ]
    start = measured.get("executor", {}).get("process_start_ms")
    if start is not None:
        lines.append(
            f'A bare `python -c "import numpy, executor"` took {start:.0f} ms here (median '
            "of 5): with 2 slots that start alone is worth about "
            f"{start / args.slots:.0f} ms of wall time per trial, most of the gap to the "
            "peers."
        )
    if "ray" in measured:
        lines.append(
            f"Ray Tune's time excludes `ray.init` ({measured['ray']['startup']:.1f} s here); "
            "trials reuse their actors (`reuse_actors=True`; without it each trial starts a "
            "new worker and Tune was several times slower still) and Tune keeps its default "
            "experiment bookkeeping (result files under a temporary storage path)."
        )
    _report.write_section(SECTION, "\n".join(lines))


def main(argv: Sequence[str] | None = None) -> int:
    """Measure, print the table and write the section."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--slots", type=int, default=2)
    parser.add_argument("--skip", action="append", default=[], choices=list(WAYS))
    parser.add_argument("--quick", action="store_true", help="30 trials")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    if args.quick:
        args.trials = 30

    measured = measure(args)
    _report.print_table(HEADERS, table_rows(measured, args.trials), title=SECTION)
    if not args.no_write:
        write_report(measured, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
