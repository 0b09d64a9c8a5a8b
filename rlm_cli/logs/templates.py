"""Template mining over message bodies: which kinds of lines a log holds.

Two stages:

1. Streaming (:meth:`TemplateMiner.add_many`). The header is cut off
   (:class:`~rlm_cli.logs.headers.HeaderModel`; a stream that switches to another
   kind of log gets another layout learned on the fly). The body's digits are
   normalised (``str.translate``, runs of digits folded to one) and that key is
   looked up in a cache; only on a miss is the body masked
   (:mod:`rlm_cli.logs.masking`) and looked up among the *signatures* (distinct
   masked bodies). Per line that is one header regex match, a translate and a dict
   lookup; the result is a signature index appended to a compact ``array('I')``.
   Memory is bounded: at most ``max_signatures`` signatures and ``max_fast_keys``
   cache entries (hashes) are kept, bodies are cut at ``max_body_chars``; past the
   signature cap a new signature is folded into the most similar one of the same
   shape, or into an overflow signature for its token count.
2. Merging (:meth:`TemplateMiner.finish`). Signatures are bucketed by token count
   and key word (a message's first word names its kind, as in Drain; decoration in
   front of it, ``[thread] a.b.Class -``, ``prog[pid]:``, ``key=value``, is skipped
   and is variable where it varies). Tokens are whitespace-split, a quoted phrase of
   four words or more counting as one. In a bucket, a position becomes a variable
   when it takes many values, or a few that look like values (paths, host names,
   ``key=value`` values) rather than wording (:func:`merge_signatures`); signatures
   equal outside the variable positions form one template. Template ids are
   1-based, in order of first appearance.
"""

from __future__ import annotations

import re
import sys
from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from rlm_cli.atomic import atomic_write
from rlm_cli.errors import StoreError
from rlm_cli.logs.headers import HeaderModel
from rlm_cli.logs.masking import MASK_PATTERN, WILDCARD
from rlm_cli.plain import pick

_MASK_SUB = MASK_PATTERN.sub
# Fast cache key: every digit becomes 0 (and stray CRs go), then runs of 0 shrink to
# one, so lines that differ only in their numbers share a key without running the
# mask regex (str.translate and str.replace run at C speed).
_DIGITS = str.maketrans("123456789", "000000000", "\r")


@dataclass
class Template:
    """One kind of line: its pattern, how often it occurs and where."""

    id: int
    pattern: str
    count: int
    first_line: int
    examples: list[int] = field(default_factory=list)

    def to_dict(self) -> dict:
        return pick(self, "id pattern count first_line examples")


@dataclass
class MinerConfig:
    """Knobs of the miner; the defaults work across log types."""

    header_sample: int = 500  # lines used to learn the header model in mine()
    max_signatures: int = 30_000  # distinct masked bodies kept (memory bound)
    max_fast_keys: int = 100_000  # digit-normalised bodies cached, as hashes (memory bound)
    max_body_chars: int = 1000  # longer message bodies are grouped on their start
    relearn_after: int = 300  # header-less lines that trigger learning another layout
    max_examples: int = 5
    similarity: float = 0.5  # share of agreeing tokens needed to merge signatures
    max_tokens: int = 256  # bodies longer than this are keyed on their first tokens


@dataclass
class _Sig:
    tokens: tuple[str, ...]
    count: int
    first_line: int
    examples: list[int]


