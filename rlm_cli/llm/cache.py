"""The sub-call cache: answers kept in SQLite so asking again over the same log is free.

The key is a SHA-256 over the model's identity (spec plus file size and modification
time for files), the generation parameters that change the answer
(``GenerationParams.cache_key()``), and the exact messages sent. A hit returns a
:class:`Completion` with ``cached=True``: no tokens were spent.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import orjson

from rlm_cli import paths
from rlm_cli.llm.base import Completion, GenerationParams, Message

_SCHEMA = """
CREATE TABLE IF NOT EXISTS subcalls (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    text TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    finish_reason TEXT NOT NULL,
    created REAL NOT NULL,
    hits INTEGER NOT NULL DEFAULT 0
)
"""


def cache_key(model_identity: str, params: GenerationParams, messages: Sequence[Message]) -> str:
    """The hex key of one sub-call."""
    blob = orjson.dumps(
        {
            "model": model_identity,
            "params": params.cache_key(),
            "messages": [[m.get("role", ""), m.get("content", "")] for m in messages],
        },
        option=orjson.OPT_SORT_KEYS,
    )
    return hashlib.sha256(blob).hexdigest()


class SubcallCache:
    """A thread-safe SQLite store of sub-call answers (``paths.cache_db_path()`` by default)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path or paths.cache_db_path())
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, timeout=10)
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(_SCHEMA)
            self._db.commit()

    def get(self, key: str) -> Completion | None:
        """The cached answer for ``key``, marked ``cached=True``, or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT text, prompt_tokens, completion_tokens, finish_reason FROM subcalls "
                "WHERE key = ?",
                (key,),
            ).fetchone()
            if row is None:
                return None
            self._db.execute("UPDATE subcalls SET hits = hits + 1 WHERE key = ?", (key,))
            self._db.commit()
        text, pt, ct, finish = row
        return Completion(
            text=text,
            prompt_tokens=pt,
            completion_tokens=ct,
            finish_reason=finish,
            cached=True,
            meta={"cache_key": key},
        )

    def put(self, key: str, model_identity: str, c: Completion) -> None:
        """Keep an answer (failed calls and answers already from the cache are not kept)."""
        if c.cached or c.finish_reason not in ("stop", "length"):
            return
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO subcalls "
                "(key, model, text, prompt_tokens, completion_tokens, finish_reason, created) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    key,
                    model_identity,
                    c.text,
                    c.prompt_tokens,
                    c.completion_tokens,
                    c.finish_reason,
                    time.time(),
                ),
            )
            self._db.commit()

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM subcalls").fetchone()[0])

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()
