"""The scan state: per-file cursors, findings across runs and the last run's memory.

One JSON file (``<state dir>/state.json``) holds everything, so a run commits it all
at once: written to a temporary file, fsynced, renamed over the old one, and the folder
fsynced. A run killed before that point leaves the previous state intact, and the next
run reads the same bytes again.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import orjson

from rlm_cli import paths
from rlm_cli.atomic import atomic_write
from rlm_cli.errors import StoreError

STATE_FILE = "state.json"
STATE_VERSION = 1
HEAD_BYTES = 4096
"""How much of a file's (decompressed) start fingerprints it."""


@dataclass
class Cursor:
    """How far one file has been read, and how to recognise it again.

    ``offset`` counts bytes of the file's (decompressed) content consumed so far;
    ``lines`` the newlines among them. ``head_sha`` is the SHA-256 of its first
    ``head_len`` bytes (at most :data:`HEAD_BYTES`, never beyond ``offset``).
    """

    path: str
    dev: int
    ino: int
    offset: int
    lines: int
    head_len: int
    head_sha: str
    compression: str | None = None
    raw_size: int = 0
    """The file's size on disk when last read (for compressed files: unchanged means done)."""
    updated: float = 0.0

    @classmethod
    def from_json(cls, d: dict) -> Cursor:
        """A cursor from its stored form."""
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})


@dataclass
class ScanState:
    """Everything a scan remembers between runs."""

    cursors: dict[str, Cursor] = field(default_factory=dict)
    findings: list[dict] = field(default_factory=list)
    memory: dict = field(default_factory=dict)
    """The last completed run: ``run_id``, ``time``, ``answer``, ``context_id``."""
    runs: int = 0
    bytes_total: int = 0
    last_success: float | None = None
    """When a scan of this state last completed (with or without new lines)."""

    def to_json(self) -> dict:
        """The stored form."""
        return {
            "version": STATE_VERSION,
            "runs": self.runs,
            "bytes_total": self.bytes_total,
            "last_success": self.last_success,
            "memory": self.memory,
            "cursors": {p: asdict(c) for p, c in sorted(self.cursors.items())},
            "findings": self.findings,
        }


def head_sha(head: bytes) -> str:
    """The fingerprint of a file's first bytes."""
    return hashlib.sha256(head).hexdigest()


def load_state(state_dir: Path) -> ScanState:
    """The committed state in ``state_dir`` (an empty one before the first run)."""
    path = state_dir / STATE_FILE
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return ScanState()
    except OSError as e:
        raise StoreError(f"cannot read the scan state {path}: {e.strerror or e}") from e
    try:
        d = orjson.loads(raw)
        if d.get("version") != STATE_VERSION:
            raise ValueError(f"version {d.get('version')!r}, expected {STATE_VERSION}")
        return ScanState(
            cursors={p: Cursor.from_json(c) for p, c in d.get("cursors", {}).items()},
            findings=list(d.get("findings", [])),
            memory=dict(d.get("memory", {})),
            runs=int(d.get("runs", 0)),
            bytes_total=int(d.get("bytes_total", 0)),
            last_success=d.get("last_success"),
        )
    except (orjson.JSONDecodeError, ValueError, TypeError, KeyError) as e:
        raise StoreError(
            f"the scan state {path} is damaged ({e}); move it away to start over"
        ) from e


def save_state(state_dir: Path, state: ScanState) -> None:
    """Commit ``state`` (atomically)."""
    path = state_dir / STATE_FILE
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
        atomic_write(path, orjson.dumps(state.to_json(), option=orjson.OPT_INDENT_2))
    except OSError as e:
        raise StoreError(f"cannot write {path}: {e.strerror or e}") from e


def default_state_dir(targets: list[str], question: str) -> Path:
    """``<data dir>/scan/<key>``: one state per set of targets and question.

    Two cron jobs over the same folder with different questions each see every new byte.
    """
    absolute = sorted(os.path.abspath(t) for t in targets)
    key = hashlib.sha256(orjson.dumps([absolute, question])).hexdigest()[:12]
    return paths.data_dir() / "scan" / key


def now() -> float:
    """Wall-clock time (one place to read it)."""
    return time.time()
