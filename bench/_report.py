"""Shared helpers of the benchmark suite: machine facts, a short table, and docs/benchmarks.md.

Every benchmark writes its figures into its own ``## Section`` of ``docs/benchmarks.md``
with :func:`write_section`. The file is read, changed and written back under a file lock,
so that benchmarks run at the same time never lose each other's sections; a section is
replaced whole and every other section is kept byte for byte.

Use from another benchmark script (run as ``python bench/<script>.py``)::

    import _report

    rows = [["executor", 1.23], ["direct", 1.01]]
    _report.print_table(["way", "seconds"], rows)
    _report.write_section("Docker", _report.describe_run(command) + "\n\n" + table_text)
"""

from __future__ import annotations

import hashlib
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
BENCH_DIR = REPO / "bench"
BENCHMARKS_FILE = REPO / "docs" / "benchmarks.md"
TOP_MATTER = """# Benchmarks

How much `executor` adds on top of the work it runs, measured against the physical limit
(the same processes spawned directly) and against the tools users would otherwise pick
(Ray Tune, joblib, Optuna). Absolute times drift on shared machines, so every part reports
ratios measured in the same run, interleaved and repeated, and gives the date, the machine
and the exact command beside its figures. A result that misses its goal is written as it
is, with what limits it.

## How to run

```
python bench/run_all.py               # every part, at the sizes of the goals
python bench/run_all.py --quick       # smaller sizes, for a first look
python bench/run_all.py --only launch # one part: launch, parallel, scale, peers,
                                      # docker, ray, models, search
python bench/launch_overhead.py       # each part is also a script of its own
```

Each part prints a short table and replaces its own section of this page; the other
sections are kept as they are. A script of another part can do the same with
`_report.write_section(title, text)` from `bench/_report.py`, which reads, changes and
writes the page under a file lock.

On a 2-core machine shared with other work these parts took, in minutes: `launch` about 2,
`parallel` 3 to 4, `scale` 1.5 to 7 and `peers` 1 to 2, the spread being the machine's
load; `--quick` runs every part in a fraction of that.
"""

SECTION_ORDER = (
    "How to run",
    "Launch overhead",
    "Docker",
    "Ray",
    "Parallel efficiency",
    "Scale",
    "Peers",
    "Search",
    "Models",
)
"""Where a new section goes: before the first present section that comes after it here."""
WRITE_LOCK_TIMEOUT = 120.0
SUITE_COMMAND_ENV = "EXECUTOR_BENCH_SUITE_COMMAND"
"""Set by run_all.py so that each part also names the suite command that started it."""


def machine_facts() -> dict[str, Any]:
    """The CPUs, memory, system and date of this run."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:
        cpus = os.cpu_count() or 1
    return {
        "cpus": cpus,
        "memory_gb": round(_total_memory_bytes() / 2**30, 1),
        "system": f"{platform.system()} {platform.machine()}",
        "python": platform.python_version(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "load": _load_average(),
    }


def _total_memory_bytes() -> int:
    try:
        with open("/proc/meminfo", encoding="ascii") as stream:
            for line in stream:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))


def _load_average() -> str:
    try:
        return " ".join(f"{value:.1f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


def command_line() -> str:
    """The command that started this process, as a user would type it from the repository."""
    script = Path(sys.argv[0]).resolve()
    try:
        shown = script.relative_to(REPO).as_posix()
    except ValueError:
        shown = script.name
    return " ".join(["python", shown, *sys.argv[1:]])


def describe_run(command: str | None = None) -> str:
    """One paragraph: when, on what machine and with what command the figures were taken."""
    facts = machine_facts()
    own = command or command_line()
    suite = os.environ.get(SUITE_COMMAND_ENV)
    started_by = f" (started by `{suite}`)" if suite and suite != own else ""
    return (
        f"Measured {facts['date']} on {facts['cpus']} CPU cores and {facts['memory_gb']} GB "
        f"of memory ({facts['system']}, Python {facts['python']}; load average "
        f"{facts['load']} at the end). Command: `{own}`{started_by}."
    )


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown (GitHub pipe) table of ``rows``; floats get 3 significant decimals."""
    from tabulate import tabulate

    return str(tabulate(rows, headers=list(headers), tablefmt="github", floatfmt=".3g"))


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], title: str = "") -> str:
    """Print a short table (with an optional title line) and return its text."""
    text = format_table(headers, rows)
    if title:
        print(f"\n{title}")
    print(text, flush=True)
    return text


