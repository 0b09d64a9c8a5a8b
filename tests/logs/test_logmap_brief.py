"""The log map, its REPL functions and the brief, through the real CLI."""

from __future__ import annotations

from pathlib import Path

from helpers import SAMPLES, run_rlm, run_rlm_forked, write_script


def test_brief_names_the_failing_bmc_node_first(tmp_path: Path) -> None:
    r = run_rlm_forked(["brief", str(SAMPLES / "bmc_cluster.log"), "--json"], tmp_path)
    assert r.code == 0, r.stderr
    d = r.json()
    assert d["entities"][0]["name"] == "node09"
    hosts = [e["name"] for e in d["entities"] if e["kind"] == "host"]
    assert hosts[0] == "node09"
    assert d["size"]["lines"] == 1660
    assert d["time_span"]["first"].startswith("2026-10-26")
    assert d["severity_counts"]["fatal"] >= 1
    # every line reference points at a line that names the entity
    lines = (SAMPLES / "bmc_cluster.log").read_text().splitlines()
    assert all("node09" in lines[n - 1] for n in d["entities"][0]["severe_lines"])
    assert any(t["severity"] == "fatal" for t in d["rare_templates"])


def test_brief_on_syslog_and_injection_samples(tmp_path: Path) -> None:
    d = run_rlm_forked(["brief", str(SAMPLES / "syslog_kernel.log"), "--json"], tmp_path).json()
    assert d["entities"][0]["name"] == "db01"
    assert d["time_span"]["first"].startswith("2025-12-30")  # year-less syslog, not in the future
    assert d["time_span"]["last"].startswith("2026-01-01")
    d = run_rlm(
        ["brief", "--json"], tmp_path, stdin=(SAMPLES / "injection_bmc.log").read_bytes()
    ).json()
    assert d["entities"][0]["name"] == "node04"


def test_brief_text_is_cut_to_its_budget_and_says_so(tmp_path: Path) -> None:
    r = run_rlm_forked(["brief", str(SAMPLES / "bmc_cluster.log"), "--max-tokens", "200"], tmp_path)
    assert r.code == 0
    assert len(r.stdout) < 200 * 4 + 400
    assert "brief cut to fit 200 tokens" in r.stdout


def test_templates_per_line_covers_every_line_in_order(tmp_path: Path) -> None:
    log = SAMPLES / "syslog_kernel.log"
    r = run_rlm_forked(["templates", str(log), "--per-line"], tmp_path)
    rows = [line.split("\t") for line in r.stdout.splitlines()]
    n = len(log.read_text().splitlines())
    assert [int(a) for a, _ in rows] == list(range(1, n + 1))
    ids = {int(b) for _, b in rows}
    assert 10 < len(ids) < n // 5  # grouped, not one template per line
    text = log.read_text().splitlines()
    cron = [int(b) for (a, b), t in zip(rows, text) if "session closed for user root" in t]
    assert len(set(cron)) == 1  # the same kind of line gets the same template


def test_templates_json(tmp_path: Path) -> None:
    d = run_rlm_forked(
        ["templates", str(SAMPLES / "bmc_cluster.log"), "--json", "--top", "3"], tmp_path
    ).json()
    assert len(d["templates"]) == 3
    assert d["templates"][0]["count"] >= d["templates"][1]["count"]


def test_map_functions_in_the_repl_and_brief_in_the_prompt(tmp_path: Path) -> None:
    code = (
        "```repl\n"
        "e = context.entities(kind='host', top=3)\n"
        "print(e[0]['name'])\n"
        "t = context.rare(top=3)\n"
        "print(len(context.lines_of(t[0]['id'])))\n"
        "print(context.timeline(r'Correctable ECC \\|', bucket='7d'))\n"
        "print(len(context.by_entity('node09', max=None)))\n"
        "print([(k, r['id']) for k, r in context.templates(top=2).items()] == "
        "[(r['id'], r['id']) for r in context.templates(top=2)])\n"
        "top = context.top('ECC', by='host', n=2)\n"
        "print(top[0][0] == top[0]['name'], top[0][1] == top[0]['lines'], top[0][0])\n"
        "```"
    )
    script = write_script(tmp_path / "s.yaml", [code, "FINAL(done)"])
    r = run_rlm_forked(
        ["ask", "q", str(SAMPLES / "bmc_cluster.log"), "--model", f"script:{script}", "--json"],
        tmp_path,
    )
    assert r.code == 0, r.stderr
    out = r.json()["trajectory"][0]["outputs"][0]
    assert out["error"] is None, out["error"]
    lines = out["stdout"].splitlines()
    assert lines[0] == "node09"
    assert lines[1] == "1"
    assert lines[2].split() == ["from", "count"]
    bmc = (SAMPLES / "bmc_cluster.log").read_text().splitlines()
    at = lines.index("True")  # after it, top()'s own notice and the row check
    assert lines[at - 1] == str(sum(1 for x in bmc if x.startswith("node09 ")))
    assert lines[at] == "True"  # a table's items(): (id, row) pairs, as a dict would give
    # a row also takes a column's position, as sqlite3.Row does: top(...)[0][0] is a name
    assert lines[-1] == "True True node09", lines[-1]


