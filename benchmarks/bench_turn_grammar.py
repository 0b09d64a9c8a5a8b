#!/usr/bin/env python3
"""Does the root turn grammar let real models end their turns, and what does it cost?

    PYTHONPATH=. python benchmarks/bench_turn_grammar.py ~/models/*.gguf [--turns 4]

For each real GGUF model, the first root turn of a real `rlm ask` prompt (the shipped
root prompt, a sample log's description and brief, several questions) is generated
with the turn grammar and without it (plain sampling, stopped by the chat template's
stop strings only), several seeds each. Reported side by side per model:

  clean      turns that ended on their own (finish "stop") with one parsed code block or
             a FINAL: the grammar must never push a model past the closing fence
  cut        turns cut at max_tokens
  tok/s      generated tokens per second (grammar sampling costs time per token;
             modes in MODES below)
  tokens     mean generated tokens per turn

The tokenizer is each model's own, so a fence glued to a newline in one vocabulary and
split in another is exercised for real.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

MODES = ("grammar", "whole", "plain")
"""``grammar``: the turn grammar as rlm runs it (checked pick by pick); ``whole``: the same
grammar applied to the whole vocabulary before every pick (llama-cpp-python's way);
``plain``: no grammar."""

QUESTIONS = [
    "which node will fail",
    "how many uncorrectable ECC errors are there",
    "when did the first power supply failure happen",
    "which host logged the most critical events",
]


def first_turn_messages(model, ctx, question: str) -> list[dict]:
    """The messages of a real first root turn over the context ``ctx``."""
    from rlm_cli.actions.ask import prepare_brief
    from rlm_cli.config import Settings
    from rlm_cli.engine.loop import RlmEngine

    brief = prepare_brief(ctx, model, Settings(n_ctx=model.n_ctx), lambda _m: None)
    return RlmEngine(model, model, ctx, brief=brief).first_messages(question)


def ingest(log: Path):
    """``log`` stored in a throwaway context store."""
    from rlm_cli.store.contexts import ContextStore
    from rlm_cli.store.inputs import expand_inputs

    store = ContextStore(Path(tempfile.mkdtemp(prefix="rlm-bench-grammar-")))
    meta = store.ingest(expand_inputs([str(log)]))
    return store.open(meta["id"])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("models", nargs="+", type=Path)
    ap.add_argument("--log", type=Path, default=REPO / "sample_logs" / "bmc_cluster.log")
    ap.add_argument("--turns", type=int, default=4, help="turns per model and mode")
    ap.add_argument("--max-tokens", type=int, default=512)
    ap.add_argument("--n-ctx", type=int, default=8192)
    args = ap.parse_args()

    from rlm_cli.engine.grammar import turn_grammar
    from rlm_cli.engine.parse import parse_reply
    from rlm_cli.llm.base import GenerationParams
    from rlm_cli.llm.llama import LlamaModel, LlamaOptions

    rows = []
    ctx = ingest(args.log)
    for path in args.models:
        for mode in MODES:
            model = LlamaModel(path, LlamaOptions(n_ctx=args.n_ctx, grammar_gate=mode != "whole"))
            clean = cut = 0
            rates, sizes = [], []
            for i in range(args.turns):
                q = QUESTIONS[i % len(QUESTIONS)]
                msgs = first_turn_messages(model, ctx, q)
                params = GenerationParams(
                    max_tokens=args.max_tokens,
                    seed=i,
                    grammar=None if mode == "plain" else turn_grammar(),
                )
                t0 = time.perf_counter()
                first: list[float] = []
                c = model.complete(
                    msgs, params, lambda _p, f=first: f or f.append(time.perf_counter())
                )
                gen_s = time.perf_counter() - (first[0] if first else t0)
                parsed = parse_reply(c.text)
                ok = c.finish_reason == "stop" and (
                    len(parsed.code_blocks) >= 1 or parsed.final is not None
                )
                clean += ok
                cut += c.finish_reason == "length"
                sizes.append(c.completion_tokens)
                if c.completion_tokens > 1 and gen_s > 0:
                    rates.append((c.completion_tokens - 1) / gen_s)
            rows.append(
                (
                    path.name,
                    mode,
                    f"{clean}/{args.turns}",
                    f"{cut}/{args.turns}",
                    f"{statistics.median(rates):.1f}" if rates else "-",
                    f"{statistics.mean(sizes):.0f}",
                )
            )
            print("  ".join(rows[-1]), flush=True)
            model.close()
    print()
    print(f"{'model':44} {'mode':8} {'clean':>6} {'cut':>6} {'tok/s':>6} {'tokens':>6}")
    for r in rows:
        print(f"{r[0]:44} {r[1]:8} {r[2]:>6} {r[3]:>6} {r[4]:>6} {r[5]:>6}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
