"""`rlm contexts list | show ID | rm ID... | gc`: look after the context store."""

from __future__ import annotations

import sys
import time

import orjson

from rlm_cli.actions.ingest import summary
from rlm_cli.store.contexts import ContextStore


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")


def _json(obj) -> None:
    sys.stdout.buffer.write(orjson.dumps(obj, option=orjson.OPT_INDENT_2) + b"\n")
    sys.stdout.flush()


def _human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"


def _sources_text(meta: dict) -> str:
    srcs = meta.get("sources", [])
    if not srcs:
        return "-"
    first = srcs[0]["path"]
    return first if len(srcs) == 1 else f"{first} (+{len(srcs) - 1} more)"


def list_contexts(*, json: bool = False) -> int:
    """Print every stored context, newest first."""
    store = ContextStore()
    metas = store.list()
    if json:
        _json([{**summary(m), "created": m.get("created")} for m in metas])
        return 0
    if not metas:
        sys.stderr.write(f"rlm: no contexts in {store.root}\n")
        return 0
    _out(f"{'ID':<16}  {'CREATED':<16}  {'LINES':>12}  {'SIZE':>9}  SOURCES")
    for m in metas:
        created = time.strftime("%Y-%m-%d %H:%M", time.localtime(m.get("created", 0)))
        _out(
            f"{m['id']:<16}  {created:<16}  {m['lines']:>12,}  "
            f"{_human_bytes(m['bytes']):>9}  {_sources_text(m)}"
        )
    return 0


def show_context(ctx_id: str, *, json: bool = False) -> int:
    """Print one context's metadata: sizes, time span, sources and their line ranges."""
    store = ContextStore()
    folder = store.resolve(ctx_id)
    meta = orjson.loads((folder / "meta.json").read_bytes())
    info = {**summary(meta), "created": meta.get("created"), "path": str(folder)}
    info["disk_bytes"] = store.usage(folder)
    damage = store.damage(folder)
    if damage:
        info["damaged"] = damage
    if json:
        _json(info)
        return 0
    _out(f"id:       {info['id']}")
    _out(f"path:     {info['path']}")
    _out(f"created:  {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(info['created'] or 0))}")
    _out(f"size:     {info['lines']:,} lines, {info['chars']:,} chars, {info['bytes']:,} bytes")
    _out(f"on disk:  {info['disk_bytes']:,} bytes (data, index, caches)")
    if info["first_time"]:
        _out(f"time:     {info['first_time']} .. {info['last_time']}")
    if damage:
        _out(f"DAMAGED:  {damage} (rlm contexts rm {info['id']})")
    _out(f"sources:  {len(info['sources'])}")
    for s in info["sources"]:
        a, b = s["line_range"]
        extra = f", {s['compression']}" if s["compression"] else ""
        when = f", {s['first_time']} .. {s['last_time']}" if s["first_time"] else ""
        _out(f"  lines {a:,}-{b:,}: {s['path']} ({s['bytes']:,} bytes{extra}{when})")
    for skipped in info["skipped"]:
        _out(f"  skipped: {skipped}")
    return 0


def remove_contexts(ids: list[str]) -> int:
    """Delete contexts by id (or unique prefix); all ids are checked before any is removed."""
    store = ContextStore()
    folders = [store.resolve(i) for i in ids]
    for folder in folders:
        store.rm(folder.name)
        _out(f"removed {folder.name}")
    return 0


def gc_contexts(*, older_than_s: float = 3600.0, json: bool = False) -> int:
    """Remove leftovers of interrupted ingests and damaged contexts."""
    removed = ContextStore().gc(older_than_s=older_than_s)
    if json:
        _json({"removed": removed})
    elif removed:
        for r in removed:
            _out(f"removed {r}")
    else:
        sys.stderr.write("rlm: nothing to clean up\n")
    return 0
