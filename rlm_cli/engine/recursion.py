"""``rlm_query(prompt, text)``: a child RLM with its own REPL over ``text``.

The text is stored as a context of its own (through the store's ingest, like any
input), and a new :class:`~rlm_cli.engine.loop.RlmEngine` runs at ``depth + 1`` with
half the parent's turns. It shares the parent's usage, budget and sub-call ids, so
its spending counts against the run and its events reach the same observer with
their depth, for the live tree to nest. Its answer is the return value; its findings
(verified against its own context) join the parent's.
"""

from __future__ import annotations

import io
from dataclasses import replace
from typing import Any

from rlm_cli.store.context import Context
from rlm_cli.store.ingest import ingest_streams


def store_text(contexts_root, text: str) -> Context:
    """Store ``text`` as a new context beside the parent's; returns it."""
    meta = ingest_streams(
        contexts_root,
        [("rlm_query text", io.BytesIO(text.encode("utf-8")), None)],
        empty_message="rlm_query: the text is empty",
    )
    return Context(contexts_root / meta["id"])


def run_child(parent: Any, prompt: str, text: str) -> str:
    """Run a child engine of ``parent`` (an ``RlmEngine``) on ``text``; returns its answer.

    The child is made with ``type(parent)``, so this module does not import the loop
    (which imports it): recursion sits inside the engine without an import cycle. Only
    the parent's public attributes are read.
    """
    child_ctx = store_text(parent.context.path.parent, text)
    lim = parent.config.limits
    cfg = replace(
        parent.config, limits=replace(lim, max_iterations=max(2, lim.max_iterations // 2))
    )
    child = type(parent)(
        parent.root,
        parent.sub,
        child_ctx,
        cfg,
        parent.observer,
        depth=parent.depth + 1,
        usage=parent.usage,
        budget=parent.budget,
        call_ids=parent.call_ids,
    )
    n = len(parent.children) + 1
    parent.observer.note(
        f"rlm_query: child run {n} at depth {parent.depth + 1} over {child_ctx.line_count:,} lines",
        parent.depth,
    )
    result = child.run(prompt, f"{parent.run_id}.{n}")
    parent.children.append(
        {
            "depth": parent.depth + 1,
            "context_id": child_ctx.id,
            "prompt": prompt,
            "answer": result.answer,
            "ended_by": result.ended_by,
            "iterations": result.iterations,
            "trajectory": [t.to_json() for t in result.trajectory],
        }
    )
    parent.child_findings.extend(result.findings)
    return result.answer
