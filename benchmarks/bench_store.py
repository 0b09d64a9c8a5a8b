#!/usr/bin/env python3
"""Context store benchmark: `rlm` side by side with cp and grep, in one run.

    python benchmarks/bench_store.py              # 1 GB log (and a 100 MB one for memory)
    python benchmarks/bench_store.py --size 100M  # quick run

Generates a log (``sample_logs/generate.py bmc`` when present, else a built-in generator)
in a temporary folder on the same disk as the store (``--dir``), then measures, each as
the median of ``--repeat`` runs after a warm-up, page cache warm for both sides:

- ``rlm ingest`` wall time vs ``cp`` of the same file (target ≤ 1.5x), runs alternated.
  Judged on the best run of each side: on a VM whose freed memory goes back to the host
  (Firecracker's free-page reporting), a run that gets such pages back pays seconds of
  host page faults, cp as much as rlm, so medians swing between two modes. The medians
  are printed too;
- peak RSS of ``rlm ingest`` at SIZE/10 and at SIZE (target ≤ 200 MB, not growing);
- ``rlm grep -c`` for a literal and a regex vs ``LC_ALL=C grep -c`` (-E for the regex)
  (target ≤ 2x; the counts must be equal, the run fails otherwise);
- random ``context.lines(n, n)`` anywhere in the context, after opening (target < 1 ms).

Commands run as subprocesses (``python -m rlm_cli``), so times include interpreter start.
Peak RSS comes from ``os.wait4`` on each child. Exit status 1 when counts differ.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LITERAL = "Correctable ECC"
REGEX = "Temperature CPU[0-9] Temp.*Critical"


def parse_size(text: str) -> int:
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([KMG]?)B?", text.strip().upper())
    if not m:
        raise argparse.ArgumentTypeError(f"bad size {text!r} (e.g. 100M, 1G)")
    return int(float(m[1]) * {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}[m[2]])


def generate(path: Path, size: int) -> None:
    """Write a BMC-style log of about ``size`` bytes to ``path``."""
    gen = REPO / "sample_logs" / "generate.py"
    if gen.exists():
        subprocess.run(
            [sys.executable, str(gen), "bmc", "--size", str(size), "--out", str(path)], check=True
        )
        return
    rng = random.Random(7)
    events = [
        "Session Audit #0xa1 | Session Activated | Asserted",
        "Fan FAN1 | Lower Critical going low | Asserted",
        "Memory #0x87 | Correctable ECC | Asserted | CPU1_DIMM_A2",
        "Temperature CPU1 Temp | Upper Critical going high | Asserted",
        "Power Supply PS2 Status | Power Supply AC lost | Asserted",
    ]
    weights = [80, 14, 1, 1, 4]
    t = 1_793_000_000
    with open(path, "w") as f:
        written = 0
        while written < size:
            block = []
            for _ in range(10_000):
                t += rng.randrange(0, 4)
                ev = rng.choices(events, weights)[0]
                block.append(
                    f"node{rng.randrange(100, 400)} | {rng.randrange(4096):4x} | "
                    f"{time.strftime('%m/%d/%Y | %H:%M:%S', time.gmtime(t))} | {ev}\n"
                )
            text = "".join(block)[: size - written]
            text = text[: text.rfind("\n") + 1] or text
            f.write(text)
            written += len(text)
            if len(text) < 100:
                break


def head_copy(src: Path, dst: Path, size: int) -> None:
    """The first ``size`` bytes of ``src``, cut at a line end (streamed: this process
    stays small, which matters because children start with its peak RSS)."""
    with open(src, "rb") as f, open(dst, "wb") as out:
        left = size
        tail = b""
        while left > 0:
            block = f.read(min(left, 1 << 20))
            if not block:
                break
            left -= len(block)
            out.write(tail)
            tail = block
        out.write(tail[: tail.rfind(b"\n") + 1])


# Runs one command from a tiny interpreter, so that the peak RSS the kernel reports for
# it (``wait4``) starts from that interpreter's few MB and not from this process's size;
# the wall time is taken around fork/exec/wait, without the launcher's own start.
LAUNCH = """
import os, sys, time
t = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as f:
    f.write("%r %d %d" % (time.perf_counter() - t, usage.ru_maxrss, os.waitstatus_to_exitcode(status)))
