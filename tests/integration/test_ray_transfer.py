"""How workplaces and bundles travel to a node and back (no Ray needed)."""

from __future__ import annotations

from pathlib import Path

from executor.cluster.transfer import (
    apply_results,
    cached_bundle,
    link_bundle,
    pack_results,
    pack_workplace,
    read_bundle,
    unpack_workplace,
)
from executor.contract import Workplace


def make_workplace(root: Path) -> Workplace:
    workplace = Workplace(root / "model" / "0")
    (workplace.path / "_logs").mkdir(parents=True)
    (workplace.path / "_logs" / "attempt-1.stdout").write_text("old log")
    workplace.meta_file.write_text("{}")
    workplace.outcome_file.write_text("{}")
    (workplace.path / "checkpoint.bin").write_bytes(b"\x00\x01")
    (workplace.path / "keep").mkdir()
    (workplace.path / "keep" / "notes.txt").write_text("notes")
    return workplace


def test_a_workplace_travels_without_logs_and_records(tmp_path: Path) -> None:
    workplace = make_workplace(tmp_path / "root ' ;x")
    copy = Workplace(tmp_path / "node" / "model" / "0")

    unpack_workplace(pack_workplace(workplace), copy)

    found = sorted(path.relative_to(copy.path).as_posix() for path in copy.path.rglob("*"))
    assert found == ["__meta__.json", "checkpoint.bin", "keep", "keep/notes.txt"]
    assert (copy.path / "checkpoint.bin").read_bytes() == b"\x00\x01"


def test_results_come_back_and_removed_artifacts_are_removed(tmp_path: Path) -> None:
    workplace = make_workplace(tmp_path / "root")
    copy = Workplace(tmp_path / "node" / "model" / "0")
    unpack_workplace(pack_workplace(workplace), copy)
    (copy.path / "checkpoint.bin").unlink()
    (copy.path / "model.json").write_text('{"w": 1}')
    (copy.path / "_logs").mkdir()
    (copy.path / "_logs" / "attempt-2.stderr").write_text("new log")
    copy.meta_file.write_text('{"changed on the node": true}')

    apply_results(pack_results(copy), workplace)

    assert workplace.artifacts() == ["keep/notes.txt", "model.json"]
    assert (workplace.path / "_logs" / "attempt-1.stdout").read_text() == "old log"
    assert (workplace.path / "_logs" / "attempt-2.stderr").read_text() == "new log"
    assert workplace.meta_file.read_text() == "{}"
    assert workplace.outcome_file.read_text() == "{}"


def test_a_bundle_is_cached_once_and_linked_per_attempt(tmp_path: Path) -> None:
    source = tmp_path / "__data__" / "abc"
    source.mkdir(parents=True)
    (source / "x.npy").write_bytes(b"x-bytes")
    files = read_bundle(source)
    cache = tmp_path / "cache"

    first = cached_bundle(cache, "abc", files)
    second = cached_bundle(cache, "abc", {"x.npy": b"never written"})
    link_bundle(first, tmp_path / "scratch" / "__data__" / "abc")

    assert first == second == cache / "bundles" / "abc"
    assert (first / "x.npy").read_bytes() == b"x-bytes"
    assert (tmp_path / "scratch" / "__data__" / "abc" / "x.npy").read_bytes() == b"x-bytes"
    assert [path.name for path in (cache / "bundles").iterdir()] == ["abc"]
