"""Lines that share the words of a search that matched nothing: "did you mean" for logs.

A small model greps the question's phrasing ("GPU.*fall off the bus") where the log says
it otherwise ("GPU has fallen off the bus"), gets nothing, and concludes there is nothing,
or sends the same search again. When a search matches no line, the REPL shows the lines
that share most of its words (by prefix, so "failure" finds "FAILED"), most shared first;
when the search names an identifier (``part-01730``, ``cn034``, an address) in words of its
own, the lines naming that identifier come first.
A phrase of plain words the log writes with other separators ("OOM Killer" for
"oom-killer") is searched again with loose separators first (:func:`loosened`), log text
with regex characters as plain text (:func:`literal`: ``pam_unix(sshd:auth)``), two
parts joined by ``.*`` the other way round (:func:`reordered`), and its words with any
ending (:func:`inflected`: "fall off the bus" for "fallen off the bus"), and with an
operator's word the log writes otherwise (:func:`synonymous`: "power supply" as ``psu``),
and its parts in order with other text between them (:func:`gapped`: a copied line that
skipped ``ruser=``), and without little words at its edges (:func:`trimmed`: "authentication
failure from" where the log writes ``authentication failure; ... rhost=``); the search
returns those results, saying so.
"""

from __future__ import annotations

import re
from importlib import resources

import yaml

from rlm_cli.store.context import Context, Hits

_WORD = re.compile(r"(?<![\\])[A-Za-z][A-Za-z0-9_]{2,}")
_STOP_WORDS = (
    "the and for with from that this was were has have had are not any all its into "
    "log line lines which what when who how did does why host node"
)
_STOP = frozenset(_STOP_WORDS.split())
MAX_WORDS = 8
"""Words of the pattern considered (the first ones, after dropping common words)."""
SCAN_HITS = 500
"""Lines read per rare word when looking for lines that share several words."""


_PHRASE = re.compile(r"[A-Za-z0-9]+(?:[ _-][A-Za-z0-9]+)+")
_SEPARATOR = re.compile(r"[ _-]")


def loosened(pattern: str) -> str | None:
    """For a pattern of plain words joined by spaces, hyphens or underscores, the regex that
    takes any of those (or nothing) between the words: ``OOM Killer`` -> ``OOM[-_ ]?Killer``;
    None for any other pattern."""
    if not _PHRASE.fullmatch(pattern):
        return None
    return _SEPARATOR.sub("[-_ ]?", pattern)


_META = frozenset("()[]{}+?|^$")


def literal(pattern: str) -> str | None:
    """For a pattern that copies log text holding regex characters (``pam_unix(sshd:auth):
    authentication failure``, ``[SAT]``), the same text escaped; None when the pattern has a
    backslash or ``.*`` (regex written on purpose) or no such character."""
    if "\\" in pattern or ".*" in pattern or not _META.intersection(pattern):
        return None
    return re.sub(r"([.^$*+?{}\[\]()|])", r"\\\1", pattern)


def _synonym_groups() -> tuple[tuple[str, ...], ...]:
    text = resources.files("rlm_cli").joinpath("data/synonyms.yaml").read_text("utf-8")
    return tuple(tuple(str(w).lower() for w in group) for group in yaml.safe_load(text) or [])


SYNONYMS = _synonym_groups()
"""Read when this module is imported: the REPL's worker imports it before its sandbox
leaves no files to read."""


def synonymous(pattern: str) -> list[str]:
    """For a pattern holding a phrase of a group in ``data/synonyms.yaml`` ("power supply"),
    the pattern with that phrase as each other member of its group (``psu``, ``power unit``),
    longest phrase first; [] when it holds none. Only the phrase changes: the rest of the
    pattern, regex or not, stays the model's."""
    out: list[str] = []
    low = pattern.lower()
    members = sorted(((w, g) for g in SYNONYMS for w in g), key=lambda item: -len(item[0]))
    for word, group in members:
        m = re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", low)
        if m is None:
            continue
        for other in group:
            if other != word:
                candidate = pattern[: m.start()] + other + pattern[m.end() :]
                if candidate not in out:
                    out.append(candidate)
        break
    return out


