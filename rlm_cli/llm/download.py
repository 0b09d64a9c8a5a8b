"""Download a model file: streamed to ``<dest>.part``, resumed with HTTP Range, checked, renamed.

A part file left by an interrupted run is resumed (only the missing bytes are asked
for); a server that ignores Range (answers 200) restarts the file cleanly. The sha256,
when known, is checked before the final rename, so ``dest`` only ever holds a whole,
verified file. ``RLM_MODEL_MIRROR`` (or ``mirror=``) replaces the ``https://huggingface.co``
prefix, for people behind a proxy or using a mirror.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import re
import socket
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

from rlm_cli.errors import ModelError
from rlm_cli.llm.retry import Backoff

HF_PREFIX = "https://huggingface.co"
MIRROR_ENV = "RLM_MODEL_MIRROR"
CHUNK = 1 << 20
DOWNLOAD_RETRY = Backoff(attempts=3, base_s=0.2, max_s=5.0)
"""A dropped download is resumed twice, after a short wait."""


def apply_mirror(url: str, mirror: str | None = None) -> str:
    """``url`` with the Hugging Face prefix replaced by ``mirror`` (or ``$RLM_MODEL_MIRROR``)."""
    base = mirror if mirror is not None else os.environ.get(MIRROR_ENV, "")
    base = base.strip().rstrip("/")
    if base and url.startswith(HF_PREFIX + "/"):
        return base + url[len(HF_PREFIX) :]
    return url


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


class _Interrupted(Exception):
    """The transfer stopped part-way; the part file is kept for a resume."""


def download(
    url: str,
    dest: Path,
    *,
    sha256: str | None = None,
    progress: bool = True,
    mirror: str | None = None,
    timeout: float = 60.0,
    retry: Backoff = DOWNLOAD_RETRY,
) -> Path:
    """Fetch ``url`` to ``dest`` and return ``dest``; raises :class:`ModelError` on failure.

    ``progress`` shows a Rich bar on stderr when stderr is a terminal. Interruptions are
    resumed automatically up to ``retry.attempts`` times; after that the part file stays so the
    next call resumes it. A checksum mismatch deletes the part file.
    """
    url = apply_mirror(url, mirror)
    dest = Path(dest)
    want = sha256.lower() if sha256 else None
    if dest.exists():
        if want and sha256_file(dest) != want:
            raise ModelError(
                f"{dest} exists but its sha256 does not match the catalogue",
                hint="delete it and download again",
            )
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    with _lock(dest):
        for attempt in range(1, retry.attempts + 1):
            try:
                _fetch(url, part, timeout=timeout, progress=progress and sys.stderr.isatty())
                break
            except _Interrupted as exc:
                if attempt == retry.attempts:
                    have = part.stat().st_size if part.exists() else 0
                    raise ModelError(
                        f"download of {dest.name} interrupted at {_human(have)} ({exc})",
                        hint="run the same command again to resume",
                    ) from None
                time.sleep(retry.delay(attempt))
        if want:
            got = sha256_file(part)
            if got != want:
                part.unlink(missing_ok=True)
                raise ModelError(
                    f"checksum mismatch for {dest.name}: expected {want}, got {got}; "
                    "the partial download was deleted"
                )
        os.replace(part, dest)
    return dest


def _fetch(url: str, part: Path, *, timeout: float, progress: bool) -> None:
    """Bring ``part`` to the full file (resuming when it already has bytes)."""
    have = part.stat().st_size if part.exists() else 0
    resp = _open(url, have, timeout)
    if resp is None:  # 416: the part file already holds the whole file
        return
    with contextlib.closing(resp):
        total = None
        if resp.status == 206:
            start, total = _content_range(resp.headers.get("Content-Range", ""))
            if start != have:  # a range we did not ask for: start over
                resp.close()
                part.unlink(missing_ok=True)
                return _fetch(url, part, timeout=timeout, progress=progress)
            mode = "ab"
        else:  # 200: the server ignored Range (or there was nothing to resume)
            have, mode = 0, "wb"
            length = resp.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
        with open(part, mode) as out, _progress_bar(progress, part.name, have, total) as bar:
            done = have
            try:
                while True:
                    block = resp.read(CHUNK)
                    if not block:
                        break
                    out.write(block)
                    done += len(block)
                    bar(done)
            except (TimeoutError, ConnectionError, http.client.IncompleteRead) as exc:
                raise _Interrupted(_why(exc)) from None
            except OSError as exc:
                raise ModelError(f"cannot write {part}: {exc.strerror or exc}") from None
            finally:
                out.flush()
                os.fsync(out.fileno())
        if total is not None and done < total:
            raise _Interrupted(f"got {_human(done)} of {_human(total)}")


def _open(url: str, have: int, timeout: float):
    """Open ``url`` asking for bytes from ``have`` on; None when the part is already whole."""
    headers = {"User-Agent": "rlm-cli", "Accept-Encoding": "identity"}
    if have:
        headers["Range"] = f"bytes={have}-"
    req = urllib.request.Request(url, headers=headers)
    host = urlsplit(url).netloc
    try:
        return urllib.request.urlopen(req, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:
            _, total = _content_range(exc.headers.get("Content-Range", ""))
            exc.close()
            if total == have:
                return None
            return _open(url, 0, timeout)  # caller sees a 200 and restarts the file
        raise ModelError(f"download failed: HTTP {exc.code} {exc.reason} from {host}") from None
    except urllib.error.URLError as exc:
        raise ModelError(f"cannot reach {host}: offline? ({_why(exc.reason)})") from None
    except (TimeoutError, ConnectionError) as exc:
        raise ModelError(f"cannot reach {host}: offline? ({_why(exc)})") from None


def reachable(url: str, timeout: float = 2.0) -> bool:
    """Whether a TCP connection to ``url``'s host opens within ``timeout`` seconds (DNS included)."""
    parts = urlsplit(url)
    host = parts.hostname
    if not host:
        return False
    port = parts.port or (443 if parts.scheme == "https" else 80)
    result: list[bool] = []

    def probe() -> None:
        try:
            socket.create_connection((host, port), timeout=timeout).close()
            result.append(True)
        except OSError:
            result.append(False)

    t = threading.Thread(target=probe, daemon=True)
    t.start()
    t.join(timeout + 0.5)  # getaddrinfo has no timeout of its own
    return bool(result and result[0])


