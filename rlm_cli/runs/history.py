"""Run history in SQLite: every run's question, models, trajectory, findings, usage, exit."""

from __future__ import annotations

import secrets
import sqlite3
import time
from pathlib import Path

import orjson

from rlm_cli import paths
from rlm_cli.errors import StoreError

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id          TEXT PRIMARY KEY,
    started     REAL NOT NULL,
    elapsed_s   REAL,
    question    TEXT NOT NULL,
    root_model  TEXT,
    sub_model   TEXT,
    context_id  TEXT,
    ended_by    TEXT,
    exit_code   INTEGER,
    answer      TEXT,
    n_findings  INTEGER,
    record      BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_started ON runs(started);
"""


def new_run_id(now: float | None = None) -> str:
    """A sortable, readable run id: ``20261125-071501-a3f2``."""
    t = time.gmtime(now if now is not None else time.time())
    return time.strftime("%Y%m%d-%H%M%S", t) + "-" + secrets.token_hex(2)


class RunHistory:
    """The runs database (``<data dir>/runs.db``)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or paths.runs_db_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(self.path, timeout=30)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.executescript(SCHEMA)
        except sqlite3.Error as e:
            raise StoreError(f"cannot open the run history {self.path}: {e}") from e

    def save(self, record: dict, *, exit_code: int, started: float) -> None:
        """Store one run (``RunResult.to_json()`` plus anything else worth keeping)."""
        with self.db:
            self.db.execute(
                "INSERT OR REPLACE INTO runs VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    record["run_id"],
                    started,
                    record.get("elapsed_s"),
                    record.get("question", ""),
                    record.get("models", {}).get("root"),
                    record.get("models", {}).get("sub"),
                    record.get("context_id"),
                    record.get("ended_by"),
                    exit_code,
                    record.get("answer"),
                    len(record.get("findings") or []),
                    orjson.dumps(record),
                ),
            )

    def get(self, run_id: str) -> dict:
        """The full record of a run (id or unique prefix)."""
        rows = self.db.execute(
            "SELECT id, record, exit_code, started FROM runs WHERE substr(id, 1, ?) = ? "
            "ORDER BY id = ? DESC, started DESC LIMIT 2",
            (len(run_id), run_id, run_id),
        ).fetchall()
        if not rows:
            raise StoreError(f"no run {run_id!r} (see: rlm runs list)")
        if not run_id or len(rows) > 1 and rows[0][0] != run_id:
            raise StoreError(f"run id {run_id!r} is ambiguous")
        record = orjson.loads(rows[0][1])
        record["exit_code"], record["started"] = rows[0][2], rows[0][3]
        return record

    def list(
        self,
        *,
        limit: int = 20,
        search: str | None = None,
        status: str | None = None,
        since: float | None = None,
    ) -> list[dict]:
        """Recent runs first, as summary rows. ``search`` matches the question or the answer
        (case-insensitive), ``status`` how the run ended, ``since`` an epoch time."""
        sql = "SELECT id, started, elapsed_s, question, root_model, ended_by, exit_code, n_findings, context_id FROM runs"
        where, args = [], []
        if search:
            where.append("(question LIKE ? OR answer LIKE ?)")
            args += [f"%{search}%", f"%{search}%"]
        if status:
            where.append("ended_by = ?")
            args.append(status)
        if since is not None:
            where.append("started >= ?")
            args.append(since)
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY started DESC LIMIT ?"
        args.append(limit)
        cols = [
            "id",
            "started",
            "elapsed_s",
            "question",
            "root_model",
            "ended_by",
            "exit_code",
            "n_findings",
            "context_id",
        ]
        return [dict(zip(cols, row)) for row in self.db.execute(sql, args)]

    def count(self) -> int:
        """How many runs are recorded."""
        return int(self.db.execute("SELECT COUNT(*) FROM runs").fetchone()[0])

    def rm(self, run_id: str) -> str:
        """Delete one run; returns its id."""
        rid = self.get(run_id)["run_id"]
        with self.db:
            self.db.execute("DELETE FROM runs WHERE id = ?", (rid,))
        return rid

    def prune(self, *, keep_days: float) -> int:
        """Delete runs older than ``keep_days``; returns how many."""
        cutoff = time.time() - keep_days * 86400
        with self.db:
            cur = self.db.execute("DELETE FROM runs WHERE started < ?", (cutoff,))
        return cur.rowcount

    def close(self) -> None:
        """Close the database."""
        self.db.close()
