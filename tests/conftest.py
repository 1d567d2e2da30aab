"""Shared fixtures: hostile folder names, a Docker engine and image, and the CI skip rule.

Under ``CI=true`` a test marked ``docker`` or ``ray`` that skips is reported as a failure:
CI must prove those paths, not quietly pass over them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

HOSTILE_NAME = "root with spaces 'quote\" ;semi ünïcødé"
TEST_IMAGE = os.environ.get("EXECUTOR_TEST_IMAGE", "executor:cpu")
LEAN_IMAGE = os.environ.get("EXECUTOR_LEAN_IMAGE", "executor:lean")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    needs_service = item.get_closest_marker("docker") or item.get_closest_marker("ray")
    if report.skipped and needs_service and os.environ.get("CI") == "true":
        reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"a docker/ray test skipped under CI=true, which must run it: {reason}"


@pytest.fixture
def hostile_dir(tmp_path: Path) -> Path:
    """A folder whose name has spaces, quotes, a semicolon and non-ASCII letters."""
    folder = tmp_path / HOSTILE_NAME
    folder.mkdir()
    return folder


@pytest.fixture
def in_hostile_cwd(hostile_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run the test with a hostile current directory."""
    monkeypatch.chdir(hostile_dir)
    return hostile_dir


def docker_client_or_skip() -> object:
    """A Docker client, or a skip saying why the engine cannot be reached."""
    try:
        import docker
    except ImportError:
        pytest.skip("the docker Python package is not installed")
    try:
        client = docker.from_env(timeout=10)
        client.ping()
    except Exception as error:  # any failure to reach the engine means: skip, saying why
        pytest.skip(f"no Docker engine answers ({error}); start dockerd to run this test")
    return client


def image_or_skip(name: str) -> str:
    """The image name, or a skip saying how to build it."""
    client = docker_client_or_skip()
    try:
        client.images.get(name)  # type: ignore[attr-defined]
    except Exception:
        pytest.skip(f"the image {name} is missing; build it with images/build.sh")
    return name


@pytest.fixture
def docker_image() -> str:
    """The default task image (with torch), or a skip."""
    return image_or_skip(TEST_IMAGE)


@pytest.fixture
def lean_image() -> str:
    """The lean task image (numpy and scikit-learn), or a skip."""
    return image_or_skip(LEAN_IMAGE)


def ray_or_skip() -> None:
    """Skip, saying why, when the ray package cannot be imported."""
    try:
        import ray  # noqa: F401
    except ImportError as error:
        pytest.skip(f"the ray package cannot be imported ({error}); pip install 'executor[ray]'")


@pytest.fixture(scope="session")
def ray_backend() -> Iterator[dict[str, str]]:
    """``run_tasks`` arguments for the Ray backend on a local Ray instance, or a skip.

    The instance starts with the first run that uses it and stops at the end of the session.
    """
    ray_or_skip()
    yield {"backend": "ray"}
    from executor.cluster.ray import disconnect

    disconnect()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the two-node Ray cluster tests first.

    In this Ray release a driver that shut down a local Ray instance and then connects to
    another cluster can wait for ever on its tasks, so the cluster tests connect before
    any test starts the session's local instance.
    """
    first = [item for item in items if item.path.name == "test_ray_cluster.py"]
    items[:] = first + [item for item in items if item.path.name != "test_ray_cluster.py"]