class TemplateMiner:
    """Streams lines into signatures, then merges them into templates."""

    def __init__(self, header: HeaderModel | None = None, config: MinerConfig | None = None):
        self.header = header if header is not None else HeaderModel.empty()
        self.config = config or MinerConfig()
        self._ids: dict[str, int] = {}  # masked body -> signature index
        self._fast: dict[int, int] = {}  # hash of digit-normalised body -> signature
        self._raw: dict[int, str] = {}  # signature -> a line no layout matched then
        self._missed: list[str] = []  # recent lines no header layout matched
        self._miss_backoff = 0
        self._hits = 0  # matched lines seen since the miss buffer started
        self._sigs: list[_Sig] = []
        self._assign = array("I")  # signature index per line
        self._overflow: dict[int, int] = {}  # token count -> overflow signature index
        self._remap: list[int] | None = None  # signature index -> final template id
        self._templates: list[Template] | None = None

    @property
    def lines(self) -> int:
        """Number of lines added so far."""
        return len(self._assign)

    def add(self, line: str) -> int:
        """Add one line; return its provisional template id (merges happen in finish)."""
        self.add_many((line,))
        return self._assign[-1] + 1

    def add_many(self, lines: Iterable[str]) -> None:
        """Add many lines; same result as calling :meth:`add` on each, but faster."""
        header = self.header
        fast_start = header.fast_start
        fast_get = self._fast.get
        slow = self._slow
        assign = self._assign
        append = assign.append
        table = _DIGITS
        cap = self.config.max_body_chars
        for line in lines:
            if line[-1:] in "\r\n":
                line = line.rstrip("\r\n")
            start = fast_start(line)
            raw = None
            if start < 0:
                start = self._unmatched(line)
                raw = line
            elif self._missed:
                self._hits += 1
                if self._hits > len(self._missed):  # sporadic misses: not a new source
                    self._missed.clear()
                    self._hits = 0
            body = line[start : start + cap]
            if len(body) == cap:  # cut at a space, not inside a token
                body = body[: body.rfind(" ") + 1 or cap]
            key = body.translate(table)
            while "00" in key:
                key = key.replace("00", "0")
            key = hash(key)  # ints keep the cache's memory small whatever the lines
            sid = fast_get(key)
            if sid is None:
                sid = slow(body, key, len(assign) + 1, raw)
            append(sid)
        self._templates = None

    def _unmatched(self, line: str) -> int:
        """A line no header layout matched: tolerant split, and learn a new layout
        once enough such lines have been seen (a second kind of log in the stream)."""
        buf = self._missed
        if len(buf) < self.config.relearn_after:
            buf.append(line[:500])  # only the start matters for learning a header
        else:
            self._miss_backoff -= 1
            if self._miss_backoff <= 0:
                added = self.header.add_layout(buf)
                buf.clear()
                self._hits = 0
                self._miss_backoff = 0 if added else 4 * self.config.relearn_after
                if added:
                    start = self.header.fast_start(line)
                    if start >= 0:
                        return start
        # Tolerant split (one odd column) only for lines that start like a header;
        # indented continuation lines and stack traces are all body.
        if line[:1].strip() and self.header.starts_like_header(line):
            return self.header.body_start(line)
        return 0

    def _slow(self, body: str, fast_key: int, n: int, raw: str | None) -> int:
        """First sight of a digit-normalised body: mask it properly, find its signature."""
        key = _MASK_SUB(WILDCARD, body)
        sid = self._ids.get(key)
        if sid is None:
            sid = self._new_signature(key, n)
            if raw is not None and self._ids.get(key) == sid:  # a new, kept signature
                self._raw[sid] = raw[: 500 + self.config.max_body_chars]
        if len(self._fast) >= self.config.max_fast_keys:
            self._fast.clear()  # a cache: dropping it costs speed, never correctness
        self._fast[fast_key] = sid
        return sid

    def _new_signature(self, key: str, n: int) -> int:
        tokens = tokens_of(key)[: self.config.max_tokens]
        if len(self._sigs) < self.config.max_signatures:
            sid = len(self._sigs)
            self._sigs.append(_Sig(tokens, 0, n, []))
            self._ids[key] = sid
            return sid
        # Over the cap: fold into the closest kept signature of the same shape.
        return self._closest(tokens)

    def _closest(self, tokens: tuple[str, ...]) -> int:
        """Best kept signature for ``tokens`` once the cap is reached (bounded work)."""
        index = self._shape_index()
        cands = index.get((len(tokens), tokens[0] if tokens else ""), ())
        best, best_sim = -1, -1.0
        for sid in cands[:200]:
            s = _similarity(self._sigs[sid].tokens, tokens)
            if s > best_sim:
                best, best_sim = sid, s
        if best >= 0 and best_sim >= self.config.similarity:
            return best
        n = len(tokens)
        if n not in self._overflow:
            # one overflow signature per token count; replaces nothing, grows by one
            self._overflow[n] = len(self._sigs)
            self._sigs.append(_Sig(tuple([WILDCARD] * n), 0, len(self._assign) + 1, []))
        return self._overflow[n]

    def _shape_index(self) -> dict[tuple[int, str], list[int]]:
        idx = getattr(self, "_shape_idx", None)
        if idx is None or self._shape_idx_size != len(self._sigs):
            idx = {}
            for sid, sig in enumerate(self._sigs):
                t = sig.tokens
                idx.setdefault((len(t), t[0] if t else ""), []).append(sid)
            self._shape_idx = idx
            self._shape_idx_size = len(self._sigs)
        return idx

    # -- merging ---------------------------------------------------------------

    def _tally(self) -> None:
        """Counts and example lines per signature, from the assignment array."""
        sigs = self._sigs
        for sig in sigs:
            sig.count = 0
            sig.examples = []
        for sid, c in Counter(self._assign).items():
            sigs[sid].count = c
        want = self.config.max_examples
        missing = sum(1 for s in sigs if s.count)
        for n, sid in enumerate(self._assign, start=1):
            ex = sigs[sid].examples
            if len(ex) < want:
                ex.append(n)
                if len(ex) == want or len(ex) == sigs[sid].count:
                    missing -= 1
                    if missing == 0:
                        break

    def _rekey(self) -> None:
        """Signatures made before their source's header layout was learned: cut the
        header now so they join the signatures of the later lines."""
        for sid, raw in self._raw.items():
            start = self.header.fast_start(raw)
            if start > 0:
                cap = self.config.max_body_chars
                body = raw[start : start + cap]
                if len(body) == cap:  # the same cut as in add_many
                    body = body[: body.rfind(" ") + 1 or cap]
                key = _MASK_SUB(WILDCARD, body)
                self._sigs[sid].tokens = tokens_of(key)[: self.config.max_tokens]

    def finish(self) -> list[Template]:
        """Merge signatures into templates and return them, ids in order of first line."""
        if self._templates is not None:
            return self._templates
        self._tally()
        self._rekey()
        groups = merge_signatures([s.tokens for s in self._sigs], [s.count for s in self._sigs])
        # groups: signature index -> group index; build templates ordered by first line
        members: dict[int, list[int]] = {}
        for sid, g in enumerate(groups):
            members.setdefault(g, []).append(sid)
        order = sorted(
            (g for g in members if sum(self._sigs[s].count for s in members[g]) > 0),
            key=lambda g: min(self._sigs[s].first_line for s in members[g]),
        )
        remap = [0] * len(self._sigs)
        templates = []
        for tid, g in enumerate(order, start=1):
            sids = members[g]
            for s in sids:
                remap[s] = tid
            sigs = [self._sigs[s] for s in sids]
            examples = sorted(e for s in sigs for e in s.examples)[: self.config.max_examples]
            templates.append(
                Template(
                    id=tid,
                    pattern=_pattern([s.tokens for s in sigs]),
                    count=sum(s.count for s in sigs),
                    first_line=min(s.first_line for s in sigs),
                    examples=examples,
                )
            )
        self._remap = remap
        self._templates = templates
        return templates

    def assignments(self) -> array:
        """Final template id of every line, in line order (a new ``array('I')``)."""
        self.finish()
        remap = self._remap or []
        return array("I", (remap[s] for s in self._assign))

    def result(self) -> MiningResult:
        """Templates and per-line assignments, ready to save."""
        return MiningResult(self.finish(), self.assignments())