def test_user_formats_from_the_config_dir(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "formats.yaml").write_text(
        "formats:\n  - name: weird\n    regex: '^<<(?P<host>\\w+)>>~(?P<level>\\w+)~ (?P<body>.*)$'\n"
    )
    log = "".join(
        f"<<node{i % 3}>>~{'ERROR' if i % 7 == 0 else 'INFO'}~ job {i} finished in {i * 3} ms\n"
        for i in range(60)
    )
    d = run_rlm(["templates", "--json"], tmp_path, stdin=log.encode()).json()
    assert len(d["templates"]) == 1
    assert d["templates"][0]["pattern"].startswith("job <*> finished")
    b = run_rlm(["brief", "--json"], tmp_path, stdin=log.encode()).json()
    assert b["severity_counts"]["error"] == 9  # the level group of the user format is used


def test_brief_finds_the_failing_node_of_a_host_prefixed_sel(tmp_path: Path) -> None:
    # the collector shape of issue 14: "r3n09-bmc:   51 | 11/18/2026 | 10:03:27 | ..."
    from rlm_cli.testing.logzoo import fleet

    lines, failing, _ = fleet("sel-host-colon", seed=5)
    log = tmp_path / "fleet.log"
    log.write_text("\n".join(lines) + "\n")
    r = run_rlm_forked(["brief", str(log), "--json"], tmp_path)
    assert r.code == 0, r.stderr
    d = r.json()
    assert (d["entities"][0]["kind"], d["entities"][0]["name"]) == ("host", failing)
    assert d["time_span"]["first"].startswith("2026-11-18")


def test_entities_table_says_its_first_row_in_words(tmp_path: Path) -> None:
    """Small models misread table rows; the table ends with the most concerning one named."""
    code = "```repl\nprint(context.entities(kind='host', top=3))\n```"
    script = write_script(tmp_path / "s.yaml", [code, 'FINAL("node09")'])
    r = run_rlm_forked(
        ["ask", "q", str(SAMPLES / "bmc_cluster.log"), "--model", f"script:{script}", "--json"],
        tmp_path,
    )
    out = r.json()["trajectory"][0]["outputs"][0]["stdout"].strip().splitlines()
    assert out[1].split()[0] == "node09", out
    assert out[-1].startswith("(most concerning: node09, "), out
    assert "; next: " in out[-1] and out[-1].split("; next: ")[1].rstrip(")") == out[2].split()[0]


def test_brief_writes_each_template_once_and_only_refers_to_what_it_kept() -> None:
    from rlm_cli.logs.brief import render_brief

    def t(i: int, pattern: str) -> dict:
        return {"id": i, "count": 2, "severity": "fatal", "pattern": pattern, "first_line": i}

    panic, ecc, big = t(1, "Kernel panic - not syncing"), t(2, "Uncorrectable ECC"), t(3, "y " * 60)
    brief = {
        "severity_counts": {"fatal": 4},
        "time_span": {"first": None, "last": None, "lines_with_time": 0},
        "size": {"lines": 9},
        "sources": [{}],
        "templates": 2,
        "entities": [
            {
                "name": n,
                "kind": "host",
                "score": 1,
                "lines": 2,
                "severities": {"fatal": 2},
                "severe_lines": [1],
                "top_templates": tt,
            }  # fmt: skip
            for n, tt in (("n1", [panic]), ("n2", [ecc, big]), ("n3", [panic, ecc]))
        ],
        "rare_templates": [panic],
        "top_templates": [],
    }
    text = render_brief(brief)
    assert text.count("Kernel panic") == 1 and text.count("Uncorrectable ECC") == 1
    assert "- [1] x2 fatal line 1 (above)" in text and "    - [2] x2 fatal (above)" in text
    # n2, whose lines are long, is cut: n3 writes the ECC pattern out, as nothing above has it
    text = render_brief(brief, max_tokens=170)
    assert "n2 (host" not in text and "- n3 (host" in text
    assert text.count("Uncorrectable ECC") == 1 and "[2] x2 fatal (above)" not in text


def test_templates_by_severity_keep_that_level_and_worse(tmp_path: Path) -> None:
    """As ``journalctl -p err``: ``severity="error"`` is error, critical and fatal."""
    from rlm_cli.logs.logmap import ensure_logmap
    from rlm_cli.logs.queries import MapQueries
    from rlm_cli.logs.severity import Severity
    from rlm_cli.store.contexts import ContextStore
    from rlm_cli.store.inputs import expand_inputs

    store = ContextStore(tmp_path)
    meta = store.ingest(expand_inputs([str(SAMPLES / "syslog_kernel.log")]))
    ctx = store.open(meta["id"])
    q = MapQueries(ctx, ensure_logmap(ctx))
    every = q.templates(top=1000)
    for level in ("warning", "error"):
        kept = q.templates(top=1000, severity=level)
        want = [r for r in every if Severity.parse(r["severity"]) >= Severity.parse(level)]
        assert kept == want and kept, level
    assert {r["severity"] for r in q.templates(top=1000, severity="error")} > {"error"}
