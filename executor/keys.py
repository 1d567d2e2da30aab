"""Workplace keys: explicit ones checked, automatic ones numbered per model.

An automatic key reuses the workplace of an earlier run of the same task (same
fingerprint), so finished work is found again, and otherwise takes the smallest unused
number. Each model's folder is scanned once, so adding many tasks stays linear.
"""

from __future__ import annotations

from pathlib import Path

from .contract import META_FILE, RootLayout, Workplace
from .errors import ContractError, WorkplaceKeyError
from .spec import check_key_part


class KeyRegistry:
    """The keys claimed by the tasks of one experiment."""

    def __init__(self, layout: RootLayout) -> None:
        self.layout = layout
        self.claimed: set[tuple[str, str]] = set()
        self._slots: dict[str, _ModelSlots] = {}

    def claim(
        self, model: str, fingerprint: str, workplace_key: tuple[str, str] | None
    ) -> tuple[str, str]:
        """The key of a new task: ``workplace_key`` checked, or an automatic one."""
        if workplace_key is not None:
            return self._claim_explicit(workplace_key)

        slots = self._slots.get(model)
        if slots is None:
            slots = self._slots[model] = _ModelSlots.scan(self.layout, model)
            for claimed_model, name in self.claimed:
                if claimed_model == model and name.isdigit():
                    slots.reserve(int(name))
        key = (model, str(slots.claim(fingerprint)))
        self.claimed.add(key)
        return key

    def _claim_explicit(self, workplace_key: tuple[str, str]) -> tuple[str, str]:
        if not isinstance(workplace_key, tuple | list) or len(workplace_key) != 2:
            raise WorkplaceKeyError(
                "workplace_key must be a pair (model, name)", value=workplace_key
            )
        key = (
            check_key_part(workplace_key[0], "model"),
            check_key_part(str(workplace_key[1]), "name"),
        )
        if key in self.claimed:
            raise WorkplaceKeyError("this workplace key is already used by another task", value=key)
        self.claimed.add(key)
        if key[1].isdigit() and key[0] in self._slots:
            self._slots[key[0]].reserve(int(key[1]))
        return key


class _ModelSlots:
    """The numbered workplaces of one model: which exist, with what fingerprint, which are free.

    Scanned once per model, so that adding many tasks stays linear in their number.
    """

    def __init__(self, existing: dict[int, str | None]) -> None:
        self.taken: set[int] = set()
        self.unclaimed: dict[str, list[int]] = {}
        for index in sorted(existing, reverse=True):
            fingerprint = existing[index]
            if fingerprint is not None:
                self.unclaimed.setdefault(fingerprint, []).append(index)
        self.existing = set(existing)
        self.next_free = 0

    @classmethod
    def scan(cls, layout: RootLayout, model: str) -> _ModelSlots:
        """Read the fingerprints of the model's numbered workplaces under the root."""
        folder = layout.root / model
        existing: dict[int, str | None] = {}
        if folder.is_dir():
            for path in folder.iterdir():
                if path.name.isdigit():
                    existing[int(path.name)] = meta_fingerprint(path / META_FILE)
        return cls(existing)

    def reserve(self, index: int) -> None:
        """Mark an index as used by an explicit workplace key."""
        self.taken.add(index)

    def claim(self, fingerprint: str) -> int:
        """The workplace of an earlier run of the same task, else the smallest unused index."""
        candidates = self.unclaimed.get(fingerprint, [])
        while candidates:
            index = candidates.pop()
            if index not in self.taken:
                self.taken.add(index)
                return index

        while self.next_free in self.taken or self.next_free in self.existing:
            self.next_free += 1
        self.taken.add(self.next_free)
        return self.next_free


def meta_fingerprint(meta_file: Path) -> str | None:
    """The fingerprint ``add_task`` recorded in a meta file (None: missing or unreadable)."""
    try:
        meta = Workplace(meta_file.parent).read_meta()
    except ContractError:
        return None
    return str(meta.get("key_fingerprint") or meta.get("fingerprint"))
