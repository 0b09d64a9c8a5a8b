"""The log map of a context: templates, per-line severity, entities, rates over time.

Built once per context in one streaming pass (header split → severity → entities →
template mining), cached in ``<context>/logmap/``, and loaded read-only by the REPL
worker, which cannot write. Memory is bounded: per line only a template id (4 bytes)
and a severity (1 byte) are kept; entities are capped at ``MAX_ENTITIES`` with a
bounded sample of lines each.

Build it in the parent with :func:`ensure_logmap` before the worker starts.
"""

from __future__ import annotations

import math
import os
import re
from array import array
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from rlm_cli import paths
from rlm_cli.errors import StoreError
from rlm_cli.logs.entities import Entity, extract
from rlm_cli.logs.headers import HeaderModel, load_formats
from rlm_cli.logs.severity import Severity, classify, header_level
from rlm_cli.logs.templates import MinerConfig, MiningResult, Template, TemplateMiner
from rlm_cli.plain import pick
from rlm_cli.store.context import Context
from rlm_cli.store.timeindex import TimeIndex

MAP_DIR = "logmap"

VERSION = 2
MAX_ENTITIES = 20_000
SAMPLE_LINES = 20
MAX_LINK_ROWS = 8_000_000
"""Cap on (line, entity) pairs kept while building (8 bytes each: 64 MB at worst)."""
BUCKETS = 8
MAX_HOSTS_PER_PART = 64
HEADER_SAMPLE = 2000
SEVERITY_WEIGHT = {
    Severity.WARNING: 1.0,
    Severity.ERROR: 4.0,
    Severity.CRITICAL: 8.0,
    Severity.FATAL: 16.0,
}


@dataclass
class EntityStats:
    """What the map knows about one entity (a host, a DIMM, a fan...)."""

    key: str
    kind: str
    names: list[str] = field(default_factory=list)
    count: int = 0
    first_line: int = 0
    last_line: int = 0
    severities: Counter = field(default_factory=Counter)
    templates: Counter = field(default_factory=Counter)
    severe_lines: list[int] = field(default_factory=list)
    sample_lines: list[int] = field(default_factory=list)
    buckets: dict[int, list[int]] = field(default_factory=dict)
    hosts: set[str] = field(default_factory=set)  # hosts named on its lines (parts only)

    def to_json(self) -> dict:
        """The form stored in entities.json."""
        return pick(
            self,
            "key kind names count first_line last_line severities templates severe_lines"
            " sample_lines buckets hosts",
            severities={Severity(int(k)).name.lower(): v for k, v in self.severities.items()},
            templates={str(k): v for k, v in self.templates.most_common(50)},
            buckets={str(k): v for k, v in self.buckets.items()},
            hosts=len(self.hosts),
        )


