"""The log map on the format zoo and on Loghub: GA, hosts, times, severities, fleet ranking.

    python benchmarks/bench_zoo.py                    # every zoo format, 2,000 lines each
    python benchmarks/bench_zoo.py --only sel-host-colon -v   # one format, with misses
    python benchmarks/bench_zoo.py --fleet            # `rlm brief` ranking on BMC fleets
    python benchmarks/bench_zoo.py --skip-zoo --folder   # every format as a file of one context
    python benchmarks/bench_zoo.py --loghub ../shared/loghub --systems Apache,BGL

The zoo (rlm_cli/testing/logzoo.py) is generated with ground truth; Loghub is read, never
copied (see its README for the licence and citation). GA is the Loghub definition.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rlm_cli.testing import logzoo  # noqa: E402


def bench_zoo(only: list[str] | None, n: int, verbose: bool, seed: int = 0) -> None:
    names = only or list(logzoo.FORMATS)
    print(
        f"{'format':<20} {'GA':>6} {'hosts':>6} {'time':>6} {'sev':>6} {'groups':>7} {'truth':>6}"
    )
    rows = []
    t0 = time.perf_counter()
    for name in names:
        s = logzoo.score(name, logzoo.generate(name, n, seed))
        rows.append(s)
        hr = "-" if s.host_recall is None else f"{s.host_recall:.3f}"
        print(
            f"{name:<20} {s.ga:>6.3f} {hr:>6} {s.time_rate:>6.3f} {s.severity:>6.3f}"
            f" {s.templates:>7} {s.true_templates:>6}"
        )
        if verbose:
            for kind, ex in s.misses.items():
                for e in ex:
                    print(f"    {kind}: {e}")
    hosted = [r.host_recall for r in rows if r.host_recall is not None]
    print(
        f"{'min':<20} {min(r.ga for r in rows):>6.3f} {min(hosted, default=1):>6.3f}"
        f" {min(r.time_rate for r in rows):>6.3f} {min(r.severity for r in rows):>6.3f}"
    )
    print(
        f"{'mean':<20} {sum(r.ga for r in rows) / len(rows):>6.3f}"
        f" {sum(hosted) / max(1, len(hosted)):>6.3f}"
        f" {sum(r.time_rate for r in rows) / len(rows):>6.3f}"
        f" {sum(r.severity for r in rows) / len(rows):>6.3f}"
    )
    print(f"{len(rows)} formats x {n} lines in {time.perf_counter() - t0:.1f}s")


def bench_folder(n: int) -> None:
    """Every zoo format as its own file of one context (a folder piped in): GA per format."""
    import io

    from rlm_cli.logs.logmap import ensure_logmap
    from rlm_cli.store.context import Context
    from rlm_cli.store.ingest import ingest_streams

    streams, spans, at = [], [], 0
    for name in logzoo.FORMATS:
        zoo = logzoo.generate(name, n)
        text = "\n".join(z.text for z in zoo) + "\n"
        streams.append((f"{name}.log", io.BytesIO(text.encode()), None))
        spans.append((name, at, [z.template for z in zoo]))
        at += len(zoo)
    with tempfile.TemporaryDirectory() as tmp:
        meta = ingest_streams(Path(tmp), streams)
        ids = list(ensure_logmap(Context(Path(tmp) / meta["id"])).mining.assignments)
    gas = {name: logzoo.grouping_accuracy(ids[a : a + len(t)], t) for name, a, t in spans}
    low = {k: round(v, 3) for k, v in gas.items() if v < 0.95}
    print(f"\nall {len(gas)} formats as files of one context ({n} lines each):")
    print(
        f"GA mean {sum(gas.values()) / len(gas):.3f}, min {min(gas.values()):.3f}; below 0.95: {low}"
    )


def bench_fleet(seeds: int) -> None:
    from rlm_cli.logs.brief import make_brief
    from rlm_cli.logs.logmap import ensure_logmap
    from rlm_cli.store.context import Context
    from rlm_cli.store.ingest import ingest_streams

    print(f"\n`rlm brief` on BMC fleets ({seeds} seeds each): failing node ranked first?")
    with tempfile.TemporaryDirectory() as tmp:
        for name in logzoo.HOSTED_BMC_FORMATS:
            firsts = []
            for seed in range(seeds):
                lines, failing, noisy = logzoo.fleet(name, seed)
                ctx = _context(Path(tmp), "\n".join(lines) + "\n", ingest_streams, Context)
                brief = make_brief(ctx, ensure_logmap(ctx))
                hosts = [e["name"] for e in brief["entities"] if e["kind"] == "host"]
                top = brief["entities"][0]["name"] if brief["entities"] else None
                firsts.append(top is not None and top.lower() == failing.lower())
                if not firsts[-1]:
                    print(
                        f"  {name} seed {seed}: first {top!r}, hosts {hosts[:4]}, failing {failing}"
                    )
            print(f"{name:<20} {sum(firsts)}/{len(firsts)}")


def _context(root: Path, text: str, ingest_streams, Context):
    import io

    meta = ingest_streams(root, [("fleet.log", io.BytesIO(text.encode()), None)])
    return Context(root / meta["id"])


def bench_loghub(folder: Path, systems: list[str] | None) -> None:
    from rlm_cli.logs.templates import mine

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_templates import datasets, read_raw

    rows = []
    for name, raw, truth_csv in datasets(folder):
        if systems and name not in systems:
            continue
        lines = read_raw(raw)
        with open(truth_csv, encoding="utf-8", newline="") as f:
            truth = [r["EventId"] for r in csv.DictReader(f)]
        ids = list(mine(lines).assignments)
        rows.append((name, logzoo.grouping_accuracy(ids, truth), len(set(ids)), len(set(truth))))
    print(f"\nLoghub GA from raw lines ({len(rows)} systems)")
    for name, ga, k, kt in rows:
        print(f"{name:<11} {ga:.3f} groups {k} truth {kt}")
    if rows:
        print(f"{'mean':<11} {sum(r[1] for r in rows) / len(rows):.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", help="comma-separated zoo formats")
    ap.add_argument("-n", type=int, default=2000, help="lines per format")
    ap.add_argument("-v", "--verbose", action="store_true", help="show a few misses")
    ap.add_argument("--fleet", action="store_true", help="also rank fleets with the brief")
    ap.add_argument("--folder", action="store_true", help="also all formats as one folder")
    ap.add_argument("--seed", type=int, default=0, help="zoo seed")
    ap.add_argument("--seeds", type=int, default=3, help="fleets per BMC format")
    ap.add_argument("--loghub", type=Path, help="a Loghub 2k folder (measure GA there)")
    ap.add_argument("--systems", help="comma-separated Loghub systems (default all)")
    ap.add_argument("--skip-zoo", action="store_true")
    args = ap.parse_args()
    if not args.skip_zoo:
        bench_zoo(args.only.split(",") if args.only else None, args.n, args.verbose, args.seed)
    if args.folder:
        bench_folder(args.n)
    if args.fleet:
        bench_fleet(args.seeds)
    if args.loghub:
        bench_loghub(args.loghub, args.systems.split(",") if args.systems else None)


if __name__ == "__main__":
    main()
