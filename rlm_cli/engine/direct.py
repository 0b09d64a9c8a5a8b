"""The plain one-call baseline (``rlm ask --mode direct``), for comparison with the loop.

The log goes straight into one prompt: as many whole lines as fit the root model's
window (counted with its own tokenizer), from the start. Lines left out are counted
and reported, in-band to the model and out-of-band to the operator, never silently.
"""

from __future__ import annotations

import time

from rlm_cli.engine.parse import parse_reply, strip_thinking
from rlm_cli.engine.prompts import fill, load_prompts
from rlm_cli.engine.records import RunResult, Turn, Usage
from rlm_cli.errors import PromptTooLong
from rlm_cli.llm.base import GenerationParams, Message, Model
from rlm_cli.store.context import Context


def _numbered(context: Context, first: int, last: int) -> list[str]:
    return [f"{n}: {line}" for n, line in zip(range(first, last + 1), context.lines(first, last))]


def fit_lines(model: Model, context: Context, room_tokens: int, step: int = 2000) -> int:
    """How many leading lines of ``context`` (numbered) fit in ``room_tokens`` tokens."""
    total, used, n = context.line_count, 0, 0
    while n < total:
        hi = min(total, n + step)
        piece = "\n".join(_numbered(context, n + 1, hi)) + "\n"
        cost = model.count_tokens(piece)
        if used + cost <= room_tokens:
            used, n = used + cost, hi
            continue
        if step == 1:
            break
        step = max(1, step // 4)
    return n


def run_direct(
    model: Model,
    context: Context,
    question: str,
    params: GenerationParams,
    run_id: str,
    *,
    guidance: str = "",
) -> RunResult:
    """Answer ``question`` with one call over as much of the log as fits."""
    t0 = time.monotonic()
    prompts = load_prompts("direct")
    total = context.line_count

    def build(lines_in: int) -> list[Message]:
        left = total - lines_in
        shown = (
            f"all {total:,} lines"
            if left == 0
            else f"lines 1-{lines_in:,} of {total:,}; the last {left:,} lines did not fit and are not shown"
        )
        log = "\n".join(_numbered(context, 1, lines_in)) if lines_in else "(no line fits)"
        return [
            {"role": "system", "content": prompts["system"]},
            {
                "role": "user",
                "content": fill(
                    prompts["user"],
                    question=question,
                    guidance=guidance.strip(),
                    shown=shown,
                    log=log,
                ),
            },
        ]

    overhead = sum(model.count_tokens(m["content"]) + 8 for m in build(0)) + 64
    room = model.n_ctx - params.max_tokens - overhead
    if room <= 0:
        raise PromptTooLong(
            f"the direct prompt leaves no room for the log in a {model.n_ctx}-token window"
        )
    lines_in = fit_lines(model, context, room)
    messages = build(lines_in)
    c = model.complete(messages, params)
    usage = Usage()
    usage.add(c, root=True)
    parsed = parse_reply(c.text)
    answer = parsed.final.literal() if parsed.final is not None else strip_thinking(c.text)[0]
    left_out = total - lines_in
    turn = Turn(index=1, reply=c.text, reasoning=parsed.reasoning)
    turn.usage = {
        "prompt_tokens": c.prompt_tokens,
        "completion_tokens": c.completion_tokens,
        "finish_reason": c.finish_reason,
    }
    notes = []
    if left_out:
        notes.append(
            f"direct mode: {left_out:,} of {total:,} lines did not fit the "
            f"{model.n_ctx:,}-token window and were left out (lines {lines_in + 1:,}-{total:,})"
        )
    return RunResult(
        run_id=run_id,
        question=question,
        answer=answer.strip(),
        ended_by="direct",
        iterations=1,
        elapsed_s=time.monotonic() - t0,
        usage=usage,
        trajectory=[turn],
        notes=notes,
        context_id=context.id,
        models={"root": model.spec, "sub": None},
        extra={
            "mode": "direct",
            "direct": {
                "lines_total": total,
                "lines_included": lines_in,
                "lines_left_out": left_out,
            },
        },
    )
