"""The REPL worker: a separate process that runs the model's code.

Started by :class:`rlm_cli.repl.session.ReplSession`. It talks to the parent over
its stdin and a duplicate of its stdout (fd 1 and 2 are then pointed at /dev/null so
nothing the code does can corrupt the channel). Variables persist between steps.
Models never live here: ``llm_query`` and friends send a request to the parent and
wait for the answer.

Keep imports light: worker start-up time is on every run's critical path.
"""

from __future__ import annotations

import ast
import itertools
import os
import sys
import time
import traceback
from typing import Any

from rlm_cli.repl import sandbox
from rlm_cli.repl.output import BoundedWriter, clip, exact_str, utf8_safe
from rlm_cli.repl.protocol import Channel
from rlm_cli.repl.view import ContextView
from rlm_cli.store.context import Chunk


class _State:
    def __init__(self, channel: Channel, max_output_chars: int) -> None:
        self.channel = channel
        self.max_output_chars = max_output_chars
        self.final: dict | None = None
        self.findings: list[dict] = []
        self.call_seq = 0

    def call(self, fn: str, args: dict) -> Any:
        """Ask the parent to run ``fn`` (a model call) and wait for its answer."""
        self.call_seq += 1
        cid = self.call_seq
        self.channel.send({"op": "call", "id": cid, "fn": fn, "args": args})
        while True:
            msg = self.channel.recv()
            if msg.get("op") == "reply" and msg.get("id") == cid:
                if msg.get("ok"):
                    return msg.get("value")
                raise RuntimeError(msg.get("error") or f"{fn} failed")


MAX_FINAL_CHARS = 4_000_000
"""The most of a FINAL value sent back (the run record keeps all of it, up to this)."""


MAX_PROMPT_CHARS = 4_000_000
"""The longest text one model call may carry (far past any local sub-model's window):
longer prompts are refused here, before they cross the pipe or enter the run's record."""

MAX_FINDINGS_PER_STEP = 100
_FINDING_FIELD_CHARS = {"entity": 200, "severity": 20, "summary": 2000}


def _clip(text: str, limit: int) -> str:
    return clip(text, limit)[0]


def _prompt_text(value: Any, what: str = "prompt") -> str:
    text = utf8_safe(exact_str(value))
    if len(text) > MAX_PROMPT_CHARS:
        raise ValueError(
            f"this {what} is {len(text):,} characters; a model call takes at most "
            f"{MAX_PROMPT_CHARS:,}, and the sub-model's window far less: nothing was sent. "
            "Send smaller pieces (e.g. context.chunks(...))"
        )
    return text


def _asked(value: Any) -> str | dict:
    """What a model call sends: the prompt's text; a piece of ``context.chunks()`` passed
    alone goes as its line range and text, and the parent asks the run's question of it."""
    if isinstance(value, Chunk):
        return {"lines": [value.start, value.end], "text": _prompt_text(value.text)}
    return _prompt_text(value)


def _final_text(value: Any) -> str:
    text = _as_text(value)
    if len(text) > MAX_FINAL_CHARS:
        text = (
            text[:MAX_FINAL_CHARS]
            + f"\n[... answer cut: {len(text) - MAX_FINAL_CHARS:,} more characters]"
        )
    return utf8_safe(text)


def _as_text(value: Any) -> str:
    if isinstance(value, (dict, list, tuple)):
        import json

        try:
            return exact_str(json.dumps(value, indent=2, default=str, ensure_ascii=False))
        except (TypeError, ValueError):
            pass
    return exact_str(value)


