"""`rlm grep PATTERN (PATH... | --context ID)`: the search behind ``context.grep``, as grep.

Output follows grep: matching lines (raw bytes, as stored), prefixed with ``source:`` when
the context has several sources and with the line number in that source under ``-n``;
``-c`` prints the count (per source when several). Exit 0 when a line matched, 1 when none,
2 on errors.
"""

from __future__ import annotations

import bisect
import sys
from dataclasses import dataclass

from rlm_cli.actions.contexts import LookRequest
from rlm_cli.errors import UsageError
from rlm_cli.store.context import Context

EXIT_MATCH, EXIT_NONE = 0, 1


@dataclass
class GrepRequest(LookRequest):
    """Everything `rlm grep` was told."""

    pattern: str
    count: bool = False
    ignore_case: bool = False
    line_numbers: bool = False


def run_grep(req: GrepRequest) -> int:
    """Run `rlm grep`; returns 0 (matches), 1 (none); errors raise RlmError (exit 2).

    Named inputs are stored for this search only, unless ``req.keep``."""
    from rlm_cli.actions.contexts import looked_at

    with looked_at(req, warn=lambda m: sys.stderr.write(f"rlm: {m}\n")) as ctx:
        try:
            return _grep(ctx, req, sys.stdout.buffer)
        except ValueError as e:  # a bad regex
            raise UsageError(str(e)) from None
        finally:
            sys.stdout.flush()


def _grep(ctx: Context, req: GrepRequest, out) -> int:
    sources = ctx.sources()
    several = len(sources) > 1
    names = [s["path"].encode("utf-8", "surrogateescape") for s in sources]
    firsts = [s["first_line"] for s in sources]
    if req.count:
        if not several:
            n = ctx.count(req.pattern, ignore_case=req.ignore_case)
            out.write(b"%d\n" % n)
            return EXIT_MATCH if n else EXIT_NONE
        counts = [0] * len(sources)
        for line_no, _ in ctx.search(req.pattern, ignore_case=req.ignore_case):
            counts[bisect.bisect_right(firsts, line_no) - 1] += 1
        out.write(b"".join(b"%s:%d\n" % (nm, c) for nm, c in zip(names, counts)))
        return EXIT_MATCH if any(counts) else EXIT_NONE
    found = False
    buf: list[bytes] = []
    for line_no, raw in ctx.search(req.pattern, ignore_case=req.ignore_case):
        found = True
        if several or req.line_numbers:
            i = bisect.bisect_right(firsts, line_no) - 1
            prefix = names[i] + b":" if several else b""
            if req.line_numbers:
                prefix += b"%d:" % (line_no - firsts[i] + 1)
            buf.append(prefix + raw)
        else:
            buf.append(raw)
        if len(buf) >= 4096:
            out.write(b"\n".join(buf) + b"\n")
            buf.clear()
    if buf:
        out.write(b"\n".join(buf) + b"\n")
    return EXIT_MATCH if found else EXIT_NONE
