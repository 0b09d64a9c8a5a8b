"""Helpers for `rlm scan` tests: a log writer that numbers every line it writes, a
scripted model that reports every line number it saw, and a CLI runner."""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
from pathlib import Path

import orjson
import yaml
from helpers import Result, run_rlm_forked, spawn_rlm

# The root model's one reply: report every seq= it can see (the test checks each line
# written is seen exactly once across runs) and one finding per node with an ERROR line.
SEE_ALL = """\
```repl
import re, json
seqs = [int(s) for s in re.findall(r"seq=(\\d+)", context[0:len(context)])]
seen = set()
for n, line in context.grep("ERROR"):
    node = re.search(r"node\\d+", line).group(0)
    if node not in seen:
        seen.add(node)
        FINDING(node, "error", "uncorrectable ECC on " + node + " DIMM_B2, count " + str(n), lines=[n])
FINAL(json.dumps(seqs))
```"""


def write_model(path: Path, delay_s: float = 0.0) -> Path:
    """The scripted model file; ``delay_s`` makes it 'think' before replying."""
    reply = {"text": SEE_ALL, "delay_s": delay_s} if delay_s else SEE_ALL
    path.write_text(yaml.safe_dump({"root": [reply]}, sort_keys=False))
    return path


class LogWriter:
    """Writes numbered BMC-style lines and remembers every number and byte written."""

    def __init__(self) -> None:
        self.seq = 0
        self.bytes = 0
        self.seqs: list[int] = []

    def lines(self, n: int, node: str = "node03", error: bool = False) -> bytes:
        out = []
        for _ in range(n):
            self.seq += 1
            self.seqs.append(self.seq)
            what = "Uncorrectable ECC ERROR" if error else "Correctable ECC logged"
            out.append(
                f"2026-11-25T07:{self.seq // 60 % 60:02d}:{self.seq % 60:02d} {node} | SEL | Memory | "
                f"{what} | DIMM_B2 | seq={self.seq:06d}\n"
            )
        data = "".join(out).encode()
        self.bytes += len(data)
        return data

    def append(self, path: Path, n: int, **kw) -> None:
        with open(path, "ab") as f:
            f.write(self.lines(n, **kw))


class Scanner:
    """Runs `rlm scan --json` over one target with one state, and keeps the totals."""

    def __init__(self, tmp: Path, target: Path, model: Path | None = None) -> None:
        self.tmp = tmp
        self.target = target
        self.model = model or write_model(tmp / "model.yaml")
        self.state = tmp / "state"
        self.new_bytes = 0
        self.seqs: list[int] = []
        self.runs: list[dict] = []

    def args(self, *extra: str, model: Path | None = None) -> list[str]:
        return [
            "scan",
            str(self.target),
            "--question",
            "which node will fail",
            "--state",
            str(self.state),
            "--model",
            f"script:{model or self.model}",
            "--json",
            "--no-log",
            *extra,
        ]

    def run(self, *extra: str, expect: int | None = None) -> dict:
        r = run_rlm_forked(self.args(*extra), self.tmp)
        assert r.code in (0, 1), r.stderr
        if expect is not None:
            assert r.code == expect, (r.code, r.stderr)
        return self.record(r)

    def record(self, r: Result) -> dict:
        d = r.json()
        self.runs.append(d)
        self.new_bytes += sum(s["new_bytes"] for s in d["scanned"])
        if d["model_called"]:
            self.seqs += orjson.loads(d["answer"])
        return d

    def popen(self, *extra: str, model: Path | None = None) -> subprocess.Popen:
        return spawn_rlm(self.args(*extra, model=model), self.tmp)

    def assert_exact(self, w: LogWriter) -> None:
        """Every byte and every line written was analysed exactly once."""
        assert self.new_bytes == w.bytes
        assert sorted(self.seqs) == w.seqs, "a line was read twice or skipped"


def by_path(d: dict) -> dict[str, dict]:
    """The ``scanned`` entries of a summary by path."""
    return {s["path"]: s for s in d["scanned"]}


def gzip_file(src: Path, dst: Path) -> None:
    """``gzip src`` the way logrotate does: write dst, remove src."""
    with open(src, "rb") as f, gzip.open(dst, "wb") as g:
        shutil.copyfileobj(f, g)
    os.unlink(src)


def contexts_dir(tmp: Path) -> Path:
    """Where the isolated CLI stores contexts."""
    return tmp / "data" / "contexts"
