"""A Prometheus textfile (for node_exporter's textfile collector), replaced atomically."""

from __future__ import annotations

from pathlib import Path

from rlm_cli.atomic import atomic_write
from rlm_cli.engine.findings import SEVERITIES
from rlm_cli.errors import StoreError


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def render_metrics(
    *,
    when: float,
    exit_code: int,
    duration_s: float,
    scanned: list[dict],
    run_findings: list[dict],
    open_findings: list[dict],
    bytes_total: int,
    model_called: bool,
    last_success: float | None = None,
) -> str:
    """The textfile: last run time, outcome, bytes read, findings by severity.

    A failed run (exit 2) writes one too, with its exit code and the time of the last run
    that succeeded, so a scan that keeps failing shows up on a dashboard.
    """
    out: list[str] = []

    def metric(name: str, kind: str, help_: str, samples: list[tuple[str, float]]) -> None:
        out.append(f"# HELP {name} {help_}")
        out.append(f"# TYPE {name} {kind}")
        for labels, value in samples:
            out.append(f"{name}{labels} {value!r}")

    metric(
        "rlm_scan_last_run_timestamp_seconds",
        "gauge",
        "When the last scan finished.",
        [("", float(round(when, 3)))],
    )
    if last_success is not None:
        metric(
            "rlm_scan_last_success_timestamp_seconds",
            "gauge",
            "When a scan last completed (exit 0 or 1).",
            [("", float(round(last_success, 3)))],
        )
    metric(
        "rlm_scan_exit_code",
        "gauge",
        "Exit code of the last scan (0 ok, 1 findings).",
        [("", exit_code)],
    )
    metric(
        "rlm_scan_duration_seconds",
        "gauge",
        "How long the last scan took.",
        [("", float(round(duration_s, 3)))],
    )
    metric(
        "rlm_scan_model_called",
        "gauge",
        "1 when the last scan had new lines to analyse.",
        [("", int(model_called))],
    )
    metric(
        "rlm_scan_new_bytes",
        "gauge",
        "Bytes read from each file by the last scan.",
        [(f'{{path="{_label(s["path"])}"}}', s["new_bytes"]) for s in scanned],
    )
    metric(
        "rlm_scan_bytes_read_total",
        "counter",
        "Bytes analysed by every scan so far.",
        [("", bytes_total)],
    )
    for name, help_, rows in (
        ("rlm_scan_findings", "Findings reported by the last scan.", run_findings),
        (
            "rlm_scan_findings_new",
            "Findings first seen (or reopened) by the last scan.",
            [f for f in run_findings if f.get("status") in ("new", "reopened")],
        ),
        (
            "rlm_scan_findings_open",
            "Findings open across runs (not marked resolved).",
            open_findings,
        ),
    ):
        counts = {s: 0 for s in SEVERITIES}
        for f in rows:
            counts[f["severity"]] = counts.get(f["severity"], 0) + 1
        metric(name, "gauge", help_, [(f'{{severity="{s}"}}', n) for s, n in counts.items()])
    return "\n".join(out) + "\n"


def write_textfile(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically (node_exporter never reads half a file)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, text)
    except OSError as e:
        raise StoreError(f"cannot write {path}: {e.strerror or e}") from e
