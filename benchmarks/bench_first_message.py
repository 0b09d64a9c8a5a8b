#!/usr/bin/env python3
"""What the first root message of each task holds, in tokens: the log's description
(``describe_context``: size, sources, sample lines), the brief, and the rest (question,
hint, budget line); the system message beside it. Tokenizer only: no generation.

    PYTHONPATH=. python benchmarks/bench_first_message.py --model M.gguf builtin \
        benchmarks/loghub/suite.yaml

The first message of a new log is read in full (the system message comes from the prompt
cache), so its tokens are most of the time to the first root token.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--model", type=Path, required=True)
    ap.add_argument("--n-ctx", type=int, default=4096)
    ap.add_argument("--show", help="print the messages of this task id")
    ap.add_argument("suites", nargs="+")
    a = ap.parse_args()

    from rlm_cli.actions.lifecycle import prepare_brief
    from rlm_cli.bench.runner import prepare_task
    from rlm_cli.bench.suite import load_suite, resolve
    from rlm_cli.config import Settings
    from rlm_cli.engine.loop import EngineConfig, RlmEngine, describe_context
    from rlm_cli.llm.llama import LlamaModel, LlamaOptions
    from rlm_cli.store.contexts import ContextStore

    model = LlamaModel(a.model, LlamaOptions(n_ctx=a.n_ctx, n_threads=1))
    columns = ("first", "description", "brief", "rest", "system")
    with tempfile.TemporaryDirectory() as tmp:
        store = ContextStore(Path(tmp))
        for spec in a.suites:
            suite = load_suite(spec)
            rows = []
            print(f"{spec} ({a.model.name}, n_ctx {a.n_ctx})")
            print(f"  {'task':26}" + "".join(f"{c:>12}" for c in columns))
            for task in suite.tasks:
                resolved = resolve(task, suite, a.n_ctx)
                ctx = prepare_task(resolved, store).context
                brief = prepare_brief(ctx, model, Settings(), lambda _m: None)
                engine = RlmEngine(model, model, ctx, EngineConfig(), brief=brief)
                system, first = (m["content"] for m in engine.first_messages(resolved.question))
                total = model.count_tokens(first)
                described = model.count_tokens(describe_context(ctx))
                briefed = model.count_tokens(brief)
                row = (
                    total,
                    described,
                    briefed,
                    total - described - briefed,
                    model.count_tokens(system),
                )
                rows.append(row)
                print(f"  {task.id:26}" + "".join(f"{v:>12,}" for v in row))
                if a.show == task.id:
                    print(system, "\n=====\n", first, sep="")
            medians = [statistics.median(r[i] for r in rows) for i in range(len(columns))]
            print(f"  {'median':26}" + "".join(f"{v:>12,.0f}" for v in medians))
    model.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
