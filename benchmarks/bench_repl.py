"""Overhead of the sandboxed REPL worker, side by side with references, in one run.

    python benchmarks/bench_repl.py [--repeat N] [--no-isolation]

Measures (medians):

- worker start: ``ReplSession.start()`` until the worker is ready (interpreter start,
  imports, opening the context, the sandbox lockdown). Reference: a bare
  ``python -c pass`` and ``python -I -S -c pass`` started the same way. Target ≤ 150 ms.
- a trivial step's round trip: ``session.execute("x = 1")`` (the AST guard, exec, the
  pipe both ways). Reference: the same code exec'd in process. Target ≤ 5 ms.
- an ``llm_query`` round trip's added cost: a step that calls ``llm_query`` N times,
  against a handler that answers at once (a model call that costs nothing), minus the
  same loop calling a local function; per call. Reference: the handler called directly.
  Target ≤ 2 ms.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rlm_cli.repl.sandbox import OS_LAYER_OFF  # noqa: E402
from rlm_cli.repl.session import ReplConfig, ReplSession  # noqa: E402

TARGETS_MS = {"start": 150.0, "step": 5.0, "llm_query": 2.0}
CALLS_PER_STEP = 200


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def _context(home: Path) -> Path:
    os.environ["RLM_HOME"] = str(home)
    from rlm_cli.store.contexts import ContextStore
    from rlm_cli.store.inputs import expand_inputs

    log = Path(__file__).resolve().parent.parent / "sample_logs" / "bmc_cluster.log"
    store = ContextStore()
    meta = store.ingest(expand_inputs([str(log)]))
    return store.root / meta["id"]


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def bench_start(path: Path, config: ReplConfig, repeat: int) -> dict:
    """Wall and CPU ms of a worker start, ``python -c pass`` and ``python -I -S -c pass``.

    CPU time (the child's user + system, from its rusage once reaped) does not grow when
    other processes compete for the cores; wall time does.
    """
    times: dict[str, list[float]] = {k: [] for k in ("worker", "bare", "isolated")}
    cpu: dict[str, list[float]] = {k: [] for k in times}
    report: dict = {}
    for _ in range(repeat):
        for key, argv in (
            ("bare", [sys.executable, "-c", "pass"]),
            ("isolated", [sys.executable, "-I", "-S", "-c", "pass"]),
        ):
            c0, t0 = _children_cpu(), time.perf_counter()
            subprocess.run(argv, check=True)
            times[key].append(time.perf_counter() - t0)
            cpu[key].append(_children_cpu() - c0)
        s = ReplSession(path, lambda fn, args: "", config)
        c0, t0 = _children_cpu(), time.perf_counter()
        s.start()
        times["worker"].append(time.perf_counter() - t0)
        report = s.isolation
        s.close()  # reaps it: its CPU time (start-up plus a shutdown) is now counted
        cpu["worker"].append(_children_cpu() - c0)
    out = {f"{k}_wall": _median_ms(v) for k, v in times.items()}
    out.update({f"{k}_cpu": _median_ms(v) for k, v in cpu.items()})
    out["report"] = report
    return out


def bench_step(session: ReplSession, repeat: int) -> tuple[float, float]:
    """(trivial step round trip, the same code exec'd in process) in ms."""
    code = compile("x = 1", "<bench>", "exec")
    ns: dict = {}
    local = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        exec(code, ns)  # noqa: S102 - the in-process reference
        local.append(time.perf_counter() - t0)
    remote = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        r = session.execute("x = 1")
        remote.append(time.perf_counter() - t0)
        assert r.error is None, r.error
    return _median_ms(remote), _median_ms(local)


def bench_llm_query(session: ReplSession, handler, repeat: int) -> tuple[float, float]:
    """(added cost per llm_query round trip, the handler called directly) in ms."""
    loop = f"for i in range({CALLS_PER_STEP}):\n    {{call}}('q')"
    session.execute("def local(p):\n    return 'a'")
    with_calls, without = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        r = session.execute(loop.format(call="llm_query"))
        with_calls.append(time.perf_counter() - t0)
        assert r.error is None, r.error
        t0 = time.perf_counter()
        session.execute(loop.format(call="local"))
        without.append(time.perf_counter() - t0)
    per_call = (statistics.median(with_calls) - statistics.median(without)) / CALLS_PER_STEP
    direct = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(CALLS_PER_STEP):
            handler("llm_query", {"prompt": "q"})
        direct.append((time.perf_counter() - t0) / CALLS_PER_STEP)
    return per_call * 1000, _median_ms(direct)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--no-isolation", action="store_true", help="skip the OS layer")
    args = ap.parse_args()
    config = ReplConfig(sandbox=dict(OS_LAYER_OFF) if args.no_isolation else {})
    with tempfile.TemporaryDirectory() as tmp:
        path = _context(Path(tmp))
        st = bench_start(path, config, args.repeat)
        report = st["report"]

        def handler(fn: str, a: dict) -> str:
            return "answer"

        with ReplSession(path, handler, config) as session:
            step, step_ref = bench_step(session, args.repeat * 20)
            call, call_ref = bench_llm_query(session, handler, args.repeat)
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, sandbox: "
        + ", ".join(f"{k}={report.get(k)}" for k in ("network", "filesystem", "privileges"))
    )
    print(
        f"load average {os.getloadavg()[0]:.1f} (1 min); worker start CPU time "
        f"{st['worker_cpu']:.1f} ms (python -c pass {st['bare_cpu']:.1f} ms, "
        f"-I -S {st['isolated_cpu']:.1f} ms)"
    )
    start, bare, isolated = st["worker_wall"], st["bare_wall"], st["isolated_wall"]
    rows = [
        (
            "worker start",
            start,
            f"python -I -S -c pass {isolated:.1f} ms (python -c pass {bare:.1f} ms)",
            start / isolated,
            "start",
        ),
        (
            "trivial step round trip",
            step,
            f"in-process exec {step_ref * 1000:.1f} µs",
            step / step_ref,
            "step",
        ),
        (
            "llm_query added cost",
            call,
            f"handler called directly {call_ref * 1000:.2f} µs",
            call / call_ref,
            "llm_query",
        ),
    ]
    failed = False
    print(f"{'measure':26} {'median':>10} {'target':>9}  ratio  reference")
    for name, value, ref, ratio, key in rows:
        ok = value <= TARGETS_MS[key]
        failed |= not ok
        print(
            f"{name:26} {value:8.2f} ms {'≤' + format(TARGETS_MS[key], 'g') + ' ms':>9}  "
            f"{ratio:5.1f}x {ref}{'' if ok else '  OVER TARGET'}"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