def _make_api(state: _State, ns: dict) -> dict:
    """The functions the model can call, closed over the worker state."""

    def llm_query(prompt: Any) -> str:
        """Ask the sub-model one question; returns its answer as a string."""
        return state.call("llm_query", {"prompt": _asked(prompt)})

    def llm_query_batched(prompts: Any) -> list[str]:
        """Ask the sub-model several independent questions at once; answers in order."""
        if isinstance(prompts, str) or not hasattr(prompts, "__iter__"):
            raise TypeError("llm_query_batched takes a list of prompt strings")
        texts, total = [], 0
        for p in prompts:
            texts.append(_asked(p))
            total += len(texts[-1]["text"] if isinstance(texts[-1], dict) else texts[-1])
            if total > MAX_PROMPT_CHARS:
                raise ValueError(
                    f"this batch is over {MAX_PROMPT_CHARS:,} characters in all: nothing was sent. "
                    "Send fewer or smaller pieces"
                )
        return state.call("llm_query_batched", {"prompts": texts})

    def rlm_query(prompt: Any, text: Any) -> str:
        """Start a child RLM on ``text`` (its own REPL and context) to answer ``prompt``."""
        prompt_text, body = _prompt_text(prompt), _prompt_text(text, "text")
        return state.call("rlm_query", {"prompt": prompt_text, "text": body})

    def FINAL(value: Any) -> None:  # noqa: N802 - the name the model is taught
        """End the run with ``value`` as the answer."""
        state.final = {"kind": "FINAL", "value": _final_text(value)}
        print("[FINAL answer recorded]")

    def FINAL_VAR(name: Any) -> None:  # noqa: N802
        """End the run with the value of the variable named ``name`` as the answer."""
        key = str(name).strip().strip("'\"")
        if key not in ns:
            user_vars = sorted(k for k in ns if not k.startswith("_") and k not in api_names)
            user_vars = [k for k in user_vars if not isinstance(ns[k], type(sys))]
            raise NameError(
                f"FINAL_VAR({key!r}): no variable named {key!r}; defined: "
                + (", ".join(user_vars[:30]) or "none")
            )
        state.final = {"kind": "FINAL_VAR", "name": key, "value": _final_text(ns[key])}
        print(f"[FINAL answer recorded from variable {key!r}]")

    def FINDING(entity: Any, severity: Any, summary: Any, lines: Any = ()) -> None:  # noqa: N802
        """Record a finding about ``entity`` citing context line numbers."""
        if isinstance(lines, int):
            lines = [lines]
        cited = []
        for x in itertools.islice(iter(lines), 50):  # an endless iterator is fine too
            if isinstance(x, (tuple, list)) and x:
                x = x[0]
            try:
                n = int(x)
            except (TypeError, ValueError, OverflowError):
                continue
            if -(2**63) <= n < 2**63:  # past 64 bits it is no line, and no JSON number
                cited.append(n)
        if len(state.findings) >= MAX_FINDINGS_PER_STEP:
            raise ValueError(f"at most {MAX_FINDINGS_PER_STEP} findings per step")
        given = {"entity": entity, "severity": severity, "summary": summary}
        finding: dict[str, Any] = {
            key: _clip(str(value), _FINDING_FIELD_CHARS[key]) for key, value in given.items()
        }
        finding["lines"] = cited
        state.findings.append(finding)
        print(f"[finding recorded: {entity} ({severity}), {len(cited)} line(s) cited]")

    api = {
        "llm_query": llm_query,
        "llm_query_batched": llm_query_batched,
        "rlm_query": rlm_query,
        "FINAL": FINAL,
        "FINAL_VAR": FINAL_VAR,
        "FINDING": FINDING,
    }
    api_names = set(api) | {"context"}
    return api


PRELUDE = (
    "import re, json, math, statistics, itertools, functools, datetime, collections\n"
    "from collections import Counter, defaultdict\n"
)
"""Modules ready in the namespace before the first step: small models use ``re`` or
``Counter`` without importing them, and an avoidable NameError costs a whole turn."""


