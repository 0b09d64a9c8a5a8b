"""The worker's sandbox, composed from its layers in the order they must be applied.

1. Environment (:mod:`environment`): the parent starts the worker with a scrubbed env and
   ``python -I -S``.
2. ``lockdown``, once everything the model needs is open and imported: pre-import the
   allowed modules, then the OS layer (:mod:`isolation`: network namespace, an empty
   read-only root with the context bound in, drop to nobody), then the process layer
   (:mod:`limits`: address space, file size 0, open files, no new processes, no core).
3. ``check``, every step: the language layer (:mod:`guard`) refuses the code before it runs.
4. ``builtins_for_model``: the restricted builtins mapping; imports hand out filtered copies.
5. ``cpu_limited``: a per-step CPU-time limit around the step (the parent enforces wall time).

Each layer can be switched off by the ``sandbox`` options the parent sends (for tests of
one layer at a time, and for platforms without namespaces); what was applied, and what
fell back, is reported back and kept in the run's record.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from rlm_cli.repl import guard, isolation, limits

Refused = guard.Refused
CpuLimitExceeded = limits.CpuLimitExceeded

DEFAULTS = {
    "language": True,
    "network": True,
    "filesystem": True,
    "drop_privileges": True,
    "address_space_mb": 2048,
    "cpu_seconds_per_step": 30,
    "open_files": 64,
}


OS_LAYER_OFF = {"network": False, "filesystem": False, "drop_privileges": False}
"""Sandbox options without the OS layer (the ``sandbox_isolation: false`` setting)."""


def describe(report: dict) -> str:
    """The isolation report in one line, saying which layers fell back."""
    parts = [f"{k}: {report[k]}" for k in ("language", "network", "filesystem", "privileges")]
    parts += [f"process: {report.get('process', '?')}"]
    fell_back = [
        k for k in ("network", "filesystem") if str(report.get(k, "none")).startswith("none")
    ]
    if fell_back:
        parts.insert(0, "FALLBACK, no " + " and no ".join(fell_back) + " isolation")
    notes = report.get("notes") or []
    return "; ".join(parts + [f"note: {n}" for n in notes])


def options(init: dict) -> dict:
    """The sandbox options of an init message, with defaults filled in."""
    return {**DEFAULTS, **(init.get("sandbox") or {})}


def lockdown(init: dict, readable: list[Path], extra_address_space_mb: int = 0) -> dict:
    """Apply the OS and process layers; returns a report of what holds and what fell back."""
    opts = options(init)
    report: dict = {"language": "ast guard + restricted builtins" if opts["language"] else "off"}
    failed = isolation.preimport(sorted(guard.ALLOWED_MODULES))
    for name in sorted(guard.ALLOWED_MODULES):
        if name not in failed:
            guard.sandbox_module(name)
    iso = isolation.isolate(
        readable,
        network=bool(opts["network"]),
        filesystem=bool(opts["filesystem"]),
        drop_privileges=bool(opts["drop_privileges"]),
    )
    report.update(network=iso.network, filesystem=iso.filesystem, privileges=iso.privileges)
    lim = limits.Limits(
        address_space_mb=int(opts["address_space_mb"]) + extra_address_space_mb,
        cpu_seconds_per_step=int(opts["cpu_seconds_per_step"]),
        open_files=int(opts["open_files"]),
    )
    applied = limits.apply_process_limits(lim)
    limits.install_cpu_handler()
    report["parent_death"] = "SIGKILL" if limits.die_with_parent() else "not available"
    report["process"] = (
        f"rlimits: address space {lim.address_space_mb} MB, {lim.cpu_seconds_per_step} s CPU per step, "
        f"no file writes, {lim.open_files} open files, no new processes, no core dumps"
    )
    report["notes"] = (
        list(iso.notes) + list(applied.notes) + [f"could not pre-import {m}" for m in failed]
    )
    return report


def check(code: str, namespace: dict, init: dict) -> None:
    """Raise Refused if the language layer rejects ``code``."""
    if options(init)["language"]:
        guard.check(code, library_names=guard.library_names(namespace), bound_names=namespace)


def builtins_for_model(init: dict) -> dict:
    """The builtins the model's code sees."""
    if options(init)["language"]:
        return guard.safe_builtins()
    import builtins

    return dict(vars(builtins))


@contextlib.contextmanager
def cpu_limited(init: dict) -> Iterator[None]:
    """Arm the per-step CPU-time limit around one step."""
    limits.arm_cpu_limit(int(options(init)["cpu_seconds_per_step"]))
    try:
        yield
    finally:
        limits.disarm_cpu_limit()
