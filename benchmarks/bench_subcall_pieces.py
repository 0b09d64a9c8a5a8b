#!/usr/bin/env python3
"""Does a sub-call piece fit the sub-model's window? The piece rlm sizes from the log's
measured density (``RlmEngine.pieces()``, cut by ``context.chunks()``) against the piece
the system prompt advised before (``(window - answer - 200) * 3`` characters).

    PYTHONPATH=. python benchmarks/bench_subcall_pieces.py --model M.gguf --n-ctx 4096 \
        sample_logs/*.log ../shared/loghub/*/*_2k.log

For each log: its measured characters per token (the densest of 16 slices), the piece in
characters, how many of ``context.chunks()``'s pieces (each with a one-line question) fit
the room the fit check allows (window less the answer's tokens), the largest in tokens,
and the old advice's piece in tokens. Only the tokenizer is used: no generation.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

QUESTION = "Which host has the most severe problem in these lines?\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--model", type=Path, required=True)
    ap.add_argument("--n-ctx", type=int, default=4096)
    ap.add_argument("logs", nargs="+", type=Path)
    a = ap.parse_args()

    from rlm_cli.engine.loop import EngineConfig, RlmEngine
    from rlm_cli.engine.prompts import load_prompts
    from rlm_cli.llm.llama import LlamaModel, LlamaOptions
    from rlm_cli.store.contexts import ContextStore
    from rlm_cli.store.inputs import expand_inputs

    model = LlamaModel(a.model, LlamaOptions(n_ctx=a.n_ctx, n_threads=1))
    system = load_prompts("subcall")["system"]
    config = EngineConfig()
    room = a.n_ctx - config.sub_params.max_tokens
    old_chars = (a.n_ctx - config.sub_params.max_tokens - 200) * 3
    print(f"{a.model.name}, n_ctx {a.n_ctx}: room {room} tokens; old advice {old_chars:,} chars")
    print(f"{'log':24} {'chars/tok':>9} {'piece':>7} {'fit':>7} {'largest':>8} {'old advice':>10}")
    with tempfile.TemporaryDirectory() as tmp:
        store = ContextStore(Path(tmp))
        for path in a.logs:
            meta = store.ingest(expand_inputs([str(path)]), warn=lambda m: None)
            ctx = store.open(meta["id"])
            pieces = RlmEngine(model, model, ctx, config).pieces()
            ctx.chars_per_token, ctx.chunk_tokens = pieces.chars_per_token, pieces.tokens
            chunks = ctx.chunks()[:-1] or ctx.chunks()  # the last is a remainder
            sizes = [
                model.count_tokens(system) + model.count_tokens(QUESTION + c.text) + 16
                for c in chunks
            ]
            old = model.count_tokens(system) + model.count_tokens(QUESTION + ctx[0:old_chars]) + 16
            fit = sum(s <= room for s in sizes)
            print(
                f"{path.name[:24]:24} {pieces.chars_per_token:9.2f} {pieces.chars:7,} "
                f"{fit:3}/{len(sizes):<3} {max(sizes):8,} {old:10,}"
            )
            ctx.close()
    model.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
