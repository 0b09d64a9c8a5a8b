#!/usr/bin/env python3
"""Where a real model's time goes on this machine, against what the hardware allows.

    PYTHONPATH=. python benchmarks/bench_realmodel.py --model /root/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf
    PYTHONPATH=. python benchmarks/bench_realmodel.py --model M.gguf --only ttft lookup

Sections:

  bound   memory read bandwidth (a 1 GiB array summed by as many threads as the model
          uses, best of 5; decoding streams the weights on every core) and the bytes of
          weights one generated token reads: tokens/s the bandwidth allows. (A one-thread
          numpy copy, used before, read 25.9 GB/s read + write here and gave a "bound" of
          26.4 tokens/s that the 1.5B model's decoding then beat.)
  plain   llama-bench style figures for the same model and threads: a bare llama_decode loop,
          512-token batches (prompt tokens/s) and one token at a time (generation tokens/s).
  ttft    time to first root token on the real first root prompt (system + first user
          message of a run over sample_logs/bmc_cluster.log), each in a new llama.cpp
          context as in a new run: cache off, cold (evaluated, then saved), warm (loaded).
  lookup  one root turn (turn grammar, temperature 0), plain decoding vs prompt-lookup
          (n-gram) speculative decoding: generation tokens/s and whether the text is equal.

One model process at a time; /proc/loadavg is printed beside the figures (the machine
may be shared).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

SAMPLE_LOG = REPO / "sample_logs" / "bmc_cluster.log"
QUESTION = "Which nodes have hardware problems, and which will fail first?"


def loadavg() -> str:
    """The 1/5/15-minute load averages."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def bandwidth_gbs(threads: int, gib: float = 1.0, repeats: int = 5) -> float:
    """Best read bandwidth of a large array summed by ``threads`` threads at once, GB/s
    (numpy releases the GIL while it sums)."""
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np

    data = np.ones(int(gib * (1 << 30)) // 4, dtype=np.float32)
    parts = np.array_split(data, threads)
    best = float("inf")
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(np.sum, parts))  # fault the pages in
        for _ in range(repeats):
            t0 = time.perf_counter()
            list(pool.map(np.sum, parts))
            best = min(best, time.perf_counter() - t0)
    return data.nbytes / best / 1e9


def bytes_per_token(model: Path) -> int:
    """Weight bytes one decoded token reads: every tensor, except the token embedding
    (one row is gathered) unless the output layer is tied to it."""
    from gguf import GGUFReader

    tensors = {t.name: int(t.n_bytes) for t in GGUFReader(str(model)).tensors}
    total = sum(tensors.values())
    if "output.weight" in tensors and "token_embd.weight" in tensors:
        total -= tensors["token_embd.weight"]
    return total


def section_bound(model: Path, threads: int) -> tuple[list[str], float]:
    bw = bandwidth_gbs(threads)
    per_tok = bytes_per_token(model)
    bound = bw * 1e9 / per_tok
    return [
        f"  memory read bandwidth ({threads} threads): {bw:.1f} GB/s",
        f"  weight bytes per generated token:     {per_tok / 1e6:.0f} MB",
        f"  generation bound:                      {bound:.1f} tokens/s",
    ], bound


