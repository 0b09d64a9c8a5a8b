"""Findings across runs: the same problem seen again is counted, not raised again.

A finding's identity is its entity plus a template of its summary (lower case, numbers,
hex, addresses and quoted values replaced by ``<*>``), so "DIMM_B2: 14 correctable errors"
and "DIMM_B2: 31 correctable errors" on node09 are one problem. Each stored finding has a
short ``id``, ``first_seen``, ``last_seen``, ``count`` (runs that saw it), the latest
severity, summary and evidence, and a ``status``: open or resolved. A resolved finding
that is seen again is reopened and alerts again.
"""

from __future__ import annotations

import hashlib
import re

from rlm_cli.engine.findings import severity_rank
from rlm_cli.errors import UsageError

_VARIABLE = re.compile(
    r"\b0x[0-9a-f]+\b|\b[0-9a-f]{8,}\b|\b\d+(?:[.:/-]\d+)*\b|\"[^\"]*\"|'[^']*'", re.IGNORECASE
)
_SPACE = re.compile(r"\s+")


def template(summary: str) -> str:
    """The summary with its variable parts replaced by ``<*>``."""
    t = _VARIABLE.sub("<*>", summary.strip().lower())
    return _SPACE.sub(" ", t).strip(" .;:,!")


def finding_key(entity: str, summary: str) -> str:
    """The identity of a finding across runs: a short hash of entity and template."""
    raw = f"{entity.strip().lower()}\0{template(summary)}"
    return hashlib.sha256(raw.encode()).hexdigest()[:10]


class FindingsStore:
    """The findings of every run so far; a view over the list kept in the scan state."""

    def __init__(self, records: list[dict]) -> None:
        self.records = records
        self._by_id = {r["id"]: r for r in records}

    def merge(self, findings: list[dict], *, run_id: str, when: float) -> list[dict]:
        """Add this run's verified findings; returns them with id, status and counts.

        ``status`` is ``new``, ``repeat`` (open and seen before) or ``reopened``. Two
        findings of one run with the same identity become one.
        """
        out: dict[str, dict] = {}
        for f in findings:
            if not f.get("verified"):
                continue
            fid = finding_key(f.get("entity", ""), f.get("summary", ""))
            if fid in out:  # the same problem twice in one run: keep the graver, pool evidence
                prev = out[fid]
                if severity_rank(f["severity"]) > severity_rank(prev["severity"]):
                    prev["severity"] = f["severity"]
                prev["evidence"] = (prev["evidence"] + f.get("evidence", []))[:20]
                continue
            rec = self._by_id.get(fid)
            if rec is None:
                status = "new"
                rec = {
                    "id": fid,
                    "entity": f.get("entity", ""),
                    "template": template(f.get("summary", "")),
                    "first_seen": when,
                    "count": 0,
                    "status": "open",
                }
                self.records.append(rec)
                self._by_id[fid] = rec
            else:
                status = "reopened" if rec["status"] == "resolved" else "repeat"
            rec.update(
                severity=f["severity"],
                summary=f.get("summary", ""),
                evidence=f.get("evidence", [])[:20],
                last_seen=when,
                last_run=run_id,
                count=rec["count"] + 1,
                status="open",
            )
            rec.pop("resolved_at", None)
            out[fid] = {
                **f,
                "id": fid,
                "status": status,
                "count": rec["count"],
                "first_seen": rec["first_seen"],
                "last_seen": when,
            }
        return list(out.values())

    def resolve(self, fid: str, *, when: float) -> dict:
        """Mark a finding resolved (by id or unique id prefix); returns it."""
        hits = [r for r in self.records if r["id"].startswith(fid)] if fid else []
        if not hits:
            raise UsageError(f"no finding {fid!r} in this scan's state (see --findings)")
        if len(hits) > 1:
            raise UsageError(f"finding id {fid!r} is ambiguous ({len(hits)} match)")
        hits[0]["status"] = "resolved"
        hits[0]["resolved_at"] = when
        return hits[0]

    def open(self) -> list[dict]:
        """Findings not marked resolved, gravest first."""
        live = [r for r in self.records if r["status"] == "open"]
        return sorted(live, key=lambda r: (-severity_rank(r["severity"]), -r["last_seen"]))
