"""Template mining: grouping, masking, persistence and memory caps, on small fixtures."""

from __future__ import annotations

import random
from array import array

import pytest

from rlm_cli.errors import StoreError
from rlm_cli.logs.headers import HeaderModel
from rlm_cli.logs.masking import mask, mask_many, mask_typed
from rlm_cli.logs.templates import (
    MinerConfig,
    MiningResult,
    Template,
    TemplateMiner,
    merge_signatures,
    mine,
)

USERS = ["root", "admin", "oracle", "test", "guest", "webmaster", "pi", "ubnt", "support"]


def labelled_syslog(n: int = 300, seed: int = 3) -> tuple[list[str], list[str]]:
    """Syslog lines with the kind of each line (the ground truth for grouping)."""
    rng = random.Random(seed)
    lines, kinds = [], []
    for i in range(n):
        t = f"Dec {1 + i % 28:2d} {i % 24:02d}:{i % 60:02d}:{(13 * i) % 60:02d}"
        pid = rng.randint(100, 30000)
        ip = f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        k = rng.randrange(7)
        if k == 0:
            lines.append(f"{t} gw sshd[{pid}]: Invalid user {rng.choice(USERS)} from {ip}")
        elif k == 1:
            lines.append(
                f"{t} gw sshd[{pid}]: Failed password for {rng.choice(USERS)} from {ip} port {rng.randint(1024, 65535)} ssh2"
            )
        elif k == 2:
            lines.append(
                f"{t} gw sshd[{pid}]: Failed none for {rng.choice(USERS)} from {ip} port {rng.randint(1024, 65535)} ssh2"
            )
        elif k == 3:
            lines.append(
                f"{t} gw sshd[{pid}]: Received disconnect from {ip}: 11: Bye Bye [preauth]"
            )
        elif k == 4:
            lines.append(
                f"{t} gw sshd[{pid}]: Received disconnect from {ip}: 11: disconnected by user"
            )
        elif k == 5:
            lines.append(
                f"{t} gw su[{pid}]: session opened for user {rng.choice(USERS)} by (uid=0)"
            )
        else:
            lines.append(
                f"{t} gw kernel: eth{rng.randint(0, 3)}: link up, {rng.choice([100, 1000, 10000])} Mbps full duplex"
            )
        kinds.append(str(k))
    return lines, kinds


def sel_lines() -> tuple[list[str], list[str]]:
    """ipmitool sel elist style rows."""
    rows = []
    rng = random.Random(5)
    for i in range(1, 120):
        k = rng.randrange(4)
        d = f"11/{1 + i % 28:02d}/2026 | {i % 24:02d}:{i % 60:02d}:{(7 * i) % 60:02d}"
        if k == 0:
            rows.append(
                (
                    f"{i:4x} | {d} | Memory #0x{rng.randint(0x80, 0x8F):02x} | Correctable ECC | Asserted",
                    "ecc",
                )
            )
        elif k == 1:
            rows.append(
                (
                    f"{i:4x} | {d} | Fan #0x{rng.randint(0x30, 0x3F):02x} | Lower Critical going low | Asserted",
                    "fanlow",
                )
            )
        elif k == 2:
            rows.append(
                (
                    f"{i:4x} | {d} | Temperature #0x{rng.randint(1, 9):02x} | Upper Critical going high | Asserted",
                    "temp",
                )
            )
        else:
            rows.append(
                (
                    f"{i:4x} | {d} | Power Supply #0x{rng.randint(0x60, 0x6F):02x} | Failure detected | Deasserted",
                    "psu",
                )
            )
    return [r[0] for r in rows], [r[1] for r in rows]


def log4j_lines() -> tuple[list[str], list[str]]:
    rng = random.Random(9)
    lines, kinds = [], []
    for i in range(200):
        ts = f"2026-11-23 04:{i % 60:02d}:{(3 * i) % 60:02d},{rng.randint(0, 999):03d}"
        k = rng.randrange(4)
        if k == 0:
            lines.append(
                f"{ts} INFO [pool-1-thread-{rng.randint(1, 9)}] org.app.Http: GET /api/v1/items/{rng.randint(1, 99999)} 200 {rng.randint(1, 900)}ms"
            )
        elif k == 1:
            lines.append(
                f"{ts} WARN [main] org.app.Pool: connection 0x{rng.randint(0, 2**32):08x} idle for {rng.randint(1, 60)}s, closing"
            )
        elif k == 2:
            lines.append(
                f"{ts} ERROR [worker-{rng.randint(1, 4)}] org.app.Store: write to /data/seg-{rng.randint(1, 999)}.log failed: No space left on device"
            )
        else:
            lines.append(
                f"{ts} INFO [main] org.app.Task: task {rng.randint(1, 9)}a{rng.randint(100, 999)} moved from QUEUED to RUNNING"
            )
        kinds.append(str(k))
    return lines, kinds


