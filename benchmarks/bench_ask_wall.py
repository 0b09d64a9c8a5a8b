"""Whole-process `rlm ask`: wall seconds and peak memory, this tree against another checkout.

    PYTHONPATH=. python benchmarks/bench_ask_wall.py --model M.gguf --ref /path/to/old/checkout

Runs each question once per tree to warm the prompt cache (one fresh data dir for both, so
both find the same cache), then ``--reps`` times per tree, alternating, one at a time. Prints
the median wall time and peak resident memory of each tree's process and their ratio. What
`rlm bench` times starts after the models are loaded; this is what an operator waits for.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
QUESTIONS = [
    ("which node will fail", "sample_logs/bmc_cluster.log"),
    ("how many critical events are there", "sample_logs/bmc_cluster.log"),
    ("which host logged the most errors", "sample_logs/syslog_kernel.log"),
]


def run_once(tree: Path, model: str, question: str, log: Path, env: dict) -> tuple[float, int, int]:
    """(wall seconds, peak RSS in MiB, exit status) of one `rlm ask` from ``tree``."""
    cmd = [sys.executable, "-m", "rlm_cli", "ask", question, str(log), "-m", model]
    cmd += ["--n-ctx", "4096", "--threads", "2", "--timeout", "120", "--no-log", "--quiet"]
    start = time.monotonic()
    proc = subprocess.Popen(
        cmd, env=dict(env, PYTHONPATH=str(tree)), stdout=subprocess.DEVNULL, cwd=tree
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    return wall, usage.ru_maxrss // 1024, os.waitstatus_to_exitcode(status)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--ref", required=True, help="checkout to compare with (its rlm_cli is run)")
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    trees = {"this": HERE, "ref": Path(args.ref).resolve()}
    home = tempfile.mkdtemp(prefix="rlm-wall-")
    env = dict(os.environ, RLM_HOME=home, XDG_CONFIG_HOME=os.path.join(home, "cfg"))
    env.pop("NO_COLOR", None)
    print(f"model {args.model}; load {os.getloadavg()[0]:.2f}; reps {args.reps}")
    for question, log in QUESTIONS:
        for tree in trees.values():
            run_once(tree, args.model, question, HERE / log, env)  # warm the prompt cache
        got: dict[str, list[tuple[float, int, int]]] = {name: [] for name in trees}
        for _ in range(args.reps):
            for name, tree in trees.items():
                got[name].append(run_once(tree, args.model, question, HERE / log, env))
        wall = {n: statistics.median(w for w, _, _ in rs) for n, rs in got.items()}
        rss = {n: statistics.median(m for _, m, _ in rs) for n, rs in got.items()}
        codes = {n: sorted({c for _, _, c in rs}) for n, rs in got.items()}
        print(
            f"{question!r} on {log}: wall {wall['this']:.1f} s vs {wall['ref']:.1f} s "
            f"({wall['this'] / wall['ref']:.2f}x); peak memory {rss['this']:,} MiB vs "
            f"{rss['ref']:,} MiB ({rss['this'] / rss['ref']:.2f}x); exit {codes['this']} vs "
            f"{codes['ref']}"
        )
    print(f"load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