def _why(reason: object) -> str:
    if isinstance(reason, socket.gaierror):
        return "the name does not resolve"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, TimeoutError):
        return "timed out"
    if isinstance(reason, http.client.IncompleteRead):
        return "connection closed early"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror.lower()
    return str(reason) or type(reason).__name__


def _content_range(value: str) -> tuple[int | None, int | None]:
    """``(start, total)`` from ``bytes a-b/total`` or ``bytes */total``."""
    m = re.match(r"bytes\s+(?:(\d+)-\d+|\*)/(\d+|\*)", value.strip())
    if not m:
        return None, None
    start = int(m.group(1)) if m.group(1) else None
    total = int(m.group(2)) if m.group(2) != "*" else None
    return start, total


def _human(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


@contextlib.contextmanager
def _progress_bar(show: bool, name: str, done: int, total: int | None) -> Iterator:
    """A callable ``update(done_bytes)``; draws a Rich bar on stderr only when ``show``."""
    if not show:
        yield lambda _n: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=False) as bar:
        task = bar.add_task(name.removesuffix(".part"), total=total, completed=done)
        yield lambda n: bar.update(task, completed=n)


@contextlib.contextmanager
def _lock(dest: Path) -> Iterator[None]:
    """Refuse two downloads of the same file at once (POSIX advisory lock)."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock
        yield
        return
    lock_path = dest.with_name(dest.name + ".lock")
    with open(lock_path, "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise ModelError(f"another download of {dest.name} is already running") from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
            with contextlib.suppress(OSError):
                lock_path.unlink()
