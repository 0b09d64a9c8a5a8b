"""Benchmark rlm's template miner against Drain3 (defaults), side by side in one run.

Grouping accuracy (Loghub definition) from RAW lines, no per-system configuration:

    python benchmarks/bench_templates.py --loghub ../shared/loghub

Throughput and peak memory on the same N-line input (each miner in its own process):

    python benchmarks/bench_templates.py --throughput 1000000

Both run by default. The input for throughput is made from the loghub samples with
their numbers re-drawn (random values and lengths) so lines rarely repeat exactly, or
from a small synthetic generator when the loghub folder is absent. Loghub data is
read, never copied (see its README for the licence and citation).
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rlm_cli.logs.templates import mine  # noqa: E402


def grouping_accuracy(pred: list, truth: list) -> float:
    """Loghub GA: a line is right when its predicted group equals its true group."""
    true_groups: dict = defaultdict(list)
    pred_groups: dict = defaultdict(list)
    for i, (p, t) in enumerate(zip(pred, truth, strict=True)):
        true_groups[t].append(i)
        pred_groups[p].append(i)
    ok = 0
    for idx in pred_groups.values():
        labels = {truth[i] for i in idx}
        if len(labels) == 1 and len(true_groups[truth[idx[0]]]) == len(idx):
            ok += len(idx)
    return ok / len(truth) if truth else 0.0


def read_raw(path: Path) -> list[str]:
    text = path.read_bytes().decode("utf-8", "replace").replace("\r\n", "\n")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def datasets(folder: Path) -> list[tuple[str, Path, Path]]:
    out = []
    for d in sorted(p for p in folder.iterdir() if p.is_dir()):
        raw = d / f"{d.name}_2k.log"
        truth = d / f"{d.name}_2k.log_structured.csv"
        if raw.exists() and truth.exists():
            out.append((d.name, raw, truth))
    return out


def drain3_ids(lines: list[str]) -> list[int]:
    import logging

    logging.disable(logging.WARNING)  # drain3 warns about a missing drain3.ini
    from drain3 import TemplateMiner

    miner = TemplateMiner()
    ids = [miner.add_log_message(line)["cluster_id"] for line in lines]
    logging.disable(logging.NOTSET)
    return ids


def bench_ga(folder: Path) -> None:
    rows = []
    for name, raw, truth_csv in datasets(folder):
        lines = read_raw(raw)
        with open(truth_csv, encoding="utf-8", newline="") as f:
            truth = [r["EventId"] for r in csv.DictReader(f)]
        if len(truth) != len(lines):
            print(f"{name}: {len(lines)} lines but {len(truth)} labels; skipped")
            continue
        t0 = time.perf_counter()
        ours = list(mine(lines).assignments)
        t1 = time.perf_counter()
        drain = drain3_ids(lines)
        t2 = time.perf_counter()
        rows.append(
            (
                name,
                grouping_accuracy(ours, truth),
                grouping_accuracy(drain, truth),
                len(set(ours)),
                len(set(drain)),
                len(set(truth)),
                t1 - t0,
                t2 - t1,
            )
        )
    if not rows:
        print(f"no loghub samples under {folder}")
        return
    print("Grouping accuracy from raw lines (Loghub definition)")
    print(f"{'dataset':<11} {'rlm':>6} {'drain3':>7} {'groups':>7} {'drain3':>7} {'truth':>6}")
    for name, ga, gd, no, nd, nt, _, _ in rows:
        print(f"{name:<11} {ga:>6.3f} {gd:>7.3f} {no:>7} {nd:>7} {nt:>6}")
    mo = sum(r[1] for r in rows) / len(rows)
    md = sum(r[2] for r in rows) / len(rows)
    print(f"{'mean':<11} {mo:>6.3f} {md:>7.3f}")
    print(f"time: rlm {sum(r[6] for r in rows):.2f}s, drain3 {sum(r[7] for r in rows):.2f}s")
    bench_mixed(folder)


def bench_mixed(folder: Path) -> None:
    """All samples concatenated into one stream (several header layouts at once)."""
    lines: list[str] = []
    spans = []
    for name, raw, truth_csv in datasets(folder):
        part = read_raw(raw)
        with open(truth_csv, encoding="utf-8", newline="") as f:
            truth = [r["EventId"] for r in csv.DictReader(f)]
        if len(truth) == len(part):
            spans.append((name, len(lines), len(lines) + len(part), truth))
            lines.extend(part)
    ids = list(mine(lines).assignments)
    gas = [grouping_accuracy(ids[a:b], truth) for _, a, b, truth in spans]
    detail = " ".join(f"{n}={g:.3f}" for (n, *_), g in zip(spans, gas, strict=True))
    print(f"mixed stream (all samples in one input): mean {sum(gas) / len(gas):.3f}  [{detail}]")


# -- throughput --------------------------------------------------------------------

_NUM = re.compile(r"\d+")


def _vary(line: str, rng: random.Random) -> str:
    def redraw(m: re.Match[str]) -> str:
        # short runs (times, dates, small counts) keep their width; long ids and
        # sizes change length too, as they do in real logs
        n = len(m.group())
        if n >= 5:
            n += rng.randint(-1, 1)
        return str(rng.randrange(10 ** (n - 1) if n > 1 else 0, 10**n)).zfill(n)

    return _NUM.sub(redraw, line)


def _synthetic(rng: random.Random) -> list[str]:
    users = ["root", "admin", "alice", "bob", "oracle", "test", "guest", "www"]
    out = []
    for i in range(4000):
        ts = f"2026-11-{1 + i % 28:02d} {i % 24:02d}:{i % 60:02d}:{(i * 7) % 60:02d}"
        k = i % 5
        if k == 0:
            out.append(
                f"{ts} INFO [worker-{i % 8}] app.Server: accepted connection from 10.0.{i % 255}.{i % 7} port {1024 + i}"
            )
        elif k == 1:
            out.append(
                f"{ts} WARN [worker-{i % 8}] app.Auth: failed password for {rng.choice(users)} from 192.168.1.{i % 255}"
            )
        elif k == 2:
            out.append(
                f"{ts} INFO [main] app.Store: flushed {i * 13} bytes to /var/lib/app/seg-{i}.dat in {i % 97} ms"
            )
        elif k == 3:
            out.append(
                f"{ts} ERROR [io-{i % 3}] app.Disk: read error on sd{'abc'[i % 3]} sector 0x{i * 4099:x}"
            )
        else:
            out.append(f"{ts} DEBUG [main] app.Cache: hit ratio {i % 100}.{i % 10}% size={i * 3}")
    return out


def make_input(n: int, folder: Path | None, path: Path, seed: int = 7) -> None:
    rng = random.Random(seed)
    base: list[str] = []
    if folder is not None and folder.is_dir():
        for _, raw, _ in datasets(folder):
            base.extend(read_raw(raw))
    if not base:
        base = _synthetic(rng)
    with open(path, "w", encoding="utf-8") as f:
        written = 0
        rounds = 0
        while written < n:
            for line in base:
                if written >= n:
                    break
                f.write((line if rounds == 0 else _vary(line, rng)) + "\n")
                written += 1
            rounds += 1


_CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[3])
which, path = sys.argv[1], sys.argv[2]
t0 = time.perf_counter()
with open(path, encoding="utf-8", errors="replace") as f:
    if which == "rlm":
        from rlm_cli.logs.templates import mine
        res = mine(f)
        n, k = len(res.assignments), len(res.templates)
    else:
        import logging
        logging.disable(logging.WARNING)
        from drain3 import TemplateMiner
        m = TemplateMiner()
        n = 0
        for line in f:
            m.add_log_message(line.rstrip("\n"))
            n += 1
        k = len(m.drain.clusters)
dt = time.perf_counter() - t0
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"lines": n, "seconds": dt, "templates": k, "maxrss_kib": rss}))
"""


