"""OS layer of the sandbox: namespaces, an empty root and no privileges (Linux).

The worker calls :func:`isolate` once, after it has imported everything it will
ever need (:func:`preimport`) and opened its files, and before it starts any
thread (``unshare`` of a user namespace refuses multithreaded processes):

1. user namespace, only when not root (so the steps below are allowed);
2. network namespace: no interfaces but a loopback that is down, so every
   ``connect`` fails with ENETUNREACH, 127.0.0.1 included;
3. mount namespace and a new root: an empty read-only tmpfs holding read-only
   bind mounts of ``readable_paths`` at their usual absolute paths, switched to
   with ``pivot_root`` (no directory is left behind on the host) or, failing
   that, ``chroot``;
4. privileges: root drops to ``nobody`` (65534) with no groups; inside a user
   namespace the capabilities are cleared; ``no_new_privs`` is set either way.

Each step that cannot be done is skipped and said so in the report; nothing
here raises for a refused step.  Files opened earlier stay usable.  Modules not
imported before this call can no longer be imported (there is no stdlib in the
new root); that is intended, and it is why :func:`preimport` exists.
"""

from __future__ import annotations

import ctypes
import importlib
import os
import platform
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_REMOUNT = 0x20
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 0x40000
MNT_DETACH = 0x2
PR_SET_NO_NEW_PRIVS = 38
_LOCKED_FLAGS = 0x1 | 0x2 | 0x4 | 0x8 | 0x400 | 0x800 | 0x1000  # ST_* == MS_* on Linux
_SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "arm64": 41, "riscv64": 41}
NOBODY = 65534

# Modules the allowed ones import lazily, at first use rather than at import.
LAZY_IMPORTS: tuple[str, ...] = (
    "_strptime",
    "encodings.ascii",
    "encodings.latin_1",
    "encodings.utf_8",
    "encodings.utf_16",
    "encodings.utf_32",
    "encodings.cp1252",
    "encodings.unicode_escape",
    "encodings.raw_unicode_escape",
    "unicodedata",
)


@dataclass
class IsolationReport:
    """What :func:`isolate` achieved, one line per layer, e.g. ``network="netns"``."""

    network: str = "none (not attempted)"
    filesystem: str = "none (not attempted)"
    privileges: str = "unchanged"
    notes: list[str] = field(default_factory=list)


class _Refused(Exception):
    """A system call said no; the message names it and the errno."""


def _libc() -> ctypes.CDLL:
    """The C library: the interpreter's own symbols when they include it (no ``ctypes.util``,
    which would import subprocess and shutil into the worker at start-up)."""
    own = ctypes.CDLL(None, use_errno=True)
    if hasattr(own, "unshare"):
        return own
    from ctypes import util

    return ctypes.CDLL(util.find_library("c") or None, use_errno=True)


def _call(name: str, result: int) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise _Refused(f"{name}: {_errno_name(err)}")


def _errno_name(err: int) -> str:
    import errno

    return errno.errorcode.get(err, str(err))


def preimport(modules: Iterable[str]) -> list[str]:
    """Import ``modules`` and their lazy helpers now; return the names that failed.

    Also primes caches read from disk on first use: the local timezone and the
    strptime locale tables.
    """
    failed = []
    for name in [*modules, *LAZY_IMPORTS]:
        try:
            importlib.import_module(name)
        except ImportError:
            failed.append(name)
    try:
        import datetime
        import time

        time.localtime()
        datetime.datetime.strptime("2024-01-02 03:04:05", "%Y-%m-%d %H:%M:%S")
        datetime.datetime.now().astimezone()
    except Exception:  # priming only; the model will see any real error itself
        failed.append("(time priming)")
    return failed


def isolate(
    readable_paths: list[Path],
    *,
    network: bool = True,
    filesystem: bool = True,
    drop_privileges: bool = True,
) -> IsolationReport:
    """Cut this process off from the network, the filesystem and root; report each step."""
    report = IsolationReport()
    if os.uname().sysname != "Linux":
        report.network = report.filesystem = "none (not Linux)"
        return report
    namespaces = network or filesystem or os.geteuid() != 0  # any unshare to come
    if namespaces and threading.active_count() > 1:
        report.notes.append("more than one thread: a user namespace will be refused")
    libc = _libc()
    in_userns = False
    if os.geteuid() != 0:
        try:
            _enter_user_namespace(libc)
            in_userns = True
        except (_Refused, OSError) as exc:
            report.notes.append(f"user namespace unavailable ({exc})")
    if network:
        try:
            _call("unshare(CLONE_NEWNET)", libc.unshare(CLONE_NEWNET))
            report.network = "netns" + (" (in user namespace)" if in_userns else "")
        except _Refused as exc:
            report.network = f"none ({exc})"
    if filesystem:
        report.filesystem = _new_root(libc, readable_paths, report.notes)
    if drop_privileges:
        report.privileges = _drop_privileges(libc, in_userns, report.notes)
    return report


def _enter_user_namespace(libc: ctypes.CDLL) -> None:
    uid, gid = os.geteuid(), os.getegid()
    _call("unshare(CLONE_NEWUSER)", libc.unshare(CLONE_NEWUSER))
    Path("/proc/self/setgroups").write_text("deny")
    Path("/proc/self/uid_map").write_text(f"0 {uid} 1")
    Path("/proc/self/gid_map").write_text(f"0 {gid} 1")