def median(values: Sequence[float]) -> float:
    """The median of ``values``."""
    return float(statistics.median(values))


def cpu_seconds() -> float:
    """User plus system CPU time of this process and of its children that were waited for."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has been busy since boot, from ``/proc/stat``."""
    try:
        with open("/proc/stat", encoding="ascii") as stream:
            fields = [int(value) for value in stream.readline().split()[1:]]
    except OSError:
        return 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    ticks = os.sysconf("SC_CLK_TCK")
    return (sum(fields[:8]) - idle) / ticks


class Stopwatch:
    """Measures wall time (``seconds``), CPU time (``cpu``) and what others used (``others``).

    ``cpu`` is this process's time and that of the children it waited for; ``others`` is
    the machine's busy time in the same span less ``cpu``, in core-seconds: the load that
    other programs put on the machine meanwhile.
    """

    def __enter__(self) -> Stopwatch:
        self.start = time.perf_counter()
        self.start_cpu = cpu_seconds()
        self.start_busy = machine_busy_seconds()
        self.seconds = self.cpu = self.others = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.start
        self.cpu = cpu_seconds() - self.start_cpu
        busy = machine_busy_seconds() - self.start_busy
        self.others = max(0.0, busy - self.cpu)

    @property
    def others_cores(self) -> float:
        """The mean number of cores other programs kept busy while this ran."""
        return self.others / self.seconds if self.seconds > 0 else 0.0


def write_section(title: str, body: str, path: Path | None = None) -> Path:
    """Replace (or append) the section ``## title`` of the benchmarks page with ``body``.

    The page is read, changed and written back under a file lock, so concurrent writers
    never drop each other's sections. The top matter and every other section stay as they
    are; a missing page is created with the top matter.
    """
    from filelock import FileLock

    target = Path(path) if path is not None else BENCHMARKS_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(_lock_path(target)), timeout=WRITE_LOCK_TIMEOUT):
        text = target.read_text(encoding="utf-8") if target.exists() else TOP_MATTER
        updated = replace_section(text, title, body)
        temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        temporary.write_text(updated, encoding="utf-8")
        os.replace(temporary, target)
    return target


def _lock_path(target: Path) -> Path:
    """A lock file outside the repository, one per target page."""
    digest = hashlib.sha256(str(target.resolve()).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"executor-benchmarks-{digest}.lock"


def replace_section(text: str, title: str, body: str) -> str:
    """``text`` with the section ``## title`` replaced by ``body`` (appended if absent).

    A section runs from its heading to the next level-2 heading outside a code fence, or to
    the end of the text.
    """
    heading = f"## {title.strip()}"
    lines = text.splitlines(keepends=True)
    starts = _heading_lines(lines)

    new_section = f"{heading}\n\n{body.strip()}\n"
    for position, start in enumerate(starts):
        if lines[start].rstrip() != heading:
            continue
        end = starts[position + 1] if position + 1 < len(starts) else len(lines)
        after = "".join(lines[end:])
        separator = "\n" if after else ""
        return "".join(lines[:start]) + new_section + separator + after

    later = _later_sections(title.strip())
    for start in starts:
        if lines[start][3:].strip() in later:
            return "".join(lines[:start]) + new_section + "\n" + "".join(lines[start:])
    before = text.rstrip("\n")
    return f"{before}\n\n{new_section}" if before else new_section


def _later_sections(title: str) -> set[str]:
    """The known sections that come after ``title`` (none for an unknown title)."""
    if title not in SECTION_ORDER:
        return set()
    return set(SECTION_ORDER[SECTION_ORDER.index(title) + 1 :])


def _heading_lines(lines: Sequence[str]) -> list[int]:
    """Indexes of the level-2 headings outside code fences."""
    found: list[int] = []
    in_fence = False
    for index, line in enumerate(lines):
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
            continue
        if not in_fence and line.startswith("## "):
            found.append(index)
    return found