def _run_code(code: str, ns: dict, state: _State, init: dict) -> tuple[str, int, int, str | None]:
    """Run one step. Returns (printed text, chars printed, chars cut, error or None)."""
    out = BoundedWriter(state.max_output_chars)
    old_out, old_err = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = out
    error = None
    try:
        sandbox.check(code, ns, init)
        tree = ast.parse(code, "<repl>", "exec")
        last_expr = None
        if tree.body and isinstance(tree.body[-1], ast.Expr):
            last_expr = ast.Expression(tree.body.pop().value)
        with sandbox.cpu_limited(init):
            exec(compile(tree, "<repl>", "exec"), ns)  # noqa: S102 - the sandbox's job
            if last_expr is not None:
                value = eval(compile(last_expr, "<repl>", "eval"), ns)  # noqa: S307
                if value is not None:
                    print(repr(value))
    except sandbox.Refused as e:
        error = f"Refused: {e}"
    except sandbox.CpuLimitExceeded:
        error = (
            f"the step used its {sandbox.options(init)['cpu_seconds_per_step']} s of CPU time and was "
            "stopped; variables are kept. Do less per step (grep/count instead of loops over every line)."
        )
    except SyntaxError as e:
        error = f"SyntaxError: {e.msg} (line {e.lineno})"
        hint = error_hint(e)
        error += f"\nhint: {hint}" if hint else ""
    except MemoryError:
        error = "MemoryError: the step ran out of memory (limit reached); work on smaller pieces"
    except RecursionError:
        error = "RecursionError: maximum recursion depth exceeded"
    except BaseException as e:  # noqa: BLE001 - everything goes back to the model
        if isinstance(e, (SystemExit, KeyboardInterrupt)):
            error = f"{type(e).__name__} is not allowed here"
        else:
            error = _error_text(e, init)
    finally:
        sys.stdout, sys.stderr = old_out, old_err
    if error is not None:
        error = _clip(error, state.max_output_chars)  # an exception's text is output too
    return out.text(), out.total, out.cut, error


def _error_text(e: BaseException, init: dict) -> str:
    """The short traceback, made under the CPU limit: it may run the model's ``__str__``."""
    try:
        with sandbox.cpu_limited(init):
            return _short_traceback(e)
    except BaseException:  # noqa: BLE001 - a hostile __str__ or the CPU limit
        return f"{type(e).__name__} (its message could not be shown)"


def _short_traceback(e: BaseException, keep: int = 6) -> str:
    lines = traceback.format_exception(type(e), e, e.__traceback__)
    # Keep only frames of the model's own code and the error line itself.
    useful = [
        entry
        for entry in lines
        if not entry.startswith("Traceback")
        and (not entry.startswith("  File ") or entry.startswith('  File "<repl>"'))
    ]
    text = "".join(useful[-keep:]).rstrip()
    text = "Traceback (most recent call last):\n" + text if '"<repl>"' in text else text
    hint = error_hint(e)
    return f"{text}\nhint: {hint}" if hint else text


_HINTS: tuple[tuple[type, str, str], ...] = (
    (
        ValueError,
        "values to unpack",
        "`for line in context` gives lines (str); `context.grep(...)` gives (line_number, "
        "line) pairs; for numbered lines use `for n, line in enumerate(context, 1)`; the rows "
        "of top(), templates(), entities() and rare() are dicts: row['name'], row['count'].",
    ),
    (
        TypeError,
        "cannot unpack non-iterable",
        "`context.grep(...)` gives (line_number, line) pairs; `context.count(...)` gives a number.",
    ),
    (
        ValueError,
        "bad regex",
        "the pattern is a regular expression: escape ( ) [ ] | . * + ? with re.escape(text), "
        "or pass a log-map template with <*> wildcards as it is.",
    ),
    (
        AttributeError,
        "'int' object has no attribute",
        "context.count(pattern) is one number for the whole log; to count per host or device, "
        "use Counter over the lines of context.grep(pattern).",
    ),
    (
        AttributeError,
        "'str' object has no attribute",
        "lines are plain strings: use re.search(pattern, line) or `in` on them.",
    ),
    (
        KeyError,
        "",
        "the key is not in that dict: print(list(d)[:20]) to see which keys exist.",
    ),
    (
        SyntaxError,
        "",
        'a ```repl block runs as Python; if this text is your answer, reply FINAL("...") '
        "with it and no code block.",
    ),
)