def reordered(pattern: str) -> str | None:
    """For a pattern of two parts joined by ``.*`` (``bmc.*10.20.8.188``), the same two parts
    the other way round; None for any other pattern, or when the parts are not regexes of
    their own (``a.*?b``, ``x[.*]y``). Lines that hold both are what such a search means;
    which comes first is the log's business."""
    parts = pattern.split(".*")
    if len(parts) != 2 or not all(p.strip() for p in parts):
        return None
    first, second = parts
    if any(c in p for p in parts for c in "|()[]") or second[0] in "?+{" or first.endswith("\\"):
        return None
    swapped = f"{second}.*{first}"
    try:
        re.compile(swapped)
        re.compile(first)
    except re.error:
        return None
    return swapped


_LEADING_WORDS = frozenset(
    ["from", "for", "by", "to", "on", "at", "in", "of", "with", "via", "the", "a", "an"]
)
_TRAILING_WORDS = _LEADING_WORDS - {"on", "in"}
"""Little words that need more after them; not "on" nor "in", which end a verb at the end of
a phrase ("logged in", "turned on": without them the phrase means its opposite too)."""


def trimmed(pattern: str) -> str | None:
    """For a phrase of three or more plain words that begins or ends with little words
    (``authentication failure from``), the phrase without them (``authentication
    failure``): the log may write what follows in a field of its own (``rhost=...``). None
    for any other pattern, or when fewer than two words would be left."""
    if not _PLAIN.fullmatch(pattern) or ".*" in pattern:
        return None
    words = pattern.split()
    if len(words) < 3:
        return None
    start, end = 0, len(words)
    while end - start > 2 and words[end - 1].lower() in _TRAILING_WORDS:
        end -= 1
    while end - start > 2 and words[start].lower() in _LEADING_WORDS:
        start += 1
    if (start, end) == (0, len(words)):
        return None
    return " ".join(words[start:end])


def gapped(pattern: str) -> str | None:
    """For a pattern whose parts are separated by spaces (``tty=NODEVssh rhost=.* root``),
    the regex that lets other text stand where each space is (``tty=NODEVssh.*?rhost=.*.*?
    root``): the model copied a line and left out a field. None when the pattern has no such
    space, or one inside ``[...]``, ``{...}`` or after a backslash (regex written on purpose)."""
    out: list[str] = []
    depth = 0
    escaped = False
    changed = False
    for ch in pattern:
        if escaped:
            if ch == " ":
                return None
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth = max(0, depth - 1)
        elif ch == " ":
            if depth:
                return None
            if out and out[-1] != ".*?":
                out.append(".*?")
                changed = True
            continue
        out.append(ch)
    result = "".join(out).strip()
    if not changed or result.startswith(".*?") or result.endswith(".*?"):
        return None
    try:
        re.compile(result)
    except re.error:
        return None
    return result


def _stem(word: str) -> str:
    """A word cut to the prefix its inflections share: six or more letters lose up to three."""
    return word[: max(4, len(word) - 3)] if len(word) > 5 else word


_PLAIN = re.compile(r"[A-Za-z0-9 _:/.,'-]+(?:\.\*[A-Za-z0-9 _:/.,'-]+)*")
_ENDING = re.compile(r"(?<![\\\w])([A-Za-z]{4,})(?!\w)")
_SUFFIX = re.compile(r"(?:ing|ed|en|es|s|ure|ions?)$")


def _any_ending(word: str) -> str:
    """``fallen`` -> ``fall\\w*``; an acronym (all capitals) stays as it is."""
    if word.isupper():
        return word
    stem = _SUFFIX.sub("", word)
    return (stem if len(stem) >= 4 else word) + r"\w*"


def inflected(pattern: str) -> str | None:
    """For a pattern of plain words (and ``.*`` between them), the regex that takes each word
    of four or more letters with any ending: ``GPU.*fall off the bus`` -> ``GPU.*fall\\w* off
    the bus``, ``failure`` -> ``fail\\w*``; acronyms stay. None for any other pattern, or when
    no word would change."""
    if not _PLAIN.fullmatch(pattern):
        return None
    out = _ENDING.sub(lambda m: _any_ending(m.group(1)), pattern)
    if out == pattern:
        return None
    out = re.sub(r"\.(?!\*)", r"\.", out)  # a dot in plain words is a dot
    try:
        re.compile(out)
    except re.error:
        return None
    return out


def stems(pattern: str, limit: int | None = MAX_WORDS) -> list[str]:
    """Lower-cased word stems of a regex or phrase: common words dropped, long words cut
    to a prefix (``failure`` -> ``fail``, ``imminent`` -> ``immin``); the first ``limit``
    (None: all)."""
    out: list[str] = []
    for word in _WORD.findall(pattern):
        w = word.lower()
        if w in _STOP:
            continue
        stem = _stem(w)
        if stem not in out:
            out.append(stem)
    return out[:limit]


