"""Process layer of the sandbox: resource limits the worker sets on itself.

Call :func:`apply_process_limits` once, after the worker has imported what it
needs, opened its files and (if it does) isolated itself, and before the first
model step.  Then, around every step::

    arm_cpu_limit(limits.cpu_seconds_per_step)   # soft RLIMIT_CPU = used + per-step
    try:
        exec(code, namespace)                    # CpuLimitExceeded may fly out
    finally:
        disarm_cpu_limit()

CPU: RLIMIT_CPU counts the process's whole lifetime, so a per-step limit is a
moving soft limit (``used + seconds``); when it is crossed the kernel sends
SIGXCPU, which :func:`install_cpu_handler` turns into :class:`CpuLimitExceeded`
(a ``BaseException``, so ``except Exception`` in model code does not swallow it;
SIGXCPU repeats every second until the step ends).  Code stuck inside one C call
never sees that signal, so the parent also enforces ``wall_seconds_per_step`` by
killing the worker, and the hard limit (``cpu_seconds_lifetime``) makes the kernel
kill a worker that spins on even if its parent is gone; :func:`die_with_parent`
kills it as soon as the parent dies.

Processes: RLIMIT_NPROC counts every process *and thread* of the real user id,
and is not enforced at all for root (CAP_SYS_RESOURCE/CAP_SYS_ADMIN).  It is a
real wall only once the worker runs as an unprivileged user (``isolation.py``
drops root to ``nobody``), and even then it also stops the worker's own new
threads.  The primary barrier against new processes is therefore the language
layer: ``os``, ``subprocess``, ``multiprocessing`` and every road to them are
unreachable from model code.

Address space: RLIMIT_AS counts mappings, so a context store that is ``mmap``-ed
counts against it; read the store with ``pread``/seek or size the limit to fit.
"""

from __future__ import annotations

import ctypes
import math
import os
import resource
import signal
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Limits:
    """Resource limits for the REPL worker (0 processes means: no new processes)."""

    address_space_mb: int = 2048
    """RLIMIT_AS of the worker: the memory its code may map, in MiB."""
    cpu_seconds_per_step: int = 30
    """CPU seconds one block may use before SIGXCPU stops it."""
    wall_seconds_per_step: int = 60
    """Seconds one block may run before the parent kills the worker."""
    file_size_bytes: int = 0
    """RLIMIT_FSIZE: the largest file the worker may write (0: none)."""
    open_files: int = 64
    processes: int = 0
    """RLIMIT_NPROC: processes and threads of the worker's user (see above: a wall only once
    the worker runs unprivileged)."""
    core_dumps: bool = False
    cpu_seconds_lifetime: int = 3600
    """Hard CPU limit of the whole worker: the kernel SIGKILLs it there, even inside one C
    call that never returns to Python (where the per-step SIGXCPU cannot be handled)."""


@dataclass
class LimitsReport:
    """What :func:`apply_process_limits` set, and what it could not."""

    applied: dict[str, tuple[int, int]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


class CpuLimitExceeded(BaseException):
    """The step used more CPU time than it was given."""


def _lowest(a: int, b: int) -> int:
    """The smaller of two rlimit values, RLIM_INFINITY being the largest."""
    if a == resource.RLIM_INFINITY:
        return b
    if b == resource.RLIM_INFINITY:
        return a
    return min(a, b)


def _set(report: LimitsReport, name: str, which: int, value: int) -> None:
    """Set soft and hard limit ``which`` to ``value`` (never above the current hard limit)."""
    _, cur_hard = resource.getrlimit(which)
    value = _lowest(value, cur_hard)
    try:
        resource.setrlimit(which, (value, value))
        report.applied[name] = (value, value)
    except (ValueError, OSError) as exc:
        report.notes.append(f"{name}: not set ({exc})")


def apply_process_limits(limits: Limits) -> LimitsReport:
    """Set the rlimits for this process (the worker); returns what was set.

    Lowers hard limits too, so model code could not raise them even if it
    reached ``resource``.  Ignores SIGXFSZ so a write past ``file_size_bytes``
    fails with ``OSError(EFBIG)`` instead of killing the worker.
    """
    report = LimitsReport()
    mb = 1024 * 1024
    _set(report, "RLIMIT_AS", resource.RLIMIT_AS, limits.address_space_mb * mb)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    _set(report, "RLIMIT_FSIZE", resource.RLIMIT_FSIZE, limits.file_size_bytes)
    _set(report, "RLIMIT_NOFILE", resource.RLIMIT_NOFILE, limits.open_files)
    _set(report, "RLIMIT_NPROC", resource.RLIMIT_NPROC, limits.processes)
    if not limits.core_dumps:
        _set(report, "RLIMIT_CORE", resource.RLIMIT_CORE, 0)
    # CPU: a hard backstop for the worker's life; the soft limit is armed per step.
    cap = math.ceil(cpu_seconds_used()) + max(1, limits.cpu_seconds_lifetime)
    _set(report, "RLIMIT_CPU", resource.RLIMIT_CPU, cap)
    disarm_cpu_limit()
    if os.geteuid() == 0:
        report.notes.append(
            "running as root: RLIMIT_NPROC is not enforced; new processes are kept out"
            " by the language layer (and by dropping to nobody in isolation.py)"
        )
    return report


def die_with_parent() -> bool:
    """Have the kernel SIGKILL this process when its parent dies (Linux); True when set.

    Call it after any change of uid: the kernel clears this setting on a credential change.
    Without it, a worker whose CLI was killed could spin on alone in its own session.
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return False
    pr_set_pdeathsig = 1
    if prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0) != 0:
        return False
    if os.getppid() == 1:  # the parent died before we asked
        os._exit(1)
    return True


def cpu_seconds_used() -> float:
    """CPU time (user + system) this process has used so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def arm_cpu_limit(seconds: int) -> int:
    """Give the next step ``seconds`` of CPU: soft RLIMIT_CPU = used + seconds; returns it."""
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = _lowest(math.ceil(cpu_seconds_used()) + max(1, int(seconds)), hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
    return soft


def disarm_cpu_limit() -> None:
    """Lift the soft CPU limit back to the hard limit between steps."""
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    resource.setrlimit(resource.RLIMIT_CPU, (hard, hard))


def _on_sigxcpu(signum: int, frame: object) -> None:
    raise CpuLimitExceeded("CPU time limit for this step exceeded")


def install_cpu_handler() -> None:
    """Turn SIGXCPU into :class:`CpuLimitExceeded` in the main thread."""
    signal.signal(signal.SIGXCPU, _on_sigxcpu)