def _mount(
    libc: ctypes.CDLL,
    source: str | None,
    target: str,
    fstype: str | None,
    flags: int,
    data: str | None = None,
) -> None:
    enc = [None if v is None else v.encode() for v in (source, target, fstype, data)]
    libc.mount.argtypes = [
        ctypes.c_char_p,
        ctypes.c_char_p,
        ctypes.c_char_p,
        ctypes.c_ulong,
        ctypes.c_char_p,
    ]
    _call(f"mount({target})", libc.mount(enc[0], enc[1], enc[2], flags, enc[3]))


def _new_root(libc: ctypes.CDLL, readable_paths: list[Path], notes: list[str]) -> str:
    """Switch to an empty read-only root holding ``readable_paths``; return the outcome."""
    try:
        _call("unshare(CLONE_NEWNS)", libc.unshare(CLONE_NEWNS))
        _mount(libc, None, "/", None, MS_REC | MS_PRIVATE)
    except _Refused as exc:
        return _plain_chroot(readable_paths, notes, f"{exc}")
    root = tempfile.mkdtemp(prefix="rlm-root-")
    try:
        _mount(libc, "tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=256k,mode=0755")
        for path in readable_paths:
            _bind_read_only(libc, Path(path).resolve(), root)
        old = os.path.join(root, ".old-root")
        os.mkdir(old)
        sys_pivot = _SYS_PIVOT_ROOT.get(platform.machine())
        if sys_pivot is None:
            raise _Refused(f"pivot_root: unknown syscall number on {platform.machine()}")
        _call("pivot_root", libc.syscall(sys_pivot, root.encode(), old.encode()))
    except (_Refused, OSError) as exc:
        notes.append(f"pivot_root root not used ({exc})")
        try:
            os.chdir(root)
            os.chroot(".")
            os.chdir("/")
            notes.append(f"empty directory {root} left on the host; remove it after exit")
            return "chroot (mount namespace)"
        except OSError as exc2:
            return f"none (chroot: {_errno_name(exc2.errno or 0)})"
    os.chdir("/")
    try:
        os.rmdir("/.old-root" + root)  # the host's empty mount point, no longer one
    except OSError as exc:
        notes.append(f"empty directory {root} left on the host ({exc.strerror})")
    try:
        libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
        _call("umount2(old root)", libc.umount2(b"/.old-root", MNT_DETACH))
        os.rmdir("/.old-root")
        _mount(libc, None, "/", None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)
    except (_Refused, OSError) as exc:
        return f"none (old root still reachable: {exc})"
    return "pivot_root (mount namespace, read-only tmpfs)"


def _bind_read_only(libc: ctypes.CDLL, source: Path, root: str) -> None:
    target = root + str(source)
    if source.is_dir():
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        Path(target).touch()
    _mount(libc, str(source), target, None, MS_BIND | MS_REC)
    # Flags the source mount already has (noatime, nosuid...) are locked in a
    # user namespace: keep them, add read-only and friends.
    keep = os.statvfs(source).f_flag & _LOCKED_FLAGS
    flags = MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | keep
    _mount(libc, None, target, None, flags)


def _plain_chroot(readable_paths: list[Path], notes: list[str], why: str) -> str:
    """Without a mount namespace: chroot into an empty directory (root only)."""
    if readable_paths:
        notes.append("no mount namespace: readable_paths are not available in the new root")
    try:
        root = tempfile.mkdtemp(prefix="rlm-root-")
        os.chdir(root)
        os.rmdir(root)  # chroot into a deleted directory: nothing can be created there
        os.chroot(".")
        os.chdir("/")
        return f"chroot to an empty deleted directory (no mount namespace: {why})"
    except OSError as exc:
        return f"none ({why}; chroot: {_errno_name(exc.errno or 0)})"


def _drop_privileges(libc: ctypes.CDLL, in_userns: bool, notes: list[str]) -> str:
    steps = []
    if os.geteuid() == 0 and not in_userns:
        try:
            os.setgroups([])
            os.setresgid(NOBODY, NOBODY, NOBODY)
            os.setresuid(NOBODY, NOBODY, NOBODY)
            steps.append(f"uid/gid {NOBODY}, no groups, no capabilities")
        except OSError as exc:
            notes.append(f"could not drop to nobody ({exc})")
    elif in_userns:
        try:
            _clear_capabilities(libc)
            steps.append("capabilities cleared in the user namespace")
        except _Refused as exc:
            notes.append(f"could not clear capabilities ({exc})")
    try:
        _call("prctl(NO_NEW_PRIVS)", libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
        steps.append("no_new_privs")
    except _Refused as exc:
        notes.append(str(exc))
    return ", ".join(steps) if steps else "unchanged"


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


def _clear_capabilities(libc: ctypes.CDLL) -> None:
    header = _CapHeader(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
    data = (_CapData * 2)()
    _call("capset", libc.capset(ctypes.byref(header), data))


def effective_capabilities() -> int:
    """This process's effective capability set as a bit mask (0 means none)."""
    header = _CapHeader(0x20080522, 0)
    data = (_CapData * 2)()
    _call("capget", _libc().capget(ctypes.byref(header), data))
    return data[0].effective | (data[1].effective << 32)
