"""The benchmark page writer replaces only its own section and keeps every other one."""

from __future__ import annotations

import importlib.util
import sys
import threading
from pathlib import Path
from types import ModuleType

import pytest

REPORT_FILE = Path(__file__).resolve().parents[2] / "bench" / "_report.py"


@pytest.fixture(scope="module")
def report() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_report_under_test", REPORT_FILE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


PAGE = """# Benchmarks

Intro.

## Launch overhead

old launch figures

## Docker

docker figures
```
## not a heading: inside a code fence
```

## Peers

old peers figures
"""


def test_replaces_only_its_own_section(report: ModuleType, tmp_path: Path) -> None:
    page = tmp_path / "benchmarks.md"
    page.write_text(PAGE, encoding="utf-8")

    report.write_section("Launch overhead", "new launch figures", path=page)

    text = page.read_text(encoding="utf-8")
    assert "new launch figures" in text
    assert "old launch figures" not in text
    assert "docker figures\n```\n## not a heading: inside a code fence\n```\n" in text
    assert "old peers figures" in text
    assert text.startswith("# Benchmarks\n\nIntro.\n")
    assert text.index("## Launch overhead") < text.index("## Docker") < text.index("## Peers")


def test_section_inside_a_fence_is_not_mistaken_for_a_heading(
    report: ModuleType, tmp_path: Path
) -> None:
    page = tmp_path / "benchmarks.md"
    page.write_text(PAGE, encoding="utf-8")

    report.write_section("Docker", "new docker figures", path=page)

    text = page.read_text(encoding="utf-8")
    assert "## not a heading" not in text
    assert "new docker figures" in text
    assert "old launch figures" in text and "old peers figures" in text


def test_appends_a_missing_section_and_creates_a_missing_page(
    report: ModuleType, tmp_path: Path
) -> None:
    page = tmp_path / "docs" / "benchmarks.md"

    report.write_section("Scale", "scale figures", path=page)
    report.write_section("Search", "search figures", path=page)
    report.write_section("Scale", "newer scale figures", path=page)

    text = page.read_text(encoding="utf-8")
    assert text.startswith("# Benchmarks")
    assert text.count("## Scale") == 1 and "newer scale figures" in text
    assert "search figures" in text
    assert text.index("## Scale") < text.index("## Search")


def test_concurrent_writers_keep_every_section(report: ModuleType, tmp_path: Path) -> None:
    page = tmp_path / "benchmarks.md"
    titles = [f"Part {number}" for number in range(8)]

    threads = [
        threading.Thread(target=report.write_section, args=(title, f"{title} body", page))
        for title in titles
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    text = page.read_text(encoding="utf-8")
    for title in titles:
        assert text.count(f"## {title}\n") == 1
        assert f"{title} body" in text


def test_a_new_section_goes_to_its_place_in_the_suite_order(
    report: ModuleType, tmp_path: Path
) -> None:
    page = tmp_path / "benchmarks.md"
    page.write_text(PAGE, encoding="utf-8")

    report.write_section("Scale", "scale figures", path=page)
    report.write_section("Unlisted part", "other figures", path=page)

    text = page.read_text(encoding="utf-8")
    assert text.index("## Docker") < text.index("## Scale") < text.index("## Peers")
    assert text.index("## Peers") < text.index("## Unlisted part")
    assert "old launch figures" in text and "docker figures" in text


def test_the_command_names_the_suite_that_started_it(
    report: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(report.SUITE_COMMAND_ENV, "python bench/run_all.py --quick")

    text = report.describe_run("python bench/scale.py --quick")

    assert "Command: `python bench/scale.py --quick` (started by `python bench/run_all.py" in text
    assert "CPU cores" in text and "GB of memory" in text
