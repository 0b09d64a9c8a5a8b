"""Threads and batch sizes for llama.cpp, chosen from the machine this runs on.

llama-cpp-python's own default is half the logical CPUs for generation, which on a
2-core machine without SMT is one thread: half the speed. Generation is bound by memory
bandwidth and prompt evaluation by arithmetic; either way a second hardware thread of
the same core adds little, so the right count is the physical cores this process may
run on (its CPU affinity, which containers and ``taskset`` narrow).

Minus the cores other processes keep busy: llama.cpp's threads wait for each other at
every step by spinning, so on an oversubscribed CPU two threads can be ten times slower
than one (measured on the shared 2-core development machine at load 10: 0.2 vs 2.6
tokens/s for the 1.5B model). The busy cores are read from the 1-minute load average
before the model starts.
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


def busy_cores() -> float:
    """Runnable processes on average over the last minute (0 where unknown)."""
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0.0


def choose(
    threads: int | None, n_batch: int | None, n_gpu_layers: int = 0, load: float | None = None
) -> Tuning:
    """Threads and batch sizes: the given ones, else from the machine.

    On a CPU the physical cores not kept busy by others, and a 512-token batch (llama.cpp's default ubatch: larger
    ones do not evaluate faster on a CPU, they only hold more memory). With layers on a
    GPU the CPU only feeds it: the same threads, batches of 2048.
    """
    cores = physical_cores()
    logical = len(usable_cpus())
    load = busy_cores() if load is None else load
    reason = f"{cores} physical cores, {logical} logical CPUs usable, load {load:.1f}"
    if threads and threads > 0:
        t = threads
        reason = f"set to {threads}; " + reason
    else:
        t = max(1, min(cores, cores - int(load + 0.5)))
    default_batch = 2048 if n_gpu_layers else 512
    b = n_batch if n_batch and n_batch > 0 else default_batch
    return Tuning(threads=t, threads_batch=t, n_batch=b, n_ubatch=min(b, 512), reason=reason)