# -- signature merging -----------------------------------------------------------


_QUOTED_RUN = re.compile(r'"[^"]{0,200}"\S*|\S+')


def tokens_of(body: str) -> tuple[str, ...]:
    """A masked body's tokens: split on whitespace, but a double-quoted phrase of four
    words or more is one token (a user agent, a quoted error text), so its length does not
    split templates; shorter ones (``"GET /x HTTP/1.1"``) are wording and split as usual."""
    if '"' not in body:
        return tuple(body.split())
    out: list[str] = []
    for tok in _QUOTED_RUN.findall(body):
        if tok[0] == '"' and tok.count(" ") < 3:
            out.extend(tok.split())
        else:
            out.append(tok)
    return tuple(out)


def _similarity(a: Sequence[str], b: Sequence[str]) -> float:
    if len(a) != len(b) or not a:
        return 1.0 if a == b else 0.0
    same = sum(1 for x, y in zip(a, b, strict=True) if x == y)
    return same / len(a)


_WORD = re.compile(r"^[(\['\"]?[A-Za-z][A-Za-z_']*[)\]'\"]?[.,:;!?]*$")


_HIGH_CARDINALITY = 16
_ENUM = re.compile(r"^[A-Z][A-Z0-9_]*[.,:;]?$")
_KEY = re.compile(r"^[\w.\-]+[=:]")
_RUNS = re.compile(r"(?:[A-Za-z0-9_\-]|<\*>)+")


