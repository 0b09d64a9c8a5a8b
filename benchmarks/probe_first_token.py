#!/usr/bin/env python3
"""At a turn that follows an output, does the root model answer or send code, and why?

    PYTHONPATH=. python benchmarks/probe_first_token.py BENCH_ID --model M.gguf \\
        [--bias 0 3] [--tasks 'needle-*'] [--n-ctx 4096] [--threads 2]

Replays the second root turn of each rlm run of a recorded `rlm bench` result (same data
dir: the runs and their contexts are read from it): the system prompt and first message as
the engine builds them today, the first reply and what its code printed, as recorded. For
each ``--bias`` (logits added to opening the reply with ``FINAL(``, the ``answer_bias``
setting) it reports:

  P(FINAL) / P(code)  the first token's probability of being the token the nudge goes to
                      (the longest that begins FINAL() and of opening a code fence,
                      without bias (the model's own odds)
  reply               what the turn then is under the turn grammar: FINAL and its
                      answer, new code, or a re-send of the code already run

and what the recorded run did next. The turn message is rebuilt from the recorded feedback,
so a prompt change is measured on the same outputs (edit ``rlm_cli``'s prompts and rerun).
"""

from __future__ import annotations

import argparse
import fnmatch
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("bench_id")
    ap.add_argument("--model", required=True)
    ap.add_argument("--bias", type=float, nargs="+", default=[0.0, 3.0])
    ap.add_argument("--tasks", default="*")
    ap.add_argument("--n-ctx", type=int, default=4096)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()

    import llama_cpp
    import numpy as np

    from rlm_cli.actions.lifecycle import prepare_brief
    from rlm_cli.bench.store import load_result
    from rlm_cli.config import Settings
    from rlm_cli.engine.grammar import turn_grammar
    from rlm_cli.engine.loop import EngineConfig, RlmEngine
    from rlm_cli.engine.parse import normalise_code, parse_reply
    from rlm_cli.llm.base import GenerationParams
    from rlm_cli.llm.llama import LlamaModel, LlamaOptions
    from rlm_cli.runs.history import RunHistory
    from rlm_cli.store.contexts import ContextStore

    model = LlamaModel(Path(a.model), LlamaOptions(n_ctx=a.n_ctx, n_threads=a.threads))
    llm = model._llm  # noqa: SLF001 - first-token logits are not wrapped
    pieces = [llm._model.token_get_text(i) for i in range(llm.n_vocab())]  # noqa: SLF001
    # the tokens the nudge goes to: the longest that begin FINAL( (FINAL in Qwen and Gemma)
    longest = max(len(p) for p in pieces if p and "FINAL(".startswith(p))
    opens_final = np.array([len(p) == longest and "FINAL(".startswith(p) for p in pieces])
    opens_code = np.array([p.startswith("``") for p in pieces])
    history, store = RunHistory(), ContextStore()

    def first_token_probs(messages) -> np.ndarray:
        tokens, _ = model.tokenize_chat(messages)
        kept = list(llm._input_ids[: llm.n_tokens])  # noqa: SLF001
        n = 0
        while n < min(len(kept), len(tokens) - 1) and kept[n] == tokens[n]:
            n += 1
        llm._ctx.kv_cache_seq_rm(-1, n, -1)  # noqa: SLF001
        llm.n_tokens = n
        llm.eval(tokens[n:])
        logits = llama_cpp.llama_get_logits_ith(llm._ctx.ctx, -1)  # noqa: SLF001
        x = np.ctypeslib.as_array(logits, shape=(llm.n_vocab(),)).astype(np.float64)
        e = np.exp(x - x.max())
        return e / e.sum()

    print(
        f"{'task':16} {'P(FINAL)':>8} {'P(code)':>8}  " + "  ".join(f"bias {b:g}" for b in a.bias)
    )
    try:
        for row in load_result(a.bench_id)["results"]:
            if row["mode"] != "rlm" or not fnmatch.fnmatch(row["task"], a.tasks):
                continue
            run = history.get(row["run_id"])
            first, *rest = run["trajectory"]
            if not first.get("code") or not first.get("feedback"):
                continue
            ctx = store.open(run["context_id"])
            brief = prepare_brief(ctx, model, Settings(), lambda _m: None)
            engine = RlmEngine(model, model, ctx, EngineConfig(), brief=brief)
            messages = engine.first_messages(run["question"]) + [
                {"role": "assistant", "content": first["reply"]},
                {"role": "user", "content": first["feedback"]},
            ]
            p = first_token_probs(messages)
            cells = []
            for bias in a.bias:
                params = GenerationParams(
                    max_tokens=512,
                    temperature=0.2,
                    seed=0,
                    grammar=turn_grammar(),
                    opening_bias=("FINAL(", bias) if bias else None,
                )
                reply = parse_reply(model.complete(messages, params).text)
                if reply.final is not None:
                    cells.append(f"FINAL {reply.final.literal()[:40]!r}")
                elif reply.code_blocks and normalise_code(reply.code_blocks[0]) == normalise_code(
                    first["code"][0]
                ):
                    cells.append("re-send")
                else:
                    cells.append("new code")
            recorded = "re-send" if any("repeated code" in n for n in run["notes"]) else "-"
            print(
                f"{row['task']:16} {p[opens_final].sum():8.2f} {p[opens_code].sum():8.2f}  "
                + "  |  ".join(cells)
                + f"  (recorded run: {len(rest)} more turns, {recorded})",
                flush=True,
            )
    finally:
        history.close()
        model.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
