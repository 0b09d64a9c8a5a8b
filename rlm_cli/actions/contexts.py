"""`rlm contexts list | show ID | rm ID... | gc`: look after the context store."""

from __future__ import annotations

import contextlib
import re
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import orjson

from rlm_cli.actions.ingest import Inputs, ingest_inputs, summary
from rlm_cli.errors import UsageError
from rlm_cli.store.context import Context
from rlm_cli.store.contexts import ContextStore, temporary_store


@dataclass(kw_only=True)
class LookRequest(Inputs):
    """Where a command that only looks (grep, brief, templates) reads from."""

    context_id: str | None = None
    keep: bool = False
    """Keep the stored copy of named inputs as a context (else it is removed after)."""


@contextlib.contextmanager
def looked_at(req: LookRequest, warn: Callable[[str], None] | None = None) -> Iterator[Context]:
    """The context a command that only looks reads: a stored one (``--context ID``), or the
    inputs stored for the command alone and removed after it, unless ``req.keep`` (then it
    stays, and ``warn`` says under which id)."""
    warn = warn or (lambda _m: None)
    if req.context_id:
        if req.paths:
            raise UsageError("give either --context ID or input paths, not both")
        ctx = ContextStore().open(req.context_id)
        try:
            yield ctx
        finally:
            ctx.close()
        return
    if req.keep:
        store = ContextStore()
        meta = ingest_inputs(req, store=store, warn=warn)
        warn(f"kept a copy as context {meta['id']} (reuse: --context {meta['id'][:12]})")
        ctx = Context(store.root / meta["id"])
        try:
            yield ctx
        finally:
            ctx.close()
        return
    with temporary_store() as store:
        meta = ingest_inputs(req, store=store, warn=warn)
        ctx = Context(store.root / meta["id"])
        try:
            yield ctx
        finally:
            ctx.close()


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


_AGE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_SIZE_UNITS = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12}


def parse_age(text: str, option: str = "--older-than") -> float:
    """Seconds from ``90`` (seconds), ``30m``, ``12h``, ``7d`` or ``2w``."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*", text.lower())
    if not m:
        raise UsageError(f"{option} {text!r}: expected an age like 3600, 30m, 12h, 7d or 2w")
    return float(m.group(1)) * _AGE_UNITS[m.group(2) or "s"]


def parse_size(text: str, option: str = "--max-size") -> int:
    """Bytes from ``5G``, ``500M``, ``2.5GB``, ``1024`` (decimal units, as `contexts list`)."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)b?\s*", text.lower())
    if not m:
        raise UsageError(f"{option} {text!r}: expected a size like 500M, 5G or 1T")
    return int(float(m.group(1)) * _SIZE_UNITS[m.group(2)])


def gc_contexts(
    *, older_than: str | None = None, max_size: str | None = None, json: bool = False
) -> int:
    """Remove leftovers of interrupted work and damaged contexts (older than ``older_than``,
    default an hour); with ``older_than``, also contexts unused that long; with
    ``max_size``, the least recently used contexts until the store fits."""
    unused_for = parse_age(older_than) if older_than is not None else None
    max_bytes = parse_size(max_size) if max_size is not None else None
    store = ContextStore()
    removed = store.gc(older_than_s=3600.0 if unused_for is None else unused_for)
    pruned = []
    if unused_for is not None or max_bytes is not None:
        pruned = store.prune(unused_for_s=unused_for, max_bytes=max_bytes)
    freed = sum(size for _, size, _ in pruned)
    if json:
        _json(
            {
                "removed": removed,
                "contexts": [{"id": i, "bytes": b, "why": w} for i, b, w in pruned],
                "freed_bytes": freed,
            }
        )
        return 0
    for r in removed:
        _out(f"removed {r}")
    for ctx_id, size, why in pruned:
        _out(f"removed {ctx_id} ({_human_bytes(size)}, {why})")
    if not removed and not pruned:
        sys.stderr.write("rlm: nothing to clean up\n")
    elif pruned:
        sys.stderr.write(f"rlm: freed {_human_bytes(freed)}\n")
    return 0
