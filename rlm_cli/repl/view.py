"""What the model's code sees as ``context``: the store's read API and nothing else.

The real :class:`~rlm_cli.store.context.Context` holds file objects, a memory map and
its folder's path. The view forwards only the names in ``MODEL_API``, and keeps the
real object under an underscore name the language guard never lets code reach.
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Mapping

from rlm_cli.store.closest import (
    closest_lines,
    gapped,
    inflected,
    literal,
    loosened,
    reordered,
    synonymous,
    trimmed,
)
from rlm_cli.store.context import MODEL_API, Context, template_regex

MAP_API = ("templates", "rare", "lines_of", "entities", "by_entity", "top", "timeline")
"""Names served by the log map (:class:`rlm_cli.logs.queries.MapQueries`)."""


class ContextView:
    """A read-only facade over a Context (and its log map) for model code."""

    __slots__ = ("_ctx", "_map", "_searches")

    def __init__(self, ctx: Context, queries=None, question: str = "") -> None:
        object.__setattr__(self, "_ctx", ctx)
        object.__setattr__(self, "_map", queries)
        related = _related(queries, question)
        searches = {n: _noting_empty(getattr(ctx, n), n, ctx, related) for n in ("grep", "count")}
        if queries is not None:
            searches["top"] = _top_rewritten(queries.top, ctx, related)
        object.__setattr__(self, "_searches", searches)

    def __getattr__(self, name: str):
        if name in self._searches:
            return self._searches[name]
        if name in MODEL_API:
            return getattr(self._ctx, name)
        if name in MAP_API:
            if self._map is None:
                raise AttributeError(
                    f"context.{name}() needs the log map, which was not built for this run"
                )
            return getattr(self._map, name)
        raise AttributeError(
            f"context has no {name!r}; available: {', '.join(MODEL_API + MAP_API)}"
        )

    def __setattr__(self, name: str, value) -> None:
        raise AttributeError("context is read-only")

    def __len__(self) -> int:
        return len(self._ctx)

    def __getitem__(self, key):
        return self._ctx[key]

    def __iter__(self):
        return iter(self._ctx)

    def __repr__(self) -> str:
        return repr(self._ctx)

    def __dir__(self):
        return list(MODEL_API + MAP_API)


NEAR_MISSES = "the lines sharing most of its words are:"
"""How an empty search's notice introduces the closest lines (the loop looks for it)."""
NEAR_QUESTION = "the first lines of the kinds closest to the question are:"
"""How it introduces, when no line shares the search's words, the lines of the templates
closest to the question (the loop looks for it too)."""
OTHER_WORDS = "The log may say it in other words"
"""What every empty search's notice says (the loop looks for it)."""

COUNT_NOTICES = 5
"""How many times a session's count() says its result in words (a loop over hosts would
otherwise print one line per call)."""


def clip_line(line: str, width: int = 240) -> str:
    """A long line cut in the middle: its start (time, source) and its end (where a log
    puts the value: the node excluded, the path, the address) both stay in view. The cut
    falls between words where it can: a word cut in two reads as a value (the 1.5B model
    answered 'ome/curi/.zookeeper', the end of '/home/curi/.zookeeper')."""
    if len(line) <= width:
        return line
    keep = width // 3
    head, tail = line[: width - keep - 3], line[-keep:]
    if line[len(head)] != " ":  # the head ends inside a word: end it at the word before
        space = head.rfind(" ")
        head = head[:space] if space > len(head) // 2 else head
    if line[-keep - 1] != " ":  # the tail starts inside a word: start at the next one
        space = tail.find(" ")
        tail = tail[space + 1 :] if 0 <= space < len(tail) // 2 else tail
    return f"{head} … {tail}"


REWRITES = 5
"""How many empty searches a session answers with the results of the same words written
another way (each try is a scan of the log; a loop over hosts would make many)."""

_SEARCH_PARAMS = ("ignore_case", "max", "also")
"""grep's and count's parameters after the pattern, in order (count has the first only)."""


def search_pattern(pattern, name: str) -> tuple[str, bool]:
    """What a search looks for, and whether it ignores case: a string as given; a row of
    ``context.templates()`` or ``rare()`` (a mapping with a ``pattern``) the regex of its
    template (its text literal: ``|`` in an IPMI line is no alternation); a compiled regex
    its source and its IGNORECASE flag. A small model passes the rows it was given (the
    1.5B model wrote ``context.count(t) for t in context.templates()``); anything else is
    refused, saying what a pattern is."""
    if isinstance(pattern, str):
        return pattern, False
    if isinstance(pattern, re.Pattern) and isinstance(pattern.pattern, str):
        return pattern.pattern, bool(pattern.flags & re.IGNORECASE)
    if isinstance(pattern, Mapping) and isinstance(pattern.get("pattern"), str):
        return template_regex(pattern["pattern"]), False
    raise TypeError(
        f"context.{name}() takes a regex string (or a row of context.templates()), "
        f"not {type(pattern).__name__}"
    )


def _as_regex(pattern: str) -> str:
    """A pattern as the model would write it in code: ``r"..."`` (backslashes single)."""
    return f'r"{pattern}"' if '"' not in pattern else repr(pattern)