def run_child(which: str, path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, which, str(path), str(ROOT)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_throughput(n: int, folder: Path | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "input.log"
        make_input(n, folder, path)
        size = path.stat().st_size
        print(f"\nThroughput on {n:,} lines ({size / 1e6:.0f} MB), each miner in its own process")
        res = {w: run_child(w, path) for w in ("rlm", "drain3")}
    print(f"{'miner':<8} {'lines/s':>10} {'seconds':>8} {'templates':>10} {'peak RSS MiB':>13}")
    for w, r in res.items():
        lps = r["lines"] / r["seconds"]
        print(
            f"{w:<8} {lps:>10,.0f} {r['seconds']:>8.1f} {r['templates']:>10} {r['maxrss_kib'] / 1024:>13.0f}"
        )
    ratio = (res["rlm"]["lines"] / res["rlm"]["seconds"]) / (
        res["drain3"]["lines"] / res["drain3"]["seconds"]
    )
    print(f"ratio rlm / drain3: {ratio:.2f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = ROOT.parent / "shared" / "loghub"
    if not default.is_dir() and (ROOT.parent.parent / "shared" / "loghub").is_dir():
        default = ROOT.parent.parent / "shared" / "loghub"  # a git worktree one level down
    ap.add_argument("--loghub", type=Path, default=default)
    ap.add_argument("--throughput", type=int, default=1_000_000, metavar="N")
    ap.add_argument("--skip-ga", action="store_true")
    ap.add_argument("--skip-throughput", action="store_true")
    args = ap.parse_args()
    folder = args.loghub if args.loghub.is_dir() else None
    if not args.skip_ga:
        if folder is None:
            print(f"loghub samples not found at {args.loghub}; skipping grouping accuracy")
        else:
            bench_ga(folder)
    if not args.skip_throughput and args.throughput > 0:
        bench_throughput(args.throughput, folder)


if __name__ == "__main__":
    main()
