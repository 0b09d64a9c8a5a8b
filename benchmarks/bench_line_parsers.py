"""Lines per second of the per-line log-map parsers (timestamps, severity, entities).

Usage: PYTHONPATH=. python benchmarks/bench_line_parsers.py FILE... [--repeat N]
Reads the files (e.g. the Loghub 2k samples), concatenates them, repeats the whole
N times (default 50) and times each parser over every line; also prints, per file, how
many lines got a timestamp. Measurement only: nothing here is used by the product.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter
from pathlib import Path

from rlm_cli.logs.entities import extract
from rlm_cli.logs.severity import classify
from rlm_cli.store.timeindex import TimeIndex
from rlm_cli.store.timestamps import TimestampParser


def _rate(fn, lines: list[str]) -> float:
    t = time.perf_counter()
    for line in lines:
        fn(line)
    return len(lines) / (time.perf_counter() - t)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("files", nargs="+", type=Path)
    ap.add_argument("--repeat", type=int, default=50)
    args = ap.parse_args()
    everything: list[str] = []
    for f in args.files:
        lines = f.read_text(encoding="utf-8", errors="replace").splitlines()
        p = TimestampParser()
        got = [p.parse(line) for line in lines]
        kinds = Counter(m.kind for m in got if m is not None)
        n = sum(m is not None for m in got)
        print(f"{f.name:24s} timestamps {n}/{len(lines)} {dict(kinds)}")
        everything += lines
    big = everything * args.repeat
    print(f"{len(big)} lines")
    print(f"timestamps  {_rate(TimestampParser().parse, big):>10,.0f} lines/s")
    print(f"severity    {_rate(classify, big):>10,.0f} lines/s")
    print(f"entities    {_rate(extract, big):>10,.0f} lines/s")
    with tempfile.TemporaryDirectory() as d:
        t = time.perf_counter()
        idx = TimeIndex.build(big, Path(d))
        dt = time.perf_counter() - t
        print(
            f"time index  {len(big) / dt:>10,.0f} lines/s build, {idx.meta['inversions']} inversions"
        )
        idx.close()


if __name__ == "__main__":
    main()