_IDENTIFIER = re.compile(
    r"(?<![\w.\\-])(?:(?=[\w.-]*[A-Za-z])(?=[\w.-]*\d)[A-Za-z0-9][\w.-]*[A-Za-z0-9]"
    r"|\d{1,3}(?:\.\d{1,3}){3}|\d{5,})(?![\w\\-])"
)
"""A name with digits (``part-01730``, ``blk_38865049064139660``, ``cn034``), an IPv4 address
or a number of five or more digits (not a year nor a port), as written in a pattern of
plain words (not a regex fragment such as ``cn0`` of ``cn0\\d+``)."""


def identifiers(pattern: str) -> list[str]:
    """The identifiers a pattern names (:data:`_IDENTIFIER`), a trailing full stop dropped."""
    found = (m.group(0).rstrip(".") for m in _IDENTIFIER.finditer(pattern))
    return list(dict.fromkeys(t for t in found if t))


def closest_lines(context: Context, pattern: str, limit: int = 3) -> Hits:
    """Up to ``limit`` lines close to ``pattern``: those naming one of its identifiers
    (``part-01730`` in "allocated a block for part-01730"), else those sharing at least two
    (and half) of its word stems; those sharing most first. Empty when the pattern names no
    identifier the log holds and has fewer than two usable words."""
    named = _naming(context, pattern, limit)
    if named:
        return named
    words = stems(pattern)
    if len(words) < 2:
        return Hits()
    need = max(2, (len(words) + 1) // 2)
    rx = {w: re.compile(rf"\b{re.escape(w)}", re.IGNORECASE) for w in words}
    counts = {w: context.count(rx[w].pattern, ignore_case=True) for w in words}
    present = sorted((w for w in words if counts[w]), key=lambda w: counts[w])
    if len(present) < need:
        return Hits()
    scored: dict[int, tuple[int, str]] = {}
    for w in present[: len(present) - need + 1]:  # every line with `need` words has one of these
        for n, raw in context.search(rx[w].pattern, ignore_case=True, max_hits=SCAN_HITS):
            if n not in scored:
                line = raw.decode("utf-8", "replace")
                score = sum(1 for v in present if rx[v].search(line))
                if score >= need:
                    scored[n] = (score, line)
    best = sorted(scored.items(), key=lambda item: (-item[1][0], item[0]))[:limit]
    return Hits((n, line) for n, (_, line) in best)


def _naming(context: Context, pattern: str, limit: int) -> Hits:
    """The lines naming one of ``pattern``'s identifiers, as a whole word or as the first
    part of a compound name (``cn034`` in ``cn034-bmc``), those holding more of them and
    more of its words first, then those naming it as a whole word: an identifier picks the
    line out where the words around it are the model's own. Asked for cn034's BMC lease,
    the 1.5B model grepped ``cn034.*-bmc.*dhcp`` (the log writes ``dhcpd`` first), and was
    shown cn034's own leases, the decoy, not one of cn034-bmc's."""
    ids = identifiers(pattern)
    if not ids:
        return Hits()
    words = [re.compile(rf"\b{re.escape(w)}", re.IGNORECASE) for w in stems(pattern)]
    named = [re.compile(rf"(?<![\w.-]){re.escape(i)}(?!\w|-\d)", re.IGNORECASE) for i in ids]
    whole = [re.compile(rf"{r.pattern}(?!-)", re.IGNORECASE) for r in named]
    scored: dict[int, tuple[int, int, int, str]] = {}
    # whole-word names first: a compound's lines (600 cn034-bmc polls) must not use up the
    # scan before the identifier's own lines are reached
    for rx in [*whole, *named]:
        for n, raw in context.search(rx.pattern, ignore_case=True, max_hits=SCAN_HITS):
            if n in scored:
                continue
            line = raw.decode("utf-8", "replace")
            held = sum(1 for r in named if r.search(line))
            said = sum(1 for w in words if w.search(line))
            scored[n] = (held, said, sum(1 for r in whole if r.search(line)), line)
    best = sorted(scored.items(), key=lambda it: (-it[1][0], -it[1][1], -it[1][2], it[0]))
    return Hits((n, line) for n, (*_, line) in best[:limit])
