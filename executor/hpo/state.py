"""The saved state of a search: its settings, the searcher, and a record per candidate.

A search keeps one JSON file in the experiment root, ``__search__/<search id>.json``,
rewritten atomically after every change. The search id is a hash of everything that
defines the search (space, model, fixed config, data, objective, seed...), so that the same
``tune_with`` call finds its own file again and resumes, while a different search in the
same root keeps its own file.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..contract import RootLayout, now_iso, read_json, write_json_atomic
from ..errors import ContractError

logger = logging.getLogger(__name__)

STATE_FORMAT = "executor.search"
STATE_VERSION = 1


def short_hash(payload: Any, length: int = 8) -> str:
    """A short hex digest of a JSON-able value (keys sorted), used for codes and ids."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


@dataclass
class CandidateRecord:
    """One trial of the search: the params tried, how its tasks went, and its value.

    ``state`` is a :class:`~executor.hpo.searchers.base.TrialState` value. ``metrics`` holds
    the metrics of each succeeded repeat; ``outcomes`` and ``reasons`` the state and
    failure reason (or None) of every repeat. ``duplicate_of`` names the code of an earlier
    candidate with the same params whose result this one reuses instead of running again.
    """

    number: int
    code: str
    params: dict[str, Any]
    config: dict[str, Any]
    state: str = "running"
    value: float | None = None
    metrics: list[dict[str, Any]] = field(default_factory=list)
    workplaces: list[str] = field(default_factory=list)
    outcomes: list[str] = field(default_factory=list)
    reasons: list[str | None] = field(default_factory=list)
    duplicate_of: str | None = None
    started_at: str = field(default_factory=now_iso)
    ended_at: str | None = None

    @property
    def finished(self) -> bool:
        """Whether the candidate has ended, complete or failed."""
        return self.state != "running"

    @property
    def failure_reason(self) -> str:
        """Why the candidate failed, in one line per failed repeat."""
        reasons = [reason for reason in self.reasons if reason]
        return "; ".join(reasons) if reasons else "no reason recorded"

    @classmethod
    def from_json(cls, payload: dict[str, Any]) -> CandidateRecord:
        """A record read back from its JSON object."""
        return cls(**payload)


@dataclass
class SearchState:
    """Everything a search saves: settings, searcher state, candidate records, data split."""

    search_id: str
    settings: dict[str, Any]
    searcher: dict[str, Any] | None = None
    candidates: list[CandidateRecord] = field(default_factory=list)
    split: dict[str, Any] | None = None
    created_at: str = field(default_factory=now_iso)

    def to_json(self) -> dict[str, Any]:
        """The state as one JSON object."""
        return {
            "format": STATE_FORMAT,
            "version": STATE_VERSION,
            "search_id": self.search_id,
            "created_at": self.created_at,
            "updated_at": now_iso(),
            "settings": self.settings,
            "split": self.split,
            "searcher": self.searcher,
            "candidates": [asdict(record) for record in self.candidates],
        }

    @classmethod
    def from_json(cls, payload: dict[str, Any], path: Path) -> SearchState:
        """Read a state back, raising :class:`ContractError` naming ``path`` if it is malformed."""
        if payload.get("format") != STATE_FORMAT or payload.get("version") != STATE_VERSION:
            raise ContractError(
                "the search state has an unknown format or version",
                path=str(path),
                format=payload.get("format"),
                version=payload.get("version"),
            )
        try:
            return cls(
                search_id=str(payload["search_id"]),
                settings=dict(payload["settings"]),
                searcher=payload.get("searcher"),
                candidates=[CandidateRecord.from_json(item) for item in payload["candidates"]],
                split=payload.get("split"),
                created_at=str(payload.get("created_at") or now_iso()),
            )
        except (KeyError, TypeError) as error:
            raise ContractError(f"the search state is malformed: {error}", path=str(path)) from None


def state_file(root: str | Path, search_id: str) -> Path:
    """The file holding the state of search ``search_id`` under the experiment ``root``."""
    return RootLayout(root).search_dir / f"{search_id}.json"


def load_state(path: Path) -> SearchState | None:
    """The saved state at ``path``, or None when the search has not started yet."""
    if not path.is_file():
        return None
    payload = read_json(path, what="search state")
    if not isinstance(payload, dict):
        raise ContractError("the search state is not a JSON object", path=str(path))
    state = SearchState.from_json(payload, path)
    logger.info("resuming search %s from %s", state.search_id, path)
    return state


def save_state(path: Path, state: SearchState) -> None:
    """Write the state atomically."""
    write_json_atomic(path, state.to_json())