def _value_like(vals: set[str]) -> bool:
    """True when a few differing tokens still look like values, not wording.

    ``key=value`` tokens sharing a key are judged by their values. Values count when
    none is a plain word or identifier and either all have the same punctuation
    skeleton (``a.b.c`` host names, ``/x/y`` paths) or one is a bare masked variable
    (an IP beside host names). So ``(uid=0)`` vs ``LOGIN(uid=0)``, ``tty=:0`` vs
    ``tty=NODEVssh`` or ``alt0`` vs ``ee0`` stay apart.
    """
    keys = {m.group() if (m := _KEY.match(v)) else "" for v in vals}
    if len(keys) == 1 and "" not in keys:
        k = len(next(iter(keys)))
        vals = {v[k:] for v in vals}
    skeletons = set()
    for v in vals:
        if _WORD.match(v) is not None or not any(c.isalnum() for c in v.replace(WILDCARD, "x")):
            return False  # a word, or bare punctuation (a fan reading of ``****``)
        if "/" in v:
            skeletons.add("/")
            continue
        sk = _RUNS.sub("w", v)
        if sk == "w" and v != WILDCARD and not (WILDCARD in v and WILDCARD in vals):
            return False  # an identifier (``alt0``, ``eth1``), not a value
        skeletons.add(sk)
    # one skeleton (host names, paths), or a bare variable beside other forms of it
    return len(skeletons) == 1 or WILDCARD in vals


def _collapse(tokens: tuple[str, ...]) -> tuple[str, ...]:
    """Fold runs of one repeated masked token (``blk_<*> blk_<*> ...``) into one; bare
    ``<*>`` fields stay (a table's columns, an access log's numbers keep their places)."""
    out: list[str] = []
    for t in tokens:
        if out and t == out[-1] and WILDCARD in t and t != WILDCARD:
            continue
        out.append(t)
    return tuple(out) if len(out) != len(tokens) else tokens


def merge_signatures(
    sigs: Sequence[tuple[str, ...]], counts: Sequence[int], min_values: int = 4
) -> list[int]:
    """Group signature token tuples into templates; returns a group index per signature.

    Each signature's *key word* is its first word after any decoration that header
    material leaves in front of a message (``[thread] a.b.Class -``, ``prog[<*>]:``,
    ``key=value`` fields, ``[client <*>]``; :func:`_key_index`). Signatures are bucketed
    by token count, key word and its position. In a bucket, a decoration position that
    varies is a variable; after the key word, a position whose tokens take at least
    ``min_values`` distinct values is a variable; the signatures that agree on every other
    position form one template. Positions with only a few distinct words
    (``password``/``none``, ``failure``/``failures``) are wording and keep templates apart.
    """
    sigs = [_collapse(t) for t in sigs]
    buckets: dict[tuple[int, str, int], list[int]] = {}
    for i, t in enumerate(sigs):
        k = _key_index(t) if t else -1
        buckets.setdefault((len(t), t[k] if k >= 0 else "", k), []).append(i)
    group = list(range(len(sigs)))
    first_of: dict[tuple[str, ...], int] = {}
    for i, t in enumerate(sigs):
        group[i] = first_of.setdefault(t, i)
    for (_, _, k), members in buckets.items():
        if len(members) < 2:
            continue
        variable = _variable_positions([sigs[i] for i in members], min_values, k)
        if not variable:
            continue
        keys: dict[tuple[str, ...], int] = {}
        for i in members:
            toks = list(sigs[i])
            for p in variable:
                toks[p] = WILDCARD
            group[i] = keys.setdefault(tuple(toks), group[i])
    return group