def section_plain(model: Path, threads: int, n_ctx: int, reps: int = 2) -> tuple[list[str], dict]:
    """pp512 and tg64 with a bare llama_decode loop (what llama-bench measures)."""
    import llama_cpp
    from llama_cpp import Llama

    from rlm_cli.llm.llama_logging import silence_native_logs

    silence_native_logs()
    llm = Llama(
        model_path=str(model),
        n_ctx=n_ctx,
        n_threads=threads,
        n_threads_batch=threads,
        n_batch=512,
        verbose=False,
    )
    ctx = llm._ctx.ctx  # noqa: SLF001
    mem = llama_cpp.llama_get_memory(ctx)
    batch = llama_cpp.llama_batch_init(512, 0, 1)
    vocab = llm.n_vocab()

    def decode(tokens: list[int], start: int) -> None:
        batch.n_tokens = len(tokens)
        for j, tok in enumerate(tokens):
            batch.token[j] = tok
            batch.pos[j] = start + j
            batch.n_seq_id[j] = 1
            batch.seq_id[j][0] = 0
            batch.logits[j] = j == len(tokens) - 1
        rc = llama_cpp.llama_decode(ctx, batch)
        if rc != 0:
            raise RuntimeError(f"llama_decode: {rc}")

    toks = [(i * 7919) % vocab for i in range(512)]
    decode(toks[:16], 0)  # warm-up
    pp = []
    for _ in range(reps):
        llama_cpp.llama_memory_clear(mem, True)
        t0 = time.perf_counter()
        decode(toks, 0)
        pp.append(512 / (time.perf_counter() - t0))
    tg = []
    for _ in range(reps):
        llama_cpp.llama_memory_clear(mem, True)
        decode(toks[:64], 0)
        t0 = time.perf_counter()
        for i in range(64):
            decode([toks[i]], 64 + i)
        tg.append(64 / (time.perf_counter() - t0))
    llama_cpp.llama_batch_free(batch)
    llm.close()
    figs = {"pp512": max(pp), "tg64": max(tg)}
    return [
        f"  pp512 (prompt, bare llama_decode, {threads} threads): {figs['pp512']:.1f} tokens/s",
        f"  tg64  (generation, one token per decode):      {figs['tg64']:.1f} tokens/s",
    ], figs


def root_messages(root_model, n_ctx: int) -> list[dict]:
    """The first root prompt of a real run over the sample log (system + first user)."""
    from rlm_cli.engine.loop import EngineConfig, RlmEngine
    from rlm_cli.store.context import Context
    from rlm_cli.store.contexts import ContextStore
    from rlm_cli.store.inputs import expand_inputs

    store = ContextStore()
    meta = store.ingest(expand_inputs([str(SAMPLE_LOG)]), warn=lambda m: None)
    context = Context(store.root / meta["id"])
    engine = RlmEngine(root_model, root_model, context, EngineConfig())
    return engine.first_messages(QUESTION)


def _load(model: Path, threads: int, n_ctx: int, **kw):
    from rlm_cli.llm.llama import LlamaModel, LlamaOptions

    t0 = time.perf_counter()
    m = LlamaModel(model, LlamaOptions(n_ctx=n_ctx, n_threads=threads, **kw))
    return m, time.perf_counter() - t0


def section_ttft(
    model: Path, threads: int, n_ctx: int, cache_dir: Path, with_off: bool = False
) -> tuple[list[str], dict]:
    from rlm_cli.engine.grammar import turn_grammar
    from rlm_cli.llm.base import GenerationParams

    params = GenerationParams(max_tokens=8, temperature=0.0, grammar=turn_grammar(400))
    rows, figs = [], {}
    msgs = None
    runs = [("cache off", {})] if with_off else []
    for label, kw in runs + [
        ("cold (evaluate + save)", {"prompt_cache": True, "prompt_cache_dir": cache_dir}),
        ("warm (load)", {"prompt_cache": True, "prompt_cache_dir": cache_dir}),
    ]:
        m, load_s = _load(model, threads, n_ctx, **kw)
        if msgs is None:
            msgs = root_messages(m, n_ctx)
        c = m.complete(msgs, params)
        notes = m.drain_notes()
        m.close()
        figs[label] = c
        rows.append(
            f"  {label:24s} first token {c.first_token_s:6.2f} s   prompt {c.prompt_tokens:5d} tok, "
            f"evaluated {c.prompt_tokens_evaluated:5d}, from cache {c.prompt_tokens_cached:5d}   "
            f"(model load {load_s:.2f} s){'  ' + '; '.join(notes) if notes else ''}"
        )
    off = figs.get("cache off") or figs["cold (evaluate + save)"]
    rows.append(
        f"  prompt evaluation ({'cache off' if with_off else 'cold, save included'}): "
        f"{off.prompt_tokens_evaluated / off.first_token_s:.1f} tokens/s"
    )
    return rows, {k: v.first_token_s for k, v in figs.items()} | {
        "prompt_tps": off.prompt_tokens_evaluated / off.first_token_s
    }


