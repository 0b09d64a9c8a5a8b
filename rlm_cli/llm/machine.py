"""Threads and batch sizes for llama.cpp, chosen from the machine this runs on.

llama-cpp-python's own default is half the logical CPUs for generation, which on a
2-core machine without SMT is one thread: half the speed. Generation is bound by memory
bandwidth and prompt evaluation by arithmetic; either way a second hardware thread of
the same core adds little, so the right count is the physical cores this process may
run on (its CPU affinity, which containers and ``taskset`` narrow).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

SYS_CPU = Path("/sys/devices/system/cpu")


def usable_cpus() -> list[int]:
    """Logical CPUs this process may run on."""
    try:
        return sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - non-Linux
        return list(range(os.cpu_count() or 1))


def physical_cores(cpus: list[int] | None = None, sys_cpu: Path = SYS_CPU) -> int:
    """Distinct physical cores among ``cpus`` (default: the usable ones), from sysfs
    topology (package id, core id); the count of ``cpus`` where sysfs says nothing."""
    cpus = usable_cpus() if cpus is None else cpus
    cores: set[tuple[str, str]] = set()
    for cpu in cpus:
        topo = sys_cpu / f"cpu{cpu}" / "topology"
        try:
            core = (topo / "core_id").read_text().strip()
            pkg = (topo / "physical_package_id").read_text().strip()
        except OSError:
            return max(1, len(cpus))
        cores.add((pkg, core))
    return max(1, len(cores))


@dataclass(frozen=True)
class Tuning:
    """What llama.cpp is given, and why."""

    threads: int
    threads_batch: int
    n_batch: int
    n_ubatch: int
    reason: str

    def describe(self) -> str:
        """One line for ``--debug``."""
        return (
            f"threads {self.threads} (prompt {self.threads_batch}), "
            f"batch {self.n_batch}/{self.n_ubatch} ({self.reason})"
        )


def choose(threads: int | None, n_batch: int | None, n_gpu_layers: int = 0) -> Tuning:
    """Threads and batch sizes: the given ones, else from the machine.

    On a CPU the physical cores, and a 512-token batch (llama.cpp's default ubatch: larger
    ones do not evaluate faster on a CPU, they only hold more memory). With layers on a
    GPU the CPU only feeds it: the same threads, batches of 2048.
    """
    cores = physical_cores()
    logical = len(usable_cpus())
    reason = f"{cores} physical cores, {logical} logical CPUs usable"
    t = threads if threads and threads > 0 else cores
    if threads and threads > 0:
        reason = f"set to {threads}; " + reason
    default_batch = 2048 if n_gpu_layers else 512
    b = n_batch if n_batch and n_batch > 0 else default_batch
    return Tuning(threads=t, threads_batch=t, n_batch=b, n_ubatch=min(b, 512), reason=reason)