_SEPARATORS = frozenset({"-", "|", "--", "::", ">", ">>", "-->", "=>"})
_MSG_KEYS = ("msg=", "message=", "msg:", "message:")
_MAX_PREFIX = 8


def _decoration(tok: str, in_bracket: bool) -> bool:
    """A token that decorates a message rather than says something: bracketed groups,
    ``key=value`` fields (not ``msg=``), ``file.go:<*>]``, ``prog[<*>]:``, ``AH<*>:``."""
    if in_bracket or tok[0] in "[(<{" or tok[-1] in "])}>" or (tok[0] == '"' and " " in tok):
        return True  # brackets; a quoted phrase is a value (a request line, a user agent)
    if "=" in tok[1:] and not tok.startswith(_MSG_KEYS) and tok[0].isalpha():
        return True
    return tok[-1] == ":" and (WILDCARD in tok or "[" in tok or "(" in tok)


def _identifier(tok: str) -> bool:
    """A name rather than a word: dotted, snake, Camel, with digits or a variable."""
    core = tok.strip("[]():,")
    return (
        not core
        or "." in core
        or "_" in core
        or WILDCARD in core
        or any(c.isdigit() for c in core)
        or (core[:1].isupper() and any(c.isupper() for c in core[1:]))
    )


def _key_index(tokens: Sequence[str]) -> int:
    """Position of the word that names a message's kind (see :func:`merge_signatures`).

    Decoration (:func:`_decoration`) and tokens without a letter are skipped; a
    separator (``-``, ``|``) after only decoration and identifiers (``[main]
    a.b.Class -``) ends the decoration too. When everything up to ``_MAX_PREFIX`` is
    decoration (``eid=<*> class=x pool=<*>``), the first token with a letter is the key.
    """
    first_alpha = -1
    key = -1
    depth = 0
    names_only = True
    n = min(len(tokens), _MAX_PREFIX)
    for i in range(n):
        tok = tokens[i]
        if tok in _SEPARATORS:
            if names_only and key >= 0:
                key = -1  # "[main] a.b.Class - msg": the message starts after the separator
            continue
        has_alpha = any(c.isalpha() for c in tok.replace(WILDCARD, ""))
        if has_alpha and first_alpha < 0:
            first_alpha = i
        deco = _decoration(tok, depth > 0)
        depth += tok.count("[") - tok.count("]")
        depth = max(depth, 0)
        if not has_alpha or deco:
            continue
        if key < 0:
            key = i
        if not _identifier(tok):
            names_only = False
        if not names_only or i - key > 1:
            break
    if key >= 0:
        return key
    for i in range(n, len(tokens)):  # decoration all the way: the first word after it
        tok = tokens[i]
        alpha = any(c.isalpha() for c in tok.replace(WILDCARD, ""))
        if alpha and tok not in _SEPARATORS and not _decoration(tok, False):
            return i
    if first_alpha < 0 or (tokens[first_alpha][0] == '"' and " " in tokens[first_alpha]):
        return -1  # no word names the kind: every position may vary
    return first_alpha