def section_lookup(
    model: Path, threads: int, n_ctx: int, cache_dir: Path, max_tokens: int, lookups: list[int]
) -> list[str]:
    """A root turn with plain decoding vs prompt-lookup decoding."""
    from rlm_cli.engine.grammar import turn_grammar
    from rlm_cli.llm.base import GenerationParams

    params = GenerationParams(max_tokens=max_tokens, temperature=0.0, grammar=turn_grammar(400))
    rows = []
    msgs = None
    texts = {}
    for n in lookups:
        m, _ = _load(
            model, threads, n_ctx, prompt_cache=True, prompt_cache_dir=cache_dir, lookup_tokens=n
        )
        if msgs is None:
            msgs = root_messages(m, n_ctx)
        t0 = time.perf_counter()
        c = m.complete(msgs, params)
        wall = time.perf_counter() - t0
        m.close()
        texts[n] = c.text
        rows.append(
            f"  lookup {n:2d}: {c.completion_tokens:4d} tokens, generation {c.gen_tokens_per_s or 0:6.2f} tokens/s, "
            f"first token {c.first_token_s:6.2f} s, call {wall:6.2f} s, "
            f"same text as plain: {c.text == texts[0]}"
        )
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--model", type=Path, required=True)
    ap.add_argument("--only", nargs="*", default=["bound", "plain", "ttft", "lookup"])
    ap.add_argument("--threads", type=int, default=None, help="default: physical cores")
    ap.add_argument("--n-ctx", type=int, default=8192)
    ap.add_argument("--max-tokens", type=int, default=256, help="tokens of the lookup turn")
    ap.add_argument("--lookups", type=int, nargs="*", default=[0, 10, 4], help="0 first: plain")
    ap.add_argument("--reps", type=int, default=2, help="repeats of pp512 and tg64")
    ap.add_argument("--with-off", action="store_true", help="also time the prompt cache off")
    args = ap.parse_args()
    if not args.model.exists():
        print(f"no model at {args.model}", file=sys.stderr)
        return 2
    from rlm_cli.llm.machine import choose

    tuning = choose(args.threads, 512)
    threads = tuning.threads
    work = Path(tempfile.mkdtemp(prefix="rlm-bench-real-"))
    os.environ["RLM_HOME"] = str(work / "home")  # contexts and caches of this run only
    cache_dir = work / "prompt_cache"
    print(f"model {args.model.name}, {tuning.describe()}, n_ctx {args.n_ctx}")
    print(f"load before: {loadavg()}")
    bound = plain = None
    if "bound" in args.only:
        print("generation bound:")
        rows, bound = section_bound(args.model, threads)
        print("\n".join(rows), flush=True)
    if "plain" in args.only:
        print("llama-bench style:")
        rows, plain = section_plain(args.model, threads, args.n_ctx, args.reps)
        print("\n".join(rows), flush=True)
        if bound:
            print(f"  tg64 is {plain['tg64'] / bound:.0%} of the bandwidth bound")
    if "ttft" in args.only:
        print("time to first root token (each a new llama.cpp context):")
        rows, figs = section_ttft(args.model, threads, args.n_ctx, cache_dir, args.with_off)
        print("\n".join(rows), flush=True)
        if plain:
            print(f"  rlm prompt evaluation is {figs['prompt_tps'] / plain['pp512']:.0%} of pp512")
    if "lookup" in args.only:
        print("root turn, plain vs prompt-lookup decoding:")
        print(
            "\n".join(
                section_lookup(
                    args.model, threads, args.n_ctx, cache_dir, args.max_tokens, args.lookups
                )
            ),
            flush=True,
        )
        if bound:
            print(f"  (bandwidth bound {bound:.1f} tokens/s)")
    print(f"load after: {loadavg()}")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