def error_hint(e: BaseException) -> str | None:
    """One line telling a small model how to fix a common mistake, or None."""
    try:
        message = str(e)
    except BaseException:  # noqa: BLE001 - a hostile __str__
        return None
    for kind, needle, hint in _HINTS:
        if isinstance(e, kind) and needle in message:
            return hint
    return None


def _get_value(ns: dict, name: str, init: dict) -> dict:
    """A variable as text for FINAL_VAR written outside code.

    Turning a value into text can run the model's own ``__str__``: it runs under the
    step's CPU limit, with output captured, and any error is reported, not fatal.
    """
    if name not in ns or name.startswith("_"):
        return {"op": "value", "found": False}
    out = BoundedWriter(200)
    old_out, old_err = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = out
    try:
        with sandbox.cpu_limited(init):
            text = _final_text(ns[name])
        return {"op": "value", "found": True, "value": text}
    except sandbox.CpuLimitExceeded:
        error = "turning it into text used up the step's CPU time"
    except BaseException as e:  # noqa: BLE001 - the model's __str__ may raise anything
        error = f"turning it into text failed: {_clip(_describe_error(e), 500)}"
    finally:
        sys.stdout, sys.stderr = old_out, old_err
    return {"op": "value", "found": False, "error": error}


def _describe_error(e: BaseException) -> str:
    try:
        return f"{type(e).__name__}: {e}"
    except BaseException:  # noqa: BLE001 - a hostile __str__
        return type(e).__name__


def serve(channel: Channel) -> None:
    """Answer requests until told to stop or the parent goes away."""
    init = channel.recv()
    from rlm_cli.logs.logmap import LogMap
    from rlm_cli.logs.queries import MapQueries
    from rlm_cli.store.context import Context

    context = Context(init["context"])
    if init.get("chars_per_token"):
        context.chars_per_token = float(init["chars_per_token"])
    if init.get("chunk_tokens"):
        context.chunk_tokens = int(init["chunk_tokens"])
    logmap = LogMap.load(context.path)  # built by the parent; this process cannot write
    queries = MapQueries(context, logmap) if logmap is not None else None
    state = _State(channel, int(init.get("max_output_chars", 4000)))
    ns: dict = {"__builtins__": sandbox.builtins_for_model(init), "__name__": "__sandbox__"}
    ns["context"] = ContextView(context, queries, str(init.get("question") or ""))
    ns.update(_make_api(state, ns))
    data_mb = context.size_bytes // (1 << 20) + 1  # the memory map counts against address space
    report = sandbox.lockdown(init, [context.path], extra_address_space_mb=data_mb)
    _run_code(PRELUDE, ns, state, init)  # through the guard's import, like the model's own
    channel.send({"op": "ready", "pid": os.getpid(), "isolation": report})
    while True:
        msg = channel.recv()
        op = msg.get("op")
        if op == "exec":
            state.final, state.findings = None, []
            t0 = time.perf_counter()
            text, total, cut, error = _run_code(msg["code"], ns, state, init)
            channel.send(
                {
                    "op": "done",
                    "stdout": text,
                    "stdout_chars": total,
                    "cut": cut,
                    "error": error,
                    "final": state.final,
                    "findings": state.findings,
                    "elapsed_s": time.perf_counter() - t0,
                }
            )
        elif op == "get":
            channel.send(_get_value(ns, msg.get("name", ""), init))
        elif op == "set":
            ns[str(msg["name"])] = msg.get("value")
            channel.send({"op": "value", "found": True})
        elif op == "shutdown":
            return


def main() -> None:
    """Entry point: fd 0 is the request pipe, fd 1 the reply pipe."""
    reply_fd = os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    channel = Channel(0, reply_fd)
    try:
        serve(channel)
    except EOFError:
        pass


if __name__ == "__main__":
    main()