def rewrites(pattern: str, ignore_case: bool, ctx: Context):
    """The same words written the ways the log may write them (other case, regex characters
    as plain text, other separators, two parts the other way round, without little words
    at an end, other endings, other words for the same thing, other text between the
    parts), each that matches some line, as (pattern, how): "showing results for". A small
    model reads "0 lines" past a notice that names the right line, and answers 0."""
    for other, how in (
        (None if ignore_case else pattern, "in another case"),
        (literal(pattern), "as plain text (its ( ) [ ] + ? are not regex there)"),
        (loosened(pattern), "with other separators"),
        (reordered(pattern), "the other way round"),
        (trimmed(pattern), "without little words at its start or end"),
        (inflected(pattern), "with other word endings"),
        *((other, "in other words for the same thing") for other in synonymous(pattern)),
        (gapped(pattern), "with other text between its parts"),
    ):
        if other and ctx.count(other, ignore_case=True):
            yield other, how


def _instead(name: str, pattern: str, how: str, other: str) -> str:
    return (
        f"[{name}: no line matches {pattern!r}; the log writes it {how}: "
        f"results for {_as_regex(other)} (ignore_case=True) instead]"
    )


def _related(queries, question: str):
    """The lines of the templates closest to ``question`` (computed once, on first need);
    None without a log map or a question."""
    if queries is None or not question.strip():
        return None
    found: list = []

    def lines():
        if not found:
            found.append(queries.related_lines(question))
        return found[0]

    return lines


def _top_rewritten(top, ctx: Context, related=None):
    """The log map's ``top`` that, when its pattern matches no line, ranks the lines of the
    first rewrite that matches (saying so), the way grep does; else it shows the closest
    lines, as grep does."""

    def call(pattern, by: str = "host", n: int = 10, ignore_case: bool = False):
        pattern, nocase = search_pattern(pattern, "top")
        ignore_case = ignore_case or nocase
        with contextlib.redirect_stdout(io.StringIO()) as said:
            result = top(pattern, by=by, n=n, ignore_case=ignore_case)
        # an empty table may still come from matching lines that name nothing: ask the store
        if result or not isinstance(pattern, str) or ctx.count(pattern, ignore_case=ignore_case):
            print(said.getvalue(), end="")
            return result
        if call.rewrites < REWRITES:
            for other, how in rewrites(pattern, ignore_case, ctx):
                call.rewrites += 1
                print(_instead("top", pattern, how, other))
                return top(other, by=by, n=n, ignore_case=True)
        _say_empty("top", pattern, ctx, related)
        return result

    call.__doc__ = top.__doc__
    call.__name__ = "top"
    call.rewrites = 0
    return call


def _say_empty(name: str, pattern, ctx: Context, related=None) -> None:
    """What an empty search prints: the lines sharing most of the pattern's words, else the
    first lines of the kinds of line closest to the question (``related``), else where to
    look."""
    near = closest_lines(ctx, pattern) if isinstance(pattern, str) else []
    intro = NEAR_MISSES
    if not near and related is not None:
        near, intro = related(), f"no line shares its words; {NEAR_QUESTION}"
    if near:
        shown = "\n".join(f"{n}: {clip_line(line)}" for n, line in near)
        cut = next((n for n, line in near if clip_line(line) != line), None)
        whole = f" (cut in the middle: context.line({cut}) prints a line whole)" if cut else ""
        print(
            f"[{name}: no line matches {pattern!r}. {OTHER_WORDS}; {intro}{whole}\n"
            f"{shown}\n"
            "If one of them is the line you look for, it answers the question: answer "
            "from it, or search with its own words to list all such lines.]"
        )
    else:
        print(
            f"[{name}: no line matches {pattern!r}. {OTHER_WORDS}: look at the templates "
            "in the brief, or try a shorter or broader pattern with ignore_case=True, before "
            "you conclude there is none]"
        )


def _noting_empty(search, name: str, ctx: Context, related=None):
    """``search`` (grep or count) that, when nothing matched, says so and helps: a small
    model otherwise answers "0" or "none" from one pattern in its own words, not the log's.

    When the same words match written another way (other case, other separators, two parts
    the other way round), it returns those results instead, saying so (a few times a
    session); else it prints the lines sharing most of the pattern's words."""

    def call(pattern, *args, **kwargs):
        pattern, nocase = search_pattern(pattern, name)
        if nocase and not args:
            kwargs["ignore_case"] = True
        found = search(pattern, *args, **kwargs)
        given = {**dict(zip(_SEARCH_PARAMS, args)), **kwargs}
        if found and name == "count" and call.said < COUNT_NOTICES:
            # the bare number printed beside sample hits was misread (a line number taken
            # for the count); a sentence is not
            call.said += 1
            print(f"[count: {found:,} lines match {pattern!r}]")
        if not found and isinstance(pattern, str) and call.rewrites < REWRITES:
            for other, how in rewrites(pattern, bool(given.get("ignore_case")), ctx):
                # with also=, the rewrite's lines must hold that too: its notes wait
                with contextlib.redirect_stdout(io.StringIO()) as notes:
                    again = search(other, **{**given, "ignore_case": True})
                if again:
                    call.rewrites += 1
                    print(_instead(name, pattern, how, other))
                    print(notes.getvalue(), end="")
                    return again
        also = given.get("also")
        alone = (
            ctx.count(pattern, ignore_case=True)
            if not found and also and isinstance(pattern, str)
            else 0
        )
        if alone:  # the pattern is right; the lines it finds do not name the other one
            print(
                f"[{name}: {alone:,} lines match {pattern!r} (ignoring case), none of them "
                f"also {also!r}]"
            )
        elif not found:
            _say_empty(name, pattern, ctx, related)
        return found

    call.__doc__ = search.__doc__
    call.__name__ = name
    call.said = 0
    call.rewrites = 0
    return call
