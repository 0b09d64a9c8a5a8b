"""The kinds of line closest to a question in its words.

A small model searches in the question's words ("znode already exists") where the log
writes its own ("Error:KeeperErrorCode = NodeExists"); when that search matches nothing and
no line shares its words, the templates that hold most of the question's rarer word stems
are the place to look. Template words are split at case changes as well as punctuation
(``NodeExists`` holds "node" and "exists"); a stem of four or more letters matches a word
it begins (``crea`` for "create"), a shorter one only itself; each stem weighs by how few
templates hold it (idf), so words every template holds ("error" in an error log) count for
little.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

from rlm_cli.logs.templates import Template
from rlm_cli.store.closest import stems

_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_PART = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+")
MIN_STEMS = 2
"""Stems of the question a template must hold to be shown."""


def template_words(pattern: str) -> set[str]:
    """The lower-cased words of a template: its tokens and their parts at case changes."""
    words: set[str] = set()
    for token in _TOKEN.findall(pattern.replace("<*>", " ")):
        words.add(token.lower())
        words.update(part.lower() for part in _PART.findall(token) if len(part) >= 2)
    return words


def _holds(words: set[str], stem: str) -> bool:
    return any(w.startswith(stem) for w in words) if len(stem) >= 4 else stem in words


def related_templates(
    question: str, templates: Iterable[Template], n: int = 3, min_stems: int = MIN_STEMS
) -> list[Template]:
    """Up to ``n`` templates holding at least ``min_stems`` of ``question``'s word stems,
    the highest idf-weighted share first (the rarer template first among equals)."""
    asked = stems(question, limit=None)
    if len(asked) < min_stems:
        return []
    pool = [(t, template_words(t.pattern)) for t in templates]
    held = {s: [i for i, (_, words) in enumerate(pool) if _holds(words, s)] for s in asked}
    idf = {s: math.log((len(pool) + 1) / (len(ids) + 0.5)) for s, ids in held.items() if ids}
    scores: dict[int, list[float]] = {}
    for s, ids in held.items():
        for i in ids:
            scores.setdefault(i, []).append(idf[s])
    ranked = sorted(
        (i for i, got in scores.items() if len(got) >= max(1, min_stems)),
        key=lambda i: (-sum(scores[i]), pool[i][0].count),
    )
    return [pool[i][0] for i in ranked[:n]]
