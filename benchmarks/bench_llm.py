#!/usr/bin/env python3
"""Inference speed of rlm's model backends, printed as ratios side by side.

    PYTHONPATH=. python benchmarks/bench_llm.py                 # all four sections
    PYTHONPATH=. python benchmarks/bench_llm.py --only reuse batch --threads 2

Sections (random-weight GGUFs of realistic shape from rlm_cli.testing.tiny_gguf:
speed depends on shapes and tensor types, never on weight values):

  reuse     root prefix reuse over a 10-turn conversation: prompt tokens llama.cpp
            evaluated vs tokens new each turn, with the KV cache reused (one instance)
            and without (the cache reset before every turn).
  batch     8 sub-calls of 512-token prompts, 64 tokens out: LlamaModel.complete_many
            (one llama.cpp batch, 8 sequences) vs one complete() after another.
  openai    16 concurrent sub-calls against a loopback OpenAI-compatible server with a
            fixed per-request delay: wall time vs what the server needs for them.
  overhead  a 10-turn scripted run (`rlm ask --context ID --model script:...`) over a
            1 GB log: wall time of everything but the model (ingest excluded).

Models and the 1 GB log are written once into --workdir and kept for later runs.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

WORDS = [
    "node",
    "error",
    "memory",
    "disk",
    "temperature",
    "fan",
    "power",
    "supply",
    "voltage",
    "sensor",
    "ecc",
    "dimm",
    "correctable",
    "uncorrectable",
    "reboot",
    "kernel",
    "panic",
    "link",
    "down",
    "up",
    "timeout",
    "retry",
]


def _text(rng: random.Random, n_words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n_words))


def sized_model(workdir: Path, params: str, dtype: str = "f16") -> Path:
    """A random-weight model of ``params`` size and ``dtype`` (written once, then reused)."""
    from rlm_cli.testing.tiny_gguf import write_sized_gguf

    path = workdir / f"random-{params}-{dtype}.gguf"
    if not path.exists():
        print(f"writing {path.name} ...", file=sys.stderr)
        write_sized_gguf(path, params=params, seed=0, dtype=dtype)
    return path


# -- 1. root prefix reuse -------------------------------------------------------------------


def bench_reuse(model_path: Path, threads: int | None, turns: int = 10) -> list[str]:
    from rlm_cli.llm.base import GenerationParams
    from rlm_cli.llm.llama import LlamaModel, LlamaOptions

    rng = random.Random(1)
    params = GenerationParams(max_tokens=16, temperature=0.0)
    opts = LlamaOptions(n_ctx=4096, n_threads=threads)
    reuse, fresh = LlamaModel(model_path, opts), LlamaModel(model_path, opts)
    conv = [
        {"role": "system", "content": "You triage logs with Python. " + _text(rng, 60)},
        {"role": "user", "content": "Question: which node will fail? " + _text(rng, 20)},
    ]
    new_total = ev_reuse = ev_fresh = 0
    t_reuse = t_fresh = 0.0
    prev_len = 0
    rows = []
    for turn in range(1, turns + 1):
        t0 = time.perf_counter()
        a = reuse.complete(conv, params)
        t_reuse += time.perf_counter() - t0
        fresh._llm.reset()  # noqa: SLF001 - the run without reuse: nothing cached
        t0 = time.perf_counter()
        b = fresh.complete(conv, params)
        t_fresh += time.perf_counter() - t0
        new = a.prompt_tokens - prev_len
        prev_len = a.prompt_tokens
        new_total += new
        ev_reuse += a.prompt_tokens_evaluated
        ev_fresh += b.prompt_tokens_evaluated
        print(f"  reuse turn {turn} done", file=sys.stderr, flush=True)
        rows.append(
            f"    turn {turn:2d}: prompt {a.prompt_tokens:5d}  new {new:4d}  "
            f"evaluated with reuse {a.prompt_tokens_evaluated:4d}  without {b.prompt_tokens_evaluated:5d}"
        )
        conv = conv + [
            {"role": "assistant", "content": a.text},
            {"role": "user", "content": "Output of the code:\n" + _text(rng, 20)},
        ]
    reuse.close()
    fresh.close()
    return [
        f"reuse: {turns}-turn root conversation, {model_path.name}",
        *rows,
        f"  new tokens (sum over turns)            {new_total}",
        f"  evaluated, KV cache reused             {ev_reuse}  = {ev_reuse / new_total:.2f} x new"
        f"   ({t_reuse:.1f} s)",
        f"  evaluated, cache reset each turn       {ev_fresh}  = {ev_fresh / new_total:.2f} x new"
        f"   ({t_fresh:.1f} s)",
        f"  target: reused <= 1.10 x new -> {'met' if ev_reuse <= 1.1 * new_total else 'NOT met'}",
    ]


# -- 2. batched sub-calls -------------------------------------------------------------------


def _prompt_of(model, rng: random.Random, n_tokens: int) -> list[dict]:
    words = _text(rng, n_tokens)
    while True:
        conv = [{"role": "user", "content": "Summarise the errors in this chunk:\n" + words}]
        n = len(model.tokenize_chat(conv)[0])
        if n <= n_tokens:
            return conv
        words = " ".join(words.split()[: -max(1, (n - n_tokens) // 2)])


def bench_batch(
    model_path: Path, threads: int | None, n: int = 8, prompt: int = 512, out: int = 64
) -> list[str]:
    import llama_cpp

    from rlm_cli.llm.base import GenerationParams
    from rlm_cli.llm.llama import LlamaModel, LlamaOptions

    rng = random.Random(2)
    opts = LlamaOptions(n_ctx=2048, n_threads=threads, batch_seqs=n, batch_ctx=n * 1024)
    model = LlamaModel(model_path, opts)
    convs = [_prompt_of(model, rng, prompt) for _ in range(n)]
    params = GenerationParams(max_tokens=out, temperature=0.0)
    ctx = model._llm._ctx.ctx  # noqa: SLF001
    t_seq = t_seq_p = t_seq_g = 0.0
    seq = []
    for c in convs:
        model._llm.reset()  # noqa: SLF001 - fair: no reuse between different sub-calls
        llama_cpp.llama_perf_context_reset(ctx)
        t0 = time.perf_counter()
        seq.append(model.complete(c, params))
        t_seq += time.perf_counter() - t0
        print(f"  one-at-a-time call {len(seq)} done", file=sys.stderr, flush=True)
        perf = llama_cpp.llama_perf_context(ctx)
        t_seq_p += perf.t_p_eval_ms / 1000
        t_seq_g += perf.t_eval_ms / 1000
    t0 = time.perf_counter()
    bat = model.complete_many(convs, params)
    t_bat = time.perf_counter() - t0
    model.close()
    same = sum(a.text == b.text for a, b in zip(seq, bat))
    toks_seq = sum(c.completion_tokens for c in seq)
    toks_bat = sum(c.completion_tokens for c in bat)
    p_tokens = sum(c.prompt_tokens for c in seq)
    m = bat[0].meta
    return [
        f"batch: {n} sub-calls x {p_tokens // n} prompt tokens, {out} out, {model_path.name}",
        f"  one at a time   {t_seq:6.1f} s  (prompts {t_seq_p:.1f} s, generation {t_seq_g:.1f} s)"
        f"  {toks_seq / t_seq:5.1f} out tok/s",
        f"  batched         {t_bat:6.1f} s  (prompts {m.get('prefill_s', 0):.1f} s, generation "
        f"{m.get('decode_s', 0):.1f} s)  {toks_bat / t_bat:5.1f} out tok/s",
        f"  throughput ratio {t_seq / t_bat:.2f} x  (target >= 2 x); generation phase alone "
        f"{t_seq_g / max(1e-9, m.get('decode_s', 0)):.1f} x",
        f"  bound if batched generation cost nothing: {t_seq / max(1e-9, m.get('prefill_s', 0)):.2f} x"
        "  (prompt evaluation is compute-bound: 8 prompts cost the same together or apart)",
        f"  identical answers (temperature 0): {same}/{n}",
    ]


# -- 3. OpenAI-compatible backend -----------------------------------------------------------


def bench_openai(n: int = 16, delay: float = 0.5) -> list[str]:
    from rlm_cli.llm.base import GenerationParams
    from rlm_cli.llm.openai_compat import OpenAICompatModel
    from rlm_cli.testing.fake_openai_server import FakeOpenAIServer

    convs = [[{"role": "user", "content": f"sub-call {i}"}] for i in range(n)]
    lines = [f"openai: {n} sub-calls, loopback server answering each after {delay:.2f} s"]
    for conc in (n, 4):
        with FakeOpenAIServer(delay=delay) as srv:
            model = OpenAICompatModel.from_spec(f"openai:{srv.url}#bench", concurrency=conc)
            t0 = time.perf_counter()
            out = model.complete_many(convs, GenerationParams(max_tokens=16))
            wall = time.perf_counter() - t0
            model.close()
            assert all(c.text.startswith("echo") for c in out)
            need = delay * -(-n // conc)  # rounds of requests the server must serve
            lines.append(
                f"  --concurrency {conc:2d}: {wall:5.2f} s, server needs {need:.2f} s -> "
                f"{wall / need:.2f} x  (max in flight at the server: {srv.max_in_flight})"
            )
    lines.append("  target: <= 1.20 x with concurrency 16")
    return lines


# -- 4. orchestration overhead --------------------------------------------------------------

SCRIPT = [
    "```repl\nprint(len(context), context.line_count)\nprint(context.head(5))\n```",
    "```repl\nprint(context.tail(5))\n```",
    "```repl\nprint(context.lines(1000, 1010))\n```",
    "```repl\nprint(context.around(500000, 3, 3))\n```",
    "```repl\nprint(context.sources())\n```",
    "```repl\nprint(context[1000:3000])\n```",
    "```repl\nprint(llm_query('summarise: ' + str(context.lines(1, 40))))\n```",
    "```repl\nanswers = llm_query_batched([str(context.lines(i, i + 20)) for i in (1, 100, 200)])\n"
    "print(answers)\n```",
    "```repl\nverdict = 'node09 DIMM_B2'\nprint(verdict)\n```",
    "FINAL(node09 will fail: rising correctable ECC on DIMM_B2)",
]


def bench_overhead(workdir: Path, size: str = "1G") -> list[str]:
    import orjson
    import yaml

    home = workdir / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RLM_")}
    env.update(RLM_HOME=str(home / "data"), RLM_CONFIG_DIR=str(home / "config"), NO_COLOR="1")
    env["PYTHONPATH"] = str(REPO)
    log = workdir / f"bmc-{size}.log"
    if not log.exists():
        print(f"generating {log.name} ...", file=sys.stderr)
        subprocess.run(
            [sys.executable, str(REPO / "sample_logs/generate.py"), "bmc", "--size", size]
            + ["--out", str(log)],
            check=True,
        )
    id_file = workdir / f"bmc-{size}.context-id"
    if not id_file.exists():
        print(f"ingesting {log.name} ...", file=sys.stderr)
        code = (
            "from rlm_cli.store.contexts import ContextStore\n"
            "from rlm_cli.store.inputs import expand_inputs\n"
            f"print(ContextStore().ingest(expand_inputs([{str(log)!r}]))['id'])\n"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True
        )
        id_file.write_text(out.stdout.strip())
    ctx_id = id_file.read_text().strip()
    script = workdir / "overhead.yaml"
    script.write_text(yaml.safe_dump({"root": SCRIPT, "sub": ["looks fine"]}))
    cmd = [sys.executable, "-m", "rlm_cli", "ask", "which node will fail", "--context", ctx_id]
    cmd += ["--model", f"script:{script}", "--json", "--no-log", "--max-iterations", "12"]
    lines = [f"overhead: {len(SCRIPT)}-turn scripted run over {log.stat().st_size / 2**30:.2f} GiB"]
    for label in ("run 1", "run 2"):
        t0 = time.perf_counter()
        r = subprocess.run(cmd, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if r.returncode not in (0, 1):
            raise SystemExit(f"rlm ask failed ({r.returncode}): {r.stderr[-2000:]}")
        d = orjson.loads(r.stdout)
        lines.append(
            f"  {label:34s} process wall {wall:5.2f} s, run (JSON elapsed_s) {d['elapsed_s']:5.2f} s"
            f"  ({len(d['trajectory'])} turns, {d['usage']['sub_calls']} sub-calls, "
            f"ended by {d['ended_by']})"
        )
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import rlm_cli.cli"], env=env, check=True)
    lines.append(f"  of which Python start + imports      {time.perf_counter() - t0:5.2f} s")
    lines.append(
        "  the scripted model answers instantly (no delay_s), so all of this is orchestration;"
    )
    lines.append("  target: everything but the model < 1 s")
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--only", nargs="*", default=["reuse", "batch", "openai", "overhead"])
    ap.add_argument("--params", default="0.5B", help="model size for reuse and batch")
    ap.add_argument(
        "--dtype",
        nargs="+",
        default=["q8_0", "f16"],
        help="weight types for reuse and batch, each measured in turn (q8_0 f16): q8_0 is "
        "what users download, f16 the unquantised case",
    )
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--size", default="1G", help="log size for the overhead section")
    ap.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "rlm-bench")
    args = ap.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    from rlm_cli.llm.llama_logging import silence_native_logs

    silence_native_logs()
    print(
        f"# bench_llm  {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}  "
        f"cpus={os.cpu_count()}  threads={args.threads or 'default'}"
    )

    def per_dtype(bench):
        return lambda: [
            line
            for dtype in args.dtype
            for line in bench(sized_model(args.workdir, args.params, dtype), args.threads)
        ]

    sections = {
        "reuse": per_dtype(bench_reuse),
        "batch": per_dtype(bench_batch),
        "openai": bench_openai,
        "overhead": lambda: bench_overhead(args.workdir, args.size),
    }
    for name in args.only:
        print("\n".join(sections[name]()), flush=True)
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
