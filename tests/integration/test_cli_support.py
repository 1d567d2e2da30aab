"""Helpers for the command-line tests: run ``python -m executor`` as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]
EXAMPLES = REPOSITORY / "examples"


def run_cli(
    *args: str | os.PathLike[str],
    cwd: Path,
    stdin: str | None = None,
    timeout: float = 240,
) -> subprocess.CompletedProcess[str]:
    """``python -m executor ARGS`` in ``cwd``; its exit status, stdout and stderr."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        [sys.executable, "-m", "executor", *map(str, args)],
        cwd=cwd,
        env=env,
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def write_script(folder: Path, name: str, body: str) -> Path:
    """A task script in ``folder``: ``body`` after ``import executor``."""
    path = folder / name
    path.write_text("import executor\n" + textwrap.dedent(body), encoding="utf-8")
    return path


def assert_one_line_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    """A usage error: status 2, one line on stderr naming what to fix, no traceback."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("executor: error: "), lines[0]
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


def test_the_helper_runs_the_module(tmp_path: Path) -> None:
    result = run_cli("--help", cwd=tmp_path)
    assert result.returncode == 0
    assert "usage: executor" in result.stdout
