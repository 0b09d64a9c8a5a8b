"""The context store: ingest inputs into content-addressed contexts, find, list, remove."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import orjson

from rlm_cli import paths
from rlm_cli.errors import InputError, StoreError
from rlm_cli.store.context import Context
from rlm_cli.store.inputs import InputFile, looks_binary, open_input
from rlm_cli.store.layout import BLOCKS_FILE, DATA_FILE, META_FILE


def _fstat(stream) -> os.stat_result | None:
    """Stat of the file under ``stream`` (through decompressors), or None."""
    for obj in (stream, getattr(stream, "fileobj", None), getattr(stream, "_fp", None)):
        try:
            return os.fstat(obj.fileno())  # type: ignore[union-attr]
        except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
            continue
    return None


def _plain_fd(stream) -> int | None:
    """The descriptor under ``stream`` when it is a regular file (can be copied in-kernel)."""
    try:
        fd = stream.fileno()
        return fd if stat.S_ISREG(os.fstat(fd).st_mode) else None
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return None


def _check_changed(name: str, stream, before: os.stat_result, stats, compression, warn) -> None:
    """Warn when a file was truncated or deleted while it was read (what was read is kept)."""
    after = _fstat(stream)
    if compression is None and stats.bytes_read < before.st_size:
        warn(
            f"{name} shrank while being read (truncated?): kept the {stats.bytes_read:,} of "
            f"{before.st_size:,} bytes that were read"
        )
    if after is not None and after.st_nlink == 0:
        warn(f"{name} was deleted while being read: kept the {stats.bytes_read:,} bytes read")


class ContextStore:
    """All contexts under one folder (``<data dir>/contexts`` by default)."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or paths.contexts_dir()

    def ingest(self, inputs: list[InputFile], *, allow_binary: bool = False, warn=None) -> dict:
        """Stream the inputs into one context and return its metadata.

        Files found in folders that cannot be opened or read, or that look binary (a NUL
        byte in their first 64 KiB, e.g. ``wtmp``), are skipped with one warning each;
        a named file that cannot be read or is binary stops the ingest (``InputError``).
        Files that shrink or disappear while read are kept as read, with a warning.
        """
        from rlm_cli.store.ingest import ContextWriter  # not needed to read contexts

        warn = warn or (lambda _m: None)
        only_stdin = len(inputs) == 1 and inputs[0].path is None
        empty = "no input: stdin was empty" if only_stdin else "no input: every file was empty"
        if any(item.in_folder for item in inputs):
            empty = "no input: every file was empty or skipped"
        if len(inputs) == 1 and inputs[0].path is not None:
            empty = f"{inputs[0].name}: file is empty"
        with ContextWriter(self.root, allow_binary=allow_binary) as writer:
            for item in inputs:
                try:
                    if item.in_folder and not allow_binary and looks_binary(item):
                        raise InputError(
                            f"{item.name}: looks binary (NUL bytes; --binary keeps it)"
                        )
                    stream, compression = open_input(item)
                except InputError as e:
                    if not item.in_folder:
                        raise
                    warn(f"skipping {e}")
                    writer.skipped.append(str(e))
                    continue
                try:
                    before = _fstat(stream) if item.path is not None else None
                    stats = writer.add(
                        item.name,
                        stream,
                        compression=compression,
                        copy_from=_plain_fd(stream) if compression is None else None,
                    )
                    if before is not None:
                        _check_changed(item.name, stream, before, stats, compression, warn)
                except InputError as e:
                    if item.in_folder:  # binary past the first 64 KiB: say how to leave it out
                        raise InputError(f"{e}, or --exclude it") from None
                    raise
                finally:
                    if item.path is not None:
                        stream.close()
                if stats.bytes == 0 and len(inputs) > 1:
                    warn(f"skipping {item.name}: empty")
            meta = writer.finish(empty_message=empty)
        touch_used(self.root / meta["id"])  # the same input again: a use of the old one
        return meta

    def open(self, ctx_id: str) -> Context:
        """Open a context by id or unique id prefix (and mark it used, for ``gc``)."""
        folder = self.resolve(ctx_id)
        touch_used(folder)
        return Context(folder)

    def resolve(self, ctx_id: str) -> Path:
        """The folder of a context, given its id or a unique prefix of it."""
        if not ctx_id or "/" in ctx_id or ctx_id.startswith("."):
            raise StoreError(f"not a context id: {ctx_id!r}")
        exact = self.root / ctx_id
        if (exact / META_FILE).exists():
            return exact
        matches = [p for p in self._folders() if p.name.startswith(ctx_id)]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise StoreError(f"no context {ctx_id!r} (see: rlm contexts list)")
        raise StoreError(f"context id {ctx_id!r} is ambiguous ({len(matches)} match)")

    def list(self) -> list[dict]:
        """Metadata of every context, newest first."""
        metas = []
        for folder in self._folders():
            try:
                metas.append(orjson.loads((folder / META_FILE).read_bytes()))
            except (OSError, orjson.JSONDecodeError):
                continue
        return sorted(metas, key=lambda m: m.get("created", 0), reverse=True)

    def rm(self, ctx_id: str) -> str:
        """Delete one context; returns its id."""
        import shutil

        folder = self.resolve(ctx_id)
        shutil.rmtree(folder)
        return folder.name

    def last_used(self, folder: Path) -> float:
        """When the context in ``folder`` was last stored or opened (epoch seconds)."""
        try:
            return folder.stat().st_mtime
        except OSError:
            return 0.0

    def prune(
        self, *, unused_for_s: float | None = None, max_bytes: int | None = None
    ) -> list[tuple[str, int, str]]:
        """Remove whole contexts: those not used for ``unused_for_s`` seconds, then the least
        recently used until all take at most ``max_bytes``. Returns (id, bytes, why) each."""
        now = time.time()
        entries = sorted(
            ((self.last_used(f), self.usage(f), f) for f in self._folders()),
            key=lambda e: e[0],
        )
        removed: list[tuple[str, int, str]] = []
        kept = []
        for used, size, folder in entries:
            if unused_for_s is not None and now - used >= unused_for_s:
                shutil.rmtree(folder, ignore_errors=True)
                removed.append((folder.name, size, f"unused for {_age(now - used)}"))
            else:
                kept.append((used, size, folder))
        total = sum(size for _, size, _ in kept)
        for used, size, folder in kept:  # oldest first
            if max_bytes is None or total <= max_bytes:
                break
            shutil.rmtree(folder, ignore_errors=True)
            total -= size
            removed.append(
                (folder.name, size, f"over the size limit (last used {_age(now - used)} ago)")
            )
        return removed

    def gc(self, *, older_than_s: float = 3600.0) -> list[str]:
        """Remove what interrupted work left: ``.tmp-*`` folders and half-built cache files
        older than ``older_than_s`` (younger ones may belong to a running ingest), and
        damaged contexts (no metadata, or data of the wrong size). Returns what was removed.
        """
        import shutil

        removed: list[str] = []
        if not self.root.exists():
            return removed
        now = time.time()

        def old(p: Path) -> bool:
            try:
                return now - p.stat().st_mtime >= older_than_s
            except OSError:
                return False

        for p in self.root.glob(".tmp-*"):
            if old(p):
                shutil.rmtree(p, ignore_errors=True)
                removed.append(p.name)
        for folder in self._folders():
            problem = self.damage(folder)
            if problem is not None:
                if old(folder):
                    shutil.rmtree(folder, ignore_errors=True)
                    removed.append(f"{folder.name} ({problem})")
                continue
            for leftover in folder.rglob("*.tmp*"):  # half-built caches (time index, ...)
                if leftover.is_file() and old(leftover):
                    leftover.unlink(missing_ok=True)
                    removed.append(str(leftover.relative_to(self.root)))
        return removed

    @staticmethod
    def damage(folder: Path) -> str | None:
        """Why the context in ``folder`` cannot be used, or None when it looks whole."""
        try:
            meta = orjson.loads((folder / META_FILE).read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return "no readable metadata"
        try:
            size = (folder / DATA_FILE).stat().st_size
            (folder / BLOCKS_FILE).stat()
        except OSError:
            return "data or index missing"
        if size != meta.get("bytes"):
            return f"data is {size:,} bytes, expected {meta.get('bytes')}"
        return None

    def usage(self, folder: Path) -> int:
        """Bytes a context folder takes on disk (data, index, caches, log map)."""
        total = 0
        for p in folder.rglob("*"):
            try:
                total += p.stat().st_size if p.is_file() else 0
            except OSError:
                continue
        return total

    def _folders(self) -> list[Path]:
        if not self.root.exists():
            return []
        return [p for p in self.root.iterdir() if not p.name.startswith(".") and p.is_dir()]


def touch_used(folder: Path) -> None:
    """Mark a context as used now (its folder's mtime), which ``prune`` reads."""
    with contextlib.suppress(OSError):
        os.utime(folder)


def _age(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f}{unit}"
    return f"{seconds:.0f}s"


@contextlib.contextmanager
def temporary_store(root: Path | None = None) -> Iterator[ContextStore]:
    """A store in a fresh ``.tmp-look-*`` folder inside the contexts folder (the same disk,
    so the kernel can copy), removed on exit; ``rlm contexts gc`` removes one a killed
    process left. For commands that only look at their input (grep, brief, templates)."""
    base = root or paths.contexts_dir()
    try:
        base.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix=".tmp-look-", dir=base))
    except OSError as e:
        raise StoreError(f"cannot create a temporary context in {base}: {e.strerror or e}") from e
    try:
        yield ContextStore(folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