def kv_lines() -> tuple[list[str], list[str]]:
    rng = random.Random(11)
    lines, kinds = [], []
    for i in range(150):
        ts = f"ts=2026-11-23T04:{i % 60:02d}:{(7 * i) % 60:02d}Z"
        if i % 2:
            lines.append(
                f'{ts} level=info msg="request done" path=/v1/{rng.choice(["a", "b", "c", "d", "e"])} status=200 dur={rng.randint(1, 500)}ms'
            )
            kinds.append("done")
        else:
            lines.append(
                f'{ts} level=error msg="upstream timeout" upstream=10.1.{rng.randint(0, 9)}.{rng.randint(1, 9)}:8080 after={rng.randint(1, 30)}s'
            )
            kinds.append("timeout")
    return lines, kinds


def assert_grouping(ids, kinds) -> None:
    """Lines of one kind share an id; lines of different kinds never do."""
    by_kind: dict[str, set[int]] = {}
    by_id: dict[int, set[str]] = {}
    for i, k in zip(ids, kinds, strict=True):
        by_kind.setdefault(k, set()).add(i)
        by_id.setdefault(i, set()).add(k)
    split = {k: v for k, v in by_kind.items() if len(v) > 1}
    merged = {i: v for i, v in by_id.items() if len(v) > 1}
    assert not split, f"kinds split over several templates: {split}"
    assert not merged, f"templates mixing kinds: {merged}"


@pytest.mark.parametrize("fixture", [labelled_syslog, sel_lines, log4j_lines, kv_lines])
def test_grouping_on_several_log_styles(fixture) -> None:
    lines, kinds = fixture()
    res = mine(lines)
    assert len(res.assignments) == len(lines)
    assert_grouping(list(res.assignments), kinds)
    assert len(res.templates) == len(set(kinds))


def test_apache_error_style() -> None:
    lines, kinds = [], []
    for i in range(60):
        ts = f"[Sun Dec 04 0{i % 10}:{i % 60:02d}:44 2005]"
        if i % 3 == 0:
            lines.append(f"{ts} [error] mod_jk child workerEnv in error state {i % 9}")
            kinds.append("a")
        else:
            lines.append(
                f"{ts} [notice] jk2_init() Found child {5000 + i} in scoreboard slot {i % 10}"
            )
            kinds.append("b")
    assert_grouping(list(mine(lines).assignments), kinds)


def test_template_fields_and_order() -> None:
    lines, kinds = labelled_syslog(100)
    res = mine(lines)
    ts = res.templates
    assert [t.id for t in ts] == list(range(1, len(ts) + 1))
    assert [t.first_line for t in ts] == sorted(t.first_line for t in ts)
    assert sum(t.count for t in ts) == len(lines)
    for t in ts:
        assert 1 <= len(t.examples) <= 5
        assert t.examples[0] == t.first_line
        assert all(res.assignments[n - 1] == t.id for n in t.examples)
    # the user name position became a variable, the wording did not
    invalid = next(t for t in ts if t.pattern.startswith("Invalid user"))
    assert invalid.pattern == "Invalid user <*> from <*>"
    assert any(t.pattern.startswith("Failed none for <*>") for t in ts)


def test_masking() -> None:
    assert mask("from 10.0.0.1:22 port 513") == "from <*>:<*> port <*>"
    assert mask_typed("from 10.0.0.1:22") == "from <IP>:<NUM>"
    assert (
        mask_typed("addr 0x1fA3 id 550e8400-e29b-41d4-a716-446655440000") == "addr <HEX> id <UUID>"
    )
    assert mask_typed("mac 00:1a:2b:3c:4d:5e") == "mac <MAC>"
    assert mask_typed("digest d3b07384d113edec49eaa6238ad5ff00") == "digest <HEX>"
    assert mask("node-246 blk_-6952295868487656571 R02-M1") == "node-<*> blk_<*> R<*>-M<*>"
    assert mask("took 12.5ms and 3 s, 4096KB, 90%") == "took <*> and <*> s, <*>, <*>"
    assert mask("at Sat Jul  9 12:16:52 2005 ok") == "at <*> ok"
    # words are never masked: whether a word is a variable is the miner's call
    assert mask("Invalid user webmaster from") == "Invalid user webmaster from"
    assert mask("ssh2 eth0") == "ssh<*> eth<*>"
    assert mask_many(["a 1", "b 22", "c"]) == ["a <*>", "b <*>", "c"]


