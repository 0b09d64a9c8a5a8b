"""The log map on the generated format zoo: every format meets the targets of issue 14.

Each format is generated with its truth (templates, hosts, severities, times) by
rlm_cli/testing/logzoo.py; benchmarks/bench_zoo.py prints the same figures at full size.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from rlm_cli.logs.brief import make_brief
from rlm_cli.logs.logmap import ensure_logmap
from rlm_cli.store.context import Context
from rlm_cli.store.ingest import ingest_streams
from rlm_cli.testing import logzoo


def test_the_zoo_has_enough_formats_and_is_deterministic():
    assert len(logzoo.FORMATS) >= 25
    assert len(logzoo.HOSTED_BMC_FORMATS) >= 5
    a = logzoo.generate("sel-host-colon", 50, seed=3)
    assert a == logzoo.generate("sel-host-colon", 50, seed=3)
    assert a != logzoo.generate("sel-host-colon", 50, seed=4)
    assert all(z.host and z.host in z.text for z in a)


@pytest.mark.parametrize("name", sorted(logzoo.FORMATS))
def test_every_format_meets_the_targets(name):
    s = logzoo.score(name, logzoo.generate(name, 400, seed=1))
    assert s.ga >= 0.95, (s.ga, s.templates, s.true_templates)
    assert s.host_recall is None or s.host_recall >= 0.98, s.misses.get("host")
    assert s.time_rate >= 0.99, s.misses.get("time")


def test_grouping_accuracy_is_the_loghub_definition():
    assert logzoo.grouping_accuracy([1, 1, 2], ["a", "a", "b"]) == 1.0
    assert logzoo.grouping_accuracy([1, 1, 1], ["a", "a", "b"]) == 0.0
    assert logzoo.grouping_accuracy([1, 2, 3], ["a", "a", "b"]) == pytest.approx(1 / 3)


@pytest.mark.parametrize("name", logzoo.HOSTED_BMC_FORMATS)
def test_brief_ranks_the_failing_node_first_in_every_bmc_format(name, tmp_path: Path):
    lines, failing, noisy = logzoo.fleet(name, seed=0)
    per_host = {h: sum(1 for line in lines if h in line) for h in (failing, noisy)}
    assert per_host[noisy] >= 2 * per_host[failing]  # the noisy healthy node is louder
    meta = ingest_streams(
        tmp_path, [("fleet.log", io.BytesIO(("\n".join(lines) + "\n").encode()), None)]
    )
    ctx = Context(tmp_path / meta["id"])
    brief = make_brief(ctx, ensure_logmap(ctx))
    top = brief["entities"][0]
    assert (top["kind"], top["name"].lower()) == ("host", failing.lower())
    assert all(failing in lines[n - 1] for n in top["severe_lines"])


def test_a_folder_of_different_logs_gets_a_layout_per_file(tmp_path: Path):
    names = sorted(logzoo.FORMATS)[::3]  # 12 formats, one file each, in one context
    streams, spans, at = [], [], 0
    for name in names:
        zoo = logzoo.generate(name, 400, seed=1)  # as in the per-format test
        text = "\n".join(z.text for z in zoo) + "\n"
        streams.append((f"{name}.log", io.BytesIO(text.encode()), None))
        spans.append((name, at, [z.template for z in zoo]))
        at += len(zoo)
    meta = ingest_streams(tmp_path, streams)
    ids = list(ensure_logmap(Context(tmp_path / meta["id"])).mining.assignments)
    gas = {n: logzoo.grouping_accuracy(ids[a : a + len(t)], t) for n, a, t in spans}
    assert min(gas.values()) >= 0.95, gas
