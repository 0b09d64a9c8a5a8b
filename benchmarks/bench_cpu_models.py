#!/usr/bin/env python3
"""What a real model costs on this CPU: the first root turn of `rlm ask`, timed.

    PYTHONPATH=. python benchmarks/bench_cpu_models.py MODEL.gguf [MODEL.gguf ...]

For each model: the exact first-turn messages `rlm ask` sends for a question about
sample_logs/bmc_cluster.log (system prompt, brief, question: captured with a recording
model, so nothing is approximated), then one root call through LlamaModel with rlm's turn
grammar and settings. Reported per model: prompt tokens, the time to read the prompt and
the tokens/s of writing, each in wall seconds and in CPU seconds of this process. On a
machine shared with other jobs wall time stretches; CPU time (all threads) does not, and
``CPU s / threads`` is what the wall time would be with the cores to itself.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

QUESTION = "Which node has the most critical events, and what are they?"


def first_messages(root, context, brief: str) -> list[dict]:
    """The messages of the first root call, as the engine builds them."""
    from rlm_cli.engine.loop import EngineConfig, RlmEngine
    from rlm_cli.llm.base import Completion, Model

    class Recorder(Model):
        spec, n_ctx = "recorder", root.n_ctx

        def __init__(self) -> None:
            self.seen: list[list[dict]] = []

        def complete(self, messages, params, on_text=None):
            self.seen.append([dict(m) for m in messages])
            return Completion('FINAL("x")', prompt_tokens=1, completion_tokens=1)

        def count_tokens(self, text: str) -> int:
            return root.count_tokens(text)

    rec = Recorder()
    RlmEngine(rec, rec, context, EngineConfig(plan_pushback=False), brief=brief).run(QUESTION, "b")
    return rec.seen[0]


def measure(path: Path, threads: int, n_ctx: int, max_tokens: int) -> dict:
    from rlm_cli.actions.ask import prepare_brief
    from rlm_cli.config import Settings
    from rlm_cli.engine.grammar import turn_grammar
    from rlm_cli.llm.base import GenerationParams
    from rlm_cli.llm.llama import LlamaModel, LlamaOptions
    from rlm_cli.store.contexts import ContextStore
    from rlm_cli.store.inputs import expand_inputs

    t0 = time.monotonic()
    model = LlamaModel(path, LlamaOptions(n_ctx=n_ctx, n_threads=threads))
    load_s = time.monotonic() - t0
    store = ContextStore()
    meta = store.ingest(expand_inputs([str(REPO / "sample_logs" / "bmc_cluster.log")]))
    context = store.open(meta["id"])
    settings = Settings(n_ctx=n_ctx)
    brief = prepare_brief(context, model, settings, lambda m: None)
    messages = first_messages(model, context, brief)
    params = replace(
        GenerationParams(max_tokens=max_tokens, temperature=settings.temperature, seed=0),
        grammar=turn_grammar(settings.reasoning_chars),
    )
    read: dict = {}

    def progress(done: int, total: int) -> None:
        if done == total:
            read.update(wall=time.monotonic(), cpu=time.process_time())
            print(
                f"  {path.name}: {total:,} prompt tokens read in {read['wall'] - w0:.1f} s wall"
                f" / {read['cpu'] - c0:.1f} s CPU (load {os.getloadavg()[0]:.1f})",
                flush=True,
            )

    model.on_prompt_progress = progress
    w0, c0 = time.monotonic(), time.process_time()
    c = model.complete(messages, params)
    w1, c1 = time.monotonic(), time.process_time()
    model.close()
    gen_wall, gen_cpu = w1 - read["wall"], c1 - read["cpu"]
    return {
        "model": path.name,
        "load_s": load_s,
        "prompt_tokens": c.prompt_tokens,
        "read_wall": read["wall"] - w0,
        "read_cpu": read["cpu"] - c0,
        "gen_tokens": c.completion_tokens,
        "gen_wall": gen_wall,
        "gen_cpu": gen_cpu,
        "finish": c.finish_reason,
        "reply": c.text[:160],
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("models", nargs="+", type=Path)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--n-ctx", type=int, default=8192)
    ap.add_argument("--max-tokens", type=int, default=128)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as home:
        os.environ["RLM_HOME"] = home
        os.environ["RLM_CONFIG_DIR"] = home
        print(
            f"# {time.strftime('%Y-%m-%d %H:%M')} load {os.getloadavg()[0]:.1f}, {args.threads} threads",
            flush=True,
        )
        for path in args.models:
            r = measure(path, args.threads, args.n_ctx, args.max_tokens)
            t = args.threads
            print(
                f"{r['model']}: load {r['load_s']:.1f} s; prompt {r['prompt_tokens']:,} tokens read in "
                f"{r['read_wall']:.1f} s wall / {r['read_cpu']:.1f} s CPU "
                f"({r['prompt_tokens'] / max(r['read_cpu'] / t, 1e-9):.0f} tok/s at {t} free cores); "
                f"{r['gen_tokens']} tokens written in {r['gen_wall']:.1f} s wall / {r['gen_cpu']:.1f} s CPU "
                f"({r['gen_tokens'] / max(r['gen_cpu'] / t, 1e-9):.1f} tok/s at {t} free cores); "
                f"turn at {t} free cores ~{(r['read_cpu'] + r['gen_cpu']) / t:.0f} s; "
                f"load now {os.getloadavg()[0]:.1f}; finish {r['finish']}",
                flush=True,
            )
            print(f"  reply: {r['reply']!r}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