def test_merge_keeps_wording_and_merges_values() -> None:
    sigs = [
        ("Failed", "password", "for", "root"),
        ("Failed", "password", "for", "admin"),
        ("Failed", "password", "for", "bob"),
        ("Failed", "password", "for", "eve"),
        ("Failed", "none", "for", "root"),
        ("Link", "up"),
        ("Link", "down"),
        ("open", "/var/log/a.log"),
        ("open", "/srv/b.dat"),
        ("state", "from", "NEW", "to", "RUNNING"),
        ("state", "from", "RUNNING", "to", "DONE"),
        ("state", "from", "DONE", "to", "GONE"),
        ("state", "from", "GONE", "to", "NEW"),
    ]
    g = merge_signatures(sigs, [1] * len(sigs))
    assert g[0] == g[1] == g[2] == g[3]  # user names: many values
    assert g[4] != g[0]  # password / none: wording
    assert g[5] != g[6]  # up / down: two words
    assert g[7] == g[8]  # paths look like values
    assert len({g[9], g[10], g[11], g[12]}) == 4  # co-varying enum states stay apart


def test_add_one_by_one_matches_batch() -> None:
    lines, _ = log4j_lines()
    hm = HeaderModel.learn(lines)
    a = TemplateMiner(hm)
    for line in lines:
        assert a.add(line + "\n") >= 1
    b = TemplateMiner(HeaderModel.learn(lines))
    b.add_many(lines)
    assert list(a.assignments()) == list(b.assignments())
    assert [t.pattern for t in a.finish()] == [t.pattern for t in b.finish()]
    assert isinstance(a.assignments(), array)


def test_crlf_and_blank_lines() -> None:
    lines, kinds = kv_lines()
    res = mine([line + "\r\n" for line in lines] + ["\r\n", ""])
    assert len(res.assignments) == len(lines) + 2
    assert_grouping(list(res.assignments)[: len(lines)], kinds)


def test_mixed_sources_learn_a_second_layout() -> None:
    a, ka = log4j_lines()
    b, kb = labelled_syslog(700)
    res = mine(a + b, config=MinerConfig(header_sample=100))
    ids = list(res.assignments)
    assert_grouping(ids, ["a" + k for k in ka] + ["b" + k for k in kb])


def test_persistence_round_trip(tmp_path) -> None:
    lines, _ = labelled_syslog(80)
    res = mine(lines)
    res.save(tmp_path / "map")
    assert not [p for p in (tmp_path / "map").iterdir() if p.name.startswith(".")]
    back = MiningResult.load(tmp_path / "map")
    assert back.templates == res.templates
    assert list(back.assignments) == list(res.assignments)
    assert isinstance(back.templates[0], Template)


def test_load_detects_damage(tmp_path) -> None:
    res = mine(labelled_syslog(40)[0])
    res.save(tmp_path)
    (tmp_path / "assignments.u32").write_bytes(b"\x01\x00\x00\x00")
    with pytest.raises(StoreError):
        MiningResult.load(tmp_path)
    with pytest.raises(StoreError):
        MiningResult.load(tmp_path / "missing")


def test_memory_caps_are_respected() -> None:
    # every line has a unique word no mask catches: the worst case for the caches
    rng = random.Random(1)
    words = [
        "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(10)) for _ in range(3000)
    ]
    lines = [
        f"job {w} finished" if i % 2 else f"worker {w} {w[::-1]} crashed hard"
        for i, w in enumerate(words)
    ]
    cfg = MinerConfig(max_signatures=50, max_fast_keys=100)
    miner = TemplateMiner(HeaderModel.empty(), cfg)
    miner.add_many(lines)
    assert len(miner._sigs) <= cfg.max_signatures + 8  # plus one overflow per token count
    assert len(miner._fast) <= cfg.max_fast_keys
    ts = miner.finish()
    assert sum(t.count for t in ts) == len(lines)
    ids = list(miner.assignments())
    assert len(ids) == len(lines)
    # despite the caps, the two kinds of line never share a template
    kinds = ["job" if i % 2 else "worker" for i in range(len(lines))]
    by_id: dict[int, set[str]] = {}
    for i, k in zip(ids, kinds, strict=True):
        by_id.setdefault(i, set()).add(k)
    assert all(len(v) == 1 for v in by_id.values())


