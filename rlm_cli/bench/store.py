"""Bench results kept as JSON files: ``<data dir>/bench/<id>.json``."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import orjson

from rlm_cli import paths
from rlm_cli.errors import StoreError


def bench_dir() -> Path:
    """Folder of saved bench results."""
    return paths.data_dir() / "bench"


def save_result(doc: dict[str, Any], folder: Path | None = None) -> Path:
    """Write one bench result atomically (temp file + rename); returns its path."""
    folder = folder or bench_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".bench-", suffix=".json")
        with os.fdopen(fd, "wb") as f:
            f.write(orjson.dumps(doc, option=orjson.OPT_INDENT_2))
        path = folder / f"{doc['id']}.json"
        os.replace(tmp, path)
    except OSError as e:
        raise StoreError(f"cannot save the bench result in {folder}: {e}") from e
    return path


def list_results(folder: Path | None = None) -> list[dict[str, Any]]:
    """Saved bench results, newest first (unreadable files are skipped)."""
    folder = folder or bench_dir()
    out = []
    for p in sorted(folder.glob("*.json"), reverse=True) if folder.is_dir() else []:
        try:
            out.append(orjson.loads(p.read_bytes()))
        except (OSError, orjson.JSONDecodeError):
            continue
    return out


def load_result(bench_id: str, folder: Path | None = None) -> dict[str, Any]:
    """One saved bench result by id or unique prefix."""
    folder = folder or bench_dir()
    names = sorted(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []
    hits = [n for n in names if n == bench_id] or [n for n in names if n.startswith(bench_id)]
    if not bench_id or not hits:
        raise StoreError(f"no bench result {bench_id!r} (see: rlm bench list)")
    if len(hits) > 1:
        raise StoreError(f"bench id {bench_id!r} is ambiguous ({len(hits)} match)")
    try:
        return orjson.loads((folder / f"{hits[0]}.json").read_bytes())
    except (OSError, orjson.JSONDecodeError) as e:
        raise StoreError(f"cannot read bench result {hits[0]}: {e}") from e
