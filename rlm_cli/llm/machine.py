"""Threads and batch sizes for llama.cpp, chosen from the machine this runs on.

llama-cpp-python's own default is half the logical CPUs for generation, which on a
2-core machine without SMT is one thread: half the speed. Generation is bound by memory
bandwidth and prompt evaluation by arithmetic; either way a second hardware thread of
the same core adds little, so the right count is the physical cores this process may
run on (its CPU affinity, which containers and ``taskset`` narrow).

Minus the cores other processes keep busy: llama.cpp's threads wait for each other at
every step by spinning, so on an oversubscribed CPU two threads can be ten times slower
than one (measured on the shared 2-core development machine at load 10: 0.2 vs 2.6
tokens/s for the 1.5B model). The busy cores are measured before the model starts, over a
fifth of a second of ``/proc/stat``: the 1-minute load average still counts work that ended
up to a minute ago (a minute after a bench on the idle machine it read 1.5, and a plain
`rlm ask` ran on one thread at half speed); it is the fallback where /proc/stat cannot be
read.
"""

from __future__ import annotations

import os
import time
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


def busy_cores(sample_s: float = 0.2) -> float:
    """CPUs (of those this process may use) other processes keep busy now: their non-idle
    share over ``sample_s`` seconds of /proc/stat; else the 1-minute load average; else 0."""
    cpus = usable_cpus()
    before = cpu_times(cpus)
    if before is not None:
        time.sleep(sample_s)
        after = cpu_times(cpus)
        if after is not None:
            busy = total = 0
            for cpu, (b_busy, b_total) in before.items():
                a_busy, a_total = after.get(cpu, (b_busy, b_total))
                busy += a_busy - b_busy
                total += a_total - b_total
            if total > 0:
                return len(before) * busy / total
    try:
        return float(LOADAVG.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0.0


LOADAVG = Path("/proc/loadavg")


def cpu_times(
    cpus: list[int], stat: Path = Path("/proc/stat")
) -> dict[int, tuple[int, int]] | None:
    """``{cpu: (busy ticks, all ticks)}`` for these CPUs from /proc/stat (idle and iowait are
    not busy); None where it cannot be read."""
    want = {f"cpu{c}": c for c in cpus}
    out: dict[int, tuple[int, int]] = {}
    try:
        for line in stat.read_text().splitlines():
            name, *ticks = line.split()
            if name in want and len(ticks) >= 5:
                t = [int(x) for x in ticks[:8]]
                out[want[name]] = (sum(t) - t[3] - t[4], sum(t))
    except (OSError, ValueError):
        return None
    return out or None


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