def test_long_bodies_are_grouped_on_their_start() -> None:
    rng = random.Random(2)
    lines = []
    for _ in range(20):
        ids = " ".join(f"blk_{rng.randint(10**8, 10**12)}" for _ in range(rng.randint(50, 400)))
        lines.append(f"ask 10.0.0.{rng.randint(1, 9)}:50010 to delete {ids}")
    lines.append("short line")
    cfg = MinerConfig(max_body_chars=300)
    res = mine(lines, header=HeaderModel.empty(), config=cfg)
    ids = list(res.assignments)
    assert len(set(ids[:20])) == 1 and ids[20] != ids[0]
    assert res.templates[0].pattern.startswith("ask <*>:<*> to delete blk_<*>")


def test_load_rejects_truncated_assignments(tmp_path) -> None:
    mine(labelled_syslog(40)[0]).save(tmp_path)
    data = (tmp_path / "assignments.u32").read_bytes()
    (tmp_path / "assignments.u32").write_bytes(data[:-1])
    with pytest.raises(StoreError):
        MiningResult.load(tmp_path)


def test_masks_for_ids_paths_urls_quotes_and_units() -> None:
    assert mask_typed("r3n09-bmc:  5bb | id 90c") == "r<NUM>n<NUM>-bmc:  <HEX> | id <HEX>"
    assert mask_typed("GET https://a.svc:8080/api/v1/x?id=3 done") == "GET <URL> done"
    assert mask_typed("wrote to /var/lib/a//b-1.dat ok") == "wrote to <PATH> ok"
    assert mask_typed("user \"alice-5\" pool='tank' it's") == "user <QUOTED> pool=<QUOTED> it's"
    assert mask("3.2MiB in 12ms after 4min") == "<*> in <*> after <*>"
    assert mask("r/w off/down add bad face") == "r/w off/down add bad face"  # words stay


def test_decoration_before_the_message_does_not_split_templates() -> None:
    threads = ["main", "pool-1-thread-3", "http-nio-8080-exec-2", "scheduler-1", "worker"]
    classes = ["a.b.OrderService", "a.b.Pool", "org.x.Server"]
    lines = []
    for i in range(200):
        pre = f"2026-11-18 10:{i % 60:02d}:00,1 INFO [{threads[i % 5]}] {classes[i % 3]} - "
        lines.append(pre + (f"heap usage {i}% of 4GB" if i % 2 else f"job {i:x}z done on node{i}"))
    res = mine(lines)
    assert len(res.templates) == 2
    dmesg = [f"[{i}.5] {w}[{i}]: segfault at {i:x} ip 0 sp 0 error 4" for i, w in
             zip(range(40), ["a", "bb", "cc", "dd", "ee"] * 8, strict=True)]  # fmt: skip
    assert len(mine(dmesg).templates) == 1


def test_an_access_log_has_one_kind_of_line_per_method() -> None:
    agents = ['"curl/8.4"', '"Mozilla/5.0 (X11; Linux x86_64)"', '"python-requests/2.3"']
    lines = [
        f'10.0.0.{i % 250} - - [18/Nov/2026:10:03:{i % 60:02d} +0000] "{["GET", "POST", "PUT", "DELETE"][i % 4]}'
        f' /api/{i} HTTP/1.1" 200 {i * 7} "-" {agents[i % 3]}'
        for i in range(120)
    ]
    res = mine(lines)
    assert len(res.templates) == 4  # the user agent's length splits nothing
    assert list(res.assignments[:8]) == [1, 2, 3, 4] * 2


def test_quoted_phrases_are_one_token() -> None:
    from rlm_cli.logs.templates import tokens_of

    assert tokens_of('a "b c d e" f') == ("a", '"b c d e"', "f")
    assert tokens_of('a "GET /x HTTP/1.1" 200') == ("a", '"GET', "/x", 'HTTP/1.1"', "200")
    assert tokens_of("a b") == ("a", "b")