def _variable_positions(rows: list[tuple[str, ...]], min_values: int, key: int = 0) -> list[int]:
    """Positions (never the key word at ``key``) that behave as variables across ``rows``.

    Decoration before the key word is variable when it varies at all. After it, a
    position is variable when, among rows that agree everywhere else (positions
    already found variable aside), it takes ``min_values`` distinct values or a few
    values that look like values (:func:`_value_like`). Judging a position with the
    others held fixed keeps co-varying wording apart (``from NEW to RUNNING`` vs
    ``from RUNNING to DONE``). Over the whole bucket, a position with ``min_values``
    values is variable too unless they are all ALL_CAPS enum words (states, event
    types), and one with very many values (``_HIGH_CARDINALITY``) always is.
    """
    width = len(rows[0])
    variable: set[int] = {p for p in range(key) if len({r[p] for r in rows}) > 1}
    candidates = []
    for p in range(key + 1, width):
        vals = {r[p] for r in rows}
        if len(vals) < 2:
            continue  # constant across the bucket: wording
        if len(vals) >= _HIGH_CARDINALITY or (
            len(vals) >= min_values and not all(_ENUM.match(v) for v in vals)
        ):
            variable.add(p)
        else:
            candidates.append(p)
    changed = True
    rounds = 0
    while changed and candidates and rounds < 4:
        changed = False
        rounds += 1
        if variable:
            masked = [
                tuple(WILDCARD if q in variable else t for q, t in enumerate(r)) for r in rows
            ]
        else:
            masked = list(rows)
        for p in candidates:
            if p in variable:
                continue
            seen: dict[tuple[str, ...], set[str]] = {}
            for r in masked:
                seen.setdefault(r[:p] + r[p + 1 :], set()).add(r[p])
            for vals in seen.values():
                if len(vals) >= min_values or (len(vals) > 1 and _value_like(vals)):
                    variable.add(p)
                    changed = True
                    break
    return sorted(variable)


def _pattern(token_lists: list[tuple[str, ...]]) -> str:
    if not token_lists:
        return ""
    first = token_lists[0]
    if any(len(t) != len(first) for t in token_lists):
        return " ".join(first)
    out = list(first)
    for t in token_lists[1:]:
        for p, tok in enumerate(t):
            if out[p] != tok:
                out[p] = WILDCARD
    return " ".join(out)


# -- convenience and persistence ---------------------------------------------------


@dataclass
class MiningResult:
    """Templates plus the template id of every line."""

    templates: list[Template]
    assignments: array

    def save(self, folder: Path) -> None:
        """Write ``templates.json`` and ``assignments.u32`` into ``folder`` atomically."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        data = orjson.dumps(
            {
                "version": 1,
                "lines": len(self.assignments),
                "templates": [t.to_dict() for t in self.templates],
            }
        )
        atomic_write(folder / "templates.json", data)
        arr = self.assignments
        if not isinstance(arr, array) or arr.typecode != "I":
            arr = array("I", arr)
        if arr.itemsize != 4:  # pragma: no cover - exotic platforms
            raise StoreError("array('I') is not 32-bit on this platform")
        if sys.byteorder != "little":  # pragma: no cover
            arr = array("I", arr)
            arr.byteswap()
        atomic_write(folder / "assignments.u32", arr.tobytes())

    @classmethod
    def load(cls, folder: Path) -> MiningResult:
        """Read a result written by :meth:`save`."""
        folder = Path(folder)
        try:
            meta = orjson.loads((folder / "templates.json").read_bytes())
            raw = (folder / "assignments.u32").read_bytes()
        except (OSError, orjson.JSONDecodeError) as e:
            raise StoreError(f"cannot read template cache in {folder}: {e}") from e
        arr = array("I")
        try:
            arr.frombytes(raw)
        except ValueError as e:  # a length that is not a multiple of 4
            raise StoreError(f"template cache in {folder} is damaged: {e}") from e
        if sys.byteorder != "little":  # pragma: no cover
            arr.byteswap()
        if len(arr) != meta.get("lines"):
            raise StoreError(f"template cache in {folder} is inconsistent")
        templates = [Template(**t) for t in meta["templates"]]
        return cls(templates, arr)


def mine(
    lines: Iterable[str],
    header: HeaderModel | None = None,
    config: MinerConfig | None = None,
    batch: int = 4096,
) -> MiningResult:
    """Mine templates from lines, learning the header model from the first lines if needed."""
    config = config or MinerConfig()
    it = iter(lines)
    head: list[str] = []
    if header is None:
        for line in it:
            head.append(line)
            if len(head) >= config.header_sample:
                break
        header = HeaderModel.learn(head)
    miner = TemplateMiner(header, config)
    if head:
        miner.add_many(head)
    buf: list[str] = []
    for line in it:
        buf.append(line)
        if len(buf) >= batch:
            miner.add_many(buf)
            buf = []
    if buf:
        miner.add_many(buf)
    return miner.result()
