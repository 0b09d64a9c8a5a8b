"""Bench figures: accuracy and median wall time per mode, per family and per log size,
rlm-vs-direct deltas, and how the root turns went."""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from typing import Any


def _size_key(label: str) -> float:
    try:
        return float(label.rstrip("x"))
    except ValueError:
        return float("inf")


def _cell(rows: list[dict[str, Any]]) -> dict[str, Any]:
    n = len(rows)
    right = sum(1 for r in rows if r["correct"])
    return {
        "n": n,
        "correct": right,
        "accuracy": round(right / n, 4) if n else None,
        "median_wall_s": round(statistics.median(r["wall_s"] for r in rows), 2) if n else None,
    }


def _group(results: list[dict[str, Any]], key: str, modes: list[str]) -> dict[str, dict]:
    values: list[str] = []
    for r in results:
        if r[key] not in values:
            values.append(r[key])
    if key == "size":
        values.sort(key=_size_key)
    out: dict[str, dict] = {}
    for v in values:
        out[v] = {m: _cell([r for r in results if r[key] == v and r["mode"] == m]) for m in modes}
        out[v] = {m: c for m, c in out[v].items() if c["n"]}
    return out


def _delta(cells: dict[str, dict]) -> float | None:
    """rlm accuracy minus direct accuracy, in points (None unless both modes ran)."""
    a, b = cells.get("rlm"), cells.get("direct")
    if not a or not b or a["accuracy"] is None or b["accuracy"] is None:
        return None
    return round(100 * (a["accuracy"] - b["accuracy"]), 1)


def _median_of(rows: list[dict[str, Any]], key: str) -> float | None:
    values = [r[key] for r in rows if r.get(key) is not None]
    return round(statistics.median(values), 2) if values else None


def _first_token(rows: list[dict[str, Any]], modes: list[str]) -> dict[str, dict]:
    """Median seconds to the first root token per mode: in each task's first run (its log new
    to the model, only the system prompt cached) and in repeats (the log's head cached)."""
    out: dict[str, dict] = {}
    for m in modes:
        mine = [r for r in rows if r["mode"] == m]
        first = _median_of([r for r in mine if not r.get("repeat")], "first_token_s")
        again = _median_of([r for r in mine if r.get("repeat")], "first_token_s")
        if first is not None or again is not None:
            out[m] = {"new_log_median_s": first, "log_seen_median_s": again}
    return out


def summarise(results: Iterable[dict[str, Any]], modes: list[str]) -> dict[str, Any]:
    """The ``summary`` object of a bench result, from its ``results`` rows."""
    rows = list(results)
    overall = {m: _cell([r for r in rows if r["mode"] == m]) for m in modes}
    by_family = _group(rows, "family", modes)
    by_size = _group(rows, "size", modes)
    over_window = [r for r in rows if r["size_x"] > 1]
    rlm_rows = [r for r in rows if r["mode"] == "rlm"]
    turns = sum(r["root_turns"] for r in rlm_rows)
    return {
        "overall": overall,
        "by_family": by_family,
        "by_size": by_size,
        "over_window": {m: _cell([r for r in over_window if r["mode"] == m]) for m in modes},
        "delta_points": {
            "overall": _delta(overall),
            "by_family": {k: _delta(v) for k, v in by_family.items()},
            "by_size": {k: _delta(v) for k, v in by_size.items()},
        },
        "root_turns": {
            "total": turns,
            "ran_code_or_ended": sum(r["turns_ok"] for r in rlm_rows),
            "cut_at_max_tokens": sum(r["turns_cut"] for r in rlm_rows),
            "share_ok": round(sum(r["turns_ok"] for r in rlm_rows) / turns, 4) if turns else None,
        },
        "first_token": _first_token(rows, modes),
        "errors": sum(1 for r in rows if r.get("error")),
    }