"""


def run(
    cmd: list[str], env: dict | None = None, stdout=subprocess.DEVNULL
) -> tuple[float, int, bytes]:
    """(wall seconds, peak RSS in MB, stdout) of one command."""
    with tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile("r") as res:
        p = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", LAUNCH, res.name, *cmd],
            env=env,
            stdout=stdout,
            stderr=err,
        )
        out = p.stdout.read() if p.stdout else b""
        p.wait()
        wall, rss_kb, code = res.read().split()
        if int(code) not in (0, 1):
            err.seek(0)
            msg = err.read().decode(errors="replace")
            raise SystemExit(f"{' '.join(cmd)} failed ({code}): {msg}")
    return float(wall), int(rss_kb) // 1024, out


def median_of(fn, repeat: int) -> tuple[float, list]:
    fn()  # warm-up
    results = [fn() for _ in range(repeat)]
    return statistics.median(r[0] for r in results), results


def paired(ours, ref, repeat: int) -> tuple[float, list, float, list]:
    """Medians of alternating runs of two commands (after one warm-up each), so that a
    change in the machine's load hits both sides alike."""
    ours(), ref()
    a, b = [], []
    for _ in range(repeat):
        a.append(ours())
        b.append(ref())
    return statistics.median(r[0] for r in a), a, statistics.median(r[0] for r in b), b


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--size", type=parse_size, default=parse_size("1G"), help="log size (1G)")
    ap.add_argument("--dir", type=Path, default=None, help="work folder (default: system temp)")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per measurement (3)")
    ap.add_argument("--reads", type=int, default=20_000, help="random line reads (20000)")
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="rlm-bench-", dir=args.dir))
    home = work / "home"
    env = {**os.environ, "RLM_HOME": str(home), "PYTHONPATH": str(REPO), "LC_ALL": "C"}
    rlm = [sys.executable, "-m", "rlm_cli"]
    big, small = work / "big.log", work / "small.log"
    rows: list[tuple[str, str, str, str, str, bool]] = []
    try:
        t = time.perf_counter()
        generate(big, args.size)
        size = big.stat().st_size
        head_copy(big, small, size // 10)
        print(
            f"# {size / 1e6:,.0f} MB log ({size:,} bytes) generated in {time.perf_counter() - t:.1f} s "
            f"in {work}",
            file=sys.stderr,
        )

        def cp() -> tuple:
            dst = work / "copy.log"
            os.sync()
            r = run(["cp", str(big), str(dst)])
            dst.unlink()
            return r

        def ingest(path: Path):
            def once() -> tuple:
                shutil.rmtree(home, ignore_errors=True)
                os.sync()
                return run([*rlm, "ingest", "-q", str(path)], env=env, stdout=subprocess.PIPE)

            return once

        _, res_small = median_of(ingest(small), 1)
        rss_small = max(r[1] for r in res_small)
        t_in, res, t_cp, res_cp = paired(ingest(big), cp, args.repeat)
        rss_big = max(r[1] for r in res)
        ctx_id = res[-1][2].decode().strip()  # the last run's context stays in the store
        best_in, best_cp = min(r[0] for r in res), min(r[0] for r in res_cp)
        ratio = best_in / best_cp
        print(
            f"# ingest runs {' '.join(f'{r[0]:.2f}' for r in res)}; "
            f"cp runs {' '.join(f'{r[0]:.2f}' for r in res_cp)}",
            file=sys.stderr,
        )
        rows.append(
            (
                "ingest wall",
                f"best {best_in:.2f} s (median {t_in:.2f})",
                f"cp best {best_cp:.2f} s (median {t_cp:.2f})",
                f"{ratio:.2f}x (median {t_in / t_cp:.2f}x)",
                "<= 1.5x (best)",
                ratio <= 1.5,
            )
        )
        rows.append(
            (
                "ingest peak RSS",
                f"{rss_big} MB @ {size / 1e6:,.0f} MB",
                f"{rss_small} MB @ {size / 1e7:,.0f} MB",
                f"{rss_big / max(rss_small, 1):.2f}x",
                "<= 200 MB, flat",
                rss_big <= 200 and rss_big <= rss_small * 1.25,
            )
        )

        ok_counts = True
        for label, pattern, grep_args in (
            ("grep -c literal", LITERAL, ["-c", LITERAL]),
            ("grep -c regex", REGEX, ["-E", "-c", REGEX]),
        ):
            t_ours, r_ours, t_ref, r_ref = paired(
                lambda p=pattern: run(
                    [*rlm, "grep", "-c", p, "--context", ctx_id], env=env, stdout=subprocess.PIPE
                ),
                lambda a=grep_args: run(["grep", *a, str(big)], env=env, stdout=subprocess.PIPE),
                args.repeat,
            )
            n_ours, n_ref = int(r_ours[0][2]), int(r_ref[0][2])
            same = n_ours == n_ref
            ok_counts &= same
            ratio = t_ours / t_ref
            rows.append(
                (
                    f"{label} ({n_ours:,} lines{'' if same else f' vs {n_ref:,}!'})",
                    f"{t_ours:.2f} s",
                    f"grep {t_ref:.2f} s",
                    f"{ratio:.2f}x",
                    "<= 2x, same count",
                    ratio <= 2 and same,
                )
            )

        sys.path.insert(0, str(REPO))
        os.environ["RLM_HOME"] = str(home)
        from rlm_cli.store.contexts import ContextStore

        t = time.perf_counter()
        ctx = ContextStore(home / "contexts").open(ctx_id)
        t_open = time.perf_counter() - t
        rng = random.Random(1)
        n = ctx.line_count
        picks = [rng.randrange(1, n + 1) for _ in range(args.reads)]
        times = []
        for k in picks:
            t = time.perf_counter()
            ctx.lines(k, k)
            times.append(time.perf_counter() - t)
        times.sort()
        mean = statistics.fmean(times) * 1e3
        p99 = times[int(len(times) * 0.99)] * 1e3
        rows.append(
            (
                f"lines(n, n) random, {n:,} lines",
                f"mean {mean:.3f} ms",
                f"p99 {p99:.3f} ms",
                f"open {t_open * 1e3:.1f} ms",
                "< 1 ms",
                p99 < 1.0,
            )
        )
        ctx.close()

        print(
            f"\nrlm context store benchmark: {size:,} bytes, median of {args.repeat}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} CPUs"
        )
        widths = [max(len(r[i]) for r in rows) for i in range(5)]
        head = ("measure", "rlm", "reference", "ratio", "target")
        widths = [max(w, len(h)) for w, h in zip(widths, head)]
        line = "  ".join(h.ljust(w) for h, w in zip(head, widths)) + "  ok"
        print(line)
        print("-" * len(line))
        for r in rows:
            print(
                "  ".join(c.ljust(w) for c, w in zip(r[:5], widths)) + ("  yes" if r[5] else "  NO")
            )
        return 0 if ok_counts else 1
    finally:
        if args.keep:
            print(f"# kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