class LogMap:
    """A built map, loaded from a context folder."""

    def __init__(
        self,
        folder: Path,
        mining: MiningResult,
        severity: array,
        summary: dict,
        entities: list[dict],
    ):
        self.folder = folder
        self.mining = mining
        self.severity = severity
        self.summary = summary
        self.entities = entities
        self._by_id = {t.id: t for t in mining.templates}

    @classmethod
    def load(cls, context_folder: Path) -> LogMap | None:
        """The cached map of a context, or None when it was not built."""
        folder = Path(context_folder) / MAP_DIR
        try:
            summary = orjson.loads((folder / "summary.json").read_bytes())
            if summary.get("version") != VERSION:
                return None
            entities = orjson.loads((folder / "entities.json").read_bytes())
            sev = array("B")
            sev.frombytes((folder / "severity.u8").read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return None
        return cls(folder, MiningResult.load(folder), sev, summary, entities)

    def template(self, tid: int) -> Template:
        """The template with id ``tid``."""
        try:
            return self._by_id[int(tid)]
        except (KeyError, ValueError, TypeError):
            raise KeyError(f"no template {tid!r}; see context.templates()") from None

    def template_info(self, t: Template) -> dict:
        """A template with its severity, time span and trend."""
        extra = self.summary["templates"].get(str(t.id), {})
        return {
            "id": t.id,
            "pattern": t.pattern,
            "count": t.count,
            "severity": extra.get("severity", "info"),
            "first_line": t.first_line,
            "first_time": extra.get("first_time"),
            "last_time": extra.get("last_time"),
            "rising": extra.get("rising", False),
            "hosts": extra.get("hosts", 0),
            "examples": t.examples,
        }

    def named_in(self, text: str, kind: str | None = None) -> list[str]:
        """The entities (of ``kind``) that ``text`` names as whole words, in the order it
        first names them."""
        at: dict[str, int] = {}
        for e in self.entities:
            if kind and e["kind"] != kind:
                continue
            names = e["names"] or [e["key"]]
            m = re.search(entity_pattern(names), text, re.IGNORECASE)
            if m:
                at[names[0]] = m.start()
        return sorted(at, key=at.__getitem__)

    def lines_of(self, tid: int) -> list[int]:
        """Line numbers of every line of template ``tid``."""
        self.template(tid)
        tid = int(tid)
        return [i + 1 for i, a in enumerate(self.mining.assignments) if a == tid]


# -- building --------------------------------------------------------------------------------


def _bucket_of(t: float | None, line: int, span: tuple, n_lines: int) -> int:
    lo, hi = span
    if t is not None and lo is not None and hi is not None and hi > lo:
        return min(BUCKETS - 1, int((t - lo) / (hi - lo) * BUCKETS))
    return min(BUCKETS - 1, (line - 1) * BUCKETS // max(1, n_lines))


def _rising(buckets: list[int]) -> bool:
    """More in the later half than twice the earlier half (and enough events to tell)."""
    half = len(buckets) // 2
    early, late = sum(buckets[:half]), sum(buckets[half:])
    return early + late >= 4 and late >= 2 * max(1, early)


def ensure_time_index(context: Context) -> TimeIndex:
    """The context's time index (the store builds and caches it; one builder, one year rule)."""
    return context.time_index()


def user_formats() -> list:
    """Log formats the user added in ``<config dir>/formats.yaml`` (tried before learned ones)."""
    path = paths.config_dir() / "formats.yaml"
    return load_formats(path) if path.is_file() else []


def learn_header(head: list[str], *, user: bool = True) -> HeaderModel:
    """The header model the map uses, learned from the first lines (``user``: with the
    user's ``formats.yaml`` tried first)."""
    return HeaderModel.learn(head, formats=user_formats() if user else ())


def learn_source(header: HeaderModel, sample: list[str]) -> bool:
    """At the start of another input file (a folder of different logs): learn its layout
    from its first lines now, rather than after the miner has seen hundreds of misses or
    while a shorter layout of another file fits it loosely. True when one was added."""
    lines = [line for line in sample if line.strip()]
    return bool(lines) and not header.json and header.add_layout(lines)


def ensure_logmap(context: Context) -> LogMap:
    """The context's log map, built (in this process) if missing; cached with the context."""
    found = LogMap.load(context.path)
    if found is not None:
        return found
    build_logmap(context)
    loaded = LogMap.load(context.path)
    if loaded is None:  # pragma: no cover - build wrote it just now
        raise StoreError(f"cannot read the log map just written in {context.path}")
    return loaded


def build_logmap(context: Context) -> None:
    """One pass over the context; writes ``<context>/logmap/`` atomically."""
    times = ensure_time_index(context)
    span = times.span()
    n = context.line_count
    sources = [src for src in context.sources() if src.get("lines")]
    first_end = sources[0]["last_line"] if sources else n
    head = context.lines(1, min(n, HEADER_SAMPLE, max(1, first_end)))
    header = learn_header(head)
    source_starts = {src["first_line"]: src["last_line"] for src in sources[1:]}
    miner = TemplateMiner(header, MinerConfig())
    severity = array("B")
    entities: dict[str, EntityStats] = {}
    link_lines, link_entities = (
        array("I"),
        array("I"),
    )  # (line, entity) to count each entity's templates
    entity_ids: dict[str, int] = {}
    sev_counts: Counter = Counter()
    caches: tuple[dict, dict] = ({}, {})
    batch: list[str] = []
    line_no = 0
    for line in context:
        line_no += 1
        if line_no in source_starts:  # the miner finishes the last file under its layouts
            if batch:
                miner.add_many(batch)
                batch = []
            learn_source(header, context.lines(line_no, min(source_starts[line_no], line_no + 199)))
        batch.append(line)
        sev, ents = scan_line(line, header, caches)
        severity.append(int(sev))
        sev_counts[sev.name.lower()] += 1
        t = times.time_of(line_no)
        b = _bucket_of(t, line_no, span, n)
        on_hosts = [e.key for e in ents if e.kind == "host"]
        for ent in ents:
            key = f"{ent.kind}:{ent.key}"
            st = entities.get(key)
            if st is None:
                if len(entities) >= MAX_ENTITIES:
                    continue
                st = entities[key] = EntityStats(key=ent.key, kind=ent.kind, first_line=line_no)
            if ent.name not in st.names and len(st.names) < 5:
                st.names.append(ent.name)
            if on_hosts and ent.kind != "host" and len(st.hosts) < MAX_HOSTS_PER_PART:
                st.hosts.update(on_hosts)
            if st.last_line != line_no:
                st.count += 1
                st.last_line = line_no
                st.severities[int(sev)] += 1
                if sev >= Severity.WARNING:
                    st.buckets.setdefault(int(sev), [0] * BUCKETS)[b] += 1
                    if len(st.severe_lines) < SAMPLE_LINES:
                        st.severe_lines.append(line_no)
                if len(st.sample_lines) < SAMPLE_LINES:
                    st.sample_lines.append(line_no)
            if (ent.kind == "host" or sev >= Severity.WARNING) and len(link_lines) < MAX_LINK_ROWS:
                link_lines.append(line_no)
                link_entities.append(entity_ids.setdefault(key, len(entity_ids)))
        if len(batch) >= 4096:
            miner.add_many(batch)
            batch = []
    if batch:
        miner.add_many(batch)
    mining = miner.result()
    keys = list(entity_ids)
    _attach_templates(mining, entities, zip(link_lines, (keys[i] for i in link_entities)))
    summary = _summary(context, mining, severity, times, span, sev_counts, entities)
    _write(context.path / MAP_DIR, mining, severity, summary, entities)


_NONZERO = str.maketrans("23456789", "11111111")
"""Fold digits 2-9 to 1: same length, same spans; zero stays distinct (``0 errors``)."""
CACHE_CAP = 200_000
_IP = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")


def scan_line(line: str, header: HeaderModel, caches: tuple[dict, dict]) -> tuple[Severity, list]:
    """Severity and entities of one line (the header's, then the body's): see
    :func:`scan_line_parts`."""
    sev, head, ents, _ = scan_line_parts(line, header, caches)
    return sev, head + ents


def scan_line_parts(
    line: str, header: HeaderModel, caches: tuple[dict, dict]
) -> tuple[Severity, list[Entity], list[Entity], str]:
    """``(severity, header entities, body entities, body)`` of one line, reusing work across
    lines with the same body. Header entities are placed in ``line``, body entities in
    ``body``; the header names the machine that wrote the line.

    Severity is cached by body with its non-zero digits folded (``0 errors`` stays
    distinct from ``5 errors``); entities of the body by the exact body; the short
    header part is scanned each time (it names the host).
    """
    sev_cache, ent_cache = caches
    level = None
    if header.formats:
        h = header.split(line)
        bs, level = h.body_start, h.fields.get("level")
        name = h.fields.get("host")
        at = line.find(name, 0, bs) if name else -1
        host = (at, at + len(name)) if at >= 0 and name else None
    else:
        bs, host = header.locate(line)
        stated = header_level(line[:bs]) if bs else None
        level = stated.name if stated is not None else None
    body = line[bs:]
    key = (level, body.translate(_NONZERO))
    sev = sev_cache.get(key)
    if sev is None:
        if len(sev_cache) >= CACHE_CAP:
            sev_cache.clear()
        sev = sev_cache[key] = classify(body, level)
    ents = _entities(body, ent_cache)
    if not bs:
        return sev, [], ents, body
    head = _entities(line[:bs], ent_cache)
    if host is not None and not any(e.start <= host[0] < e.end for e in head):
        name = line[host[0] : host[1]]
        head = [e for e in head if e.end <= host[0] or e.start >= host[1]]
        head.append(Entity("ip" if _IP.fullmatch(name) else "host", name, *host))
        head.sort(key=lambda e: e.start)
    return sev, head, ents, body


def _entities(text: str, cache: dict) -> list[Entity]:
    """Entities of ``text``, cached by its shape: digits 1-9 folded to 1 keep every span in
    place, so the spans found once are read back from each line's own characters."""
    key = text.translate(_NONZERO)
    spans = cache.get(key)
    if spans is None:
        if len(cache) >= CACHE_CAP:
            cache.clear()
        spans = cache[key] = [(e.kind, e.start, e.end) for e in extract(text)]
    return [Entity(kind, text[a:b], a, b) for kind, a, b in spans]


def _attach_templates(
    mining: MiningResult, entities: dict[str, EntityStats], links: list[tuple[int, str]]
) -> None:
    """Count each entity's templates (hosts: every line; other entities: their severe lines)."""
    assign = mining.assignments
    for line_no, key in links:
        st = entities.get(key)
        if st is not None:
            st.templates[int(assign[line_no - 1])] += 1


def _summary(context, mining, severity, times, span, sev_counts, entities) -> dict:
    n = context.line_count
    per_t: dict[int, dict] = {}
    buckets: dict[int, list[int]] = defaultdict(lambda: [0] * BUCKETS)
    for i, tid in enumerate(mining.assignments):
        line = i + 1
        d = per_t.get(tid)
        t = times.time_of(line)
        sev = severity[i]
        if d is None:
            d = per_t[tid] = {"severity": sev, "first_time": t, "last_time": t}
        else:
            d["severity"] = max(d["severity"], sev)
            if t is not None:
                d["first_time"] = t if d["first_time"] is None else min(d["first_time"], t)
                d["last_time"] = t if d["last_time"] is None else max(d["last_time"], t)
        buckets[tid][_bucket_of(t, line, span, n)] += 1
    hosts_per_t: Counter = Counter()
    for st in entities.values():
        if st.kind == "host":
            for tid in st.templates:
                hosts_per_t[tid] += 1
    templates = {}
    for tid, d in per_t.items():
        templates[str(tid)] = {
            "severity": Severity(d["severity"]).name.lower(),
            "first_time": d["first_time"],
            "last_time": d["last_time"],
            "rising": _rising(buckets[tid]),
            "buckets": buckets[tid],
            "hosts": hosts_per_t.get(tid, 0),
        }
    return {
        "version": VERSION,
        "lines": n,
        "time_span": list(span),
        "lines_with_time": times.count_with_time(),
        "severity_counts": dict(sev_counts),
        "templates": templates,
        "header": {"layouts": len(getattr(mining, "layouts", []) or [])},
    }


def concern_score(st: dict, template_info: dict[str, dict]) -> float:
    """How much an entity deserves a look: severe events that are specific to it and rising.

    Each of its templates counts ``weight(severity) × (1 + ln count) / hosts sharing it``,
    doubled when that template is rising; events many hosts share (fan blips on every node)
    weigh little, events only this entity has weigh fully. A part (a DIMM, a sensor) whose
    name appears on several hosts is several parts: its score is divided by their number,
    so ``Memory #0x87`` of a whole fleet does not outrank the one node that is failing.
    """
    score = 0.0
    for tid, count in st.get("templates", {}).items():
        info = template_info.get(tid, {})
        w = SEVERITY_WEIGHT.get(Severity[info.get("severity", "info").upper()], 0.0)
        if not w:
            continue
        spread = max(1, info.get("hosts", 1))
        score += w * (1 + math.log(count)) / spread * (2.0 if info.get("rising") else 1.0)
    if st.get("kind") != "host":
        score /= max(1, st.get("hosts", 1))
    return round(score, 2)


def _write(
    folder: Path,
    mining: MiningResult,
    severity: array,
    summary: dict,
    entities: dict[str, EntityStats],
) -> None:
    tmp = folder.with_name(f".{folder.name}.tmp{os.getpid()}")
    tmp.mkdir(parents=True, exist_ok=True)
    try:
        mining.save(tmp)
        (tmp / "severity.u8").write_bytes(severity.tobytes())
        rows = [st.to_json() for st in entities.values()]
        for r in rows:
            r["score"] = concern_score(r, summary["templates"])
        rows.sort(key=lambda r: (-r["score"], -r["count"], r["key"]))
        (tmp / "entities.json").write_bytes(orjson.dumps(rows))
        (tmp / "summary.json").write_bytes(orjson.dumps(summary))
        if folder.exists():
            import shutil

            shutil.rmtree(folder)
        os.replace(tmp, folder)
    except OSError as e:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
        raise StoreError(f"cannot write the log map in {folder}: {e.strerror or e}") from e


def entity_pattern(names: list[str]) -> str:
    """A regex matching any spelling of an entity as a whole word."""
    alts = "|".join(re.escape(n) for n in sorted(set(names), key=len, reverse=True))
    return rf"(?<![\w-])(?:{alts})(?![\w-])"
