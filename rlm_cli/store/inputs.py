"""Turn what the user named (files, folders, globs, ``-``) into byte streams to ingest.

Compression is detected by magic bytes, never by file name: gzip, bz2 and xz from the
standard library, zstd when the ``zstandard`` package is installed.
"""

from __future__ import annotations

import fnmatch
import glob
import io
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from rlm_cli.errors import InputError

MAGIC = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bz2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
)


@dataclass
class InputFile:
    """One input to ingest; ``path`` is None for standard input.

    ``in_folder`` marks files found by walking a folder: when one cannot be opened it is
    skipped with a warning instead of stopping the ingest.
    """

    name: str
    path: Path | None
    in_folder: bool = False


def _is_glob(text: str) -> bool:
    return any(ch in text for ch in "*?[")


def expand_inputs(
    paths: list[str],
    *,
    include: list[str] | None = None,
    exclude: list[str] | None = None,
    warn=None,
) -> list[InputFile]:
    """Expand user arguments into input files, in a stable order.

    Folders are walked recursively (sorted); ``include``/``exclude`` are globs matched
    against the file name and the path relative to the folder. ``-`` (or no paths) is stdin.
    Unreadable files inside a folder are skipped and reported through ``warn``.
    """
    if not paths:
        paths = ["-"]
    out: list[InputFile] = []
    for arg in paths:
        if arg == "-":
            out.append(InputFile("<stdin>", None))
            continue
        p = Path(arg)
        if p.is_dir():
            found = list(_walk(p, include or [], exclude or [], warn))
            if not found:
                raise InputError(f"{arg}: folder has no files to read")
            out.extend(found)
        elif p.exists():
            if not os.access(p, os.R_OK):
                raise InputError(f"{arg}: permission denied")
            out.append(InputFile(str(p), p))
        elif _is_glob(arg):
            matches = sorted(glob.glob(arg, recursive=True))
            files = [Path(m) for m in matches if Path(m).is_file()]
            if not files:
                raise InputError(f"{arg}: no files match")
            out.extend(InputFile(str(f), f) for f in files)
        else:
            raise InputError(f"{arg}: no such file or folder")
    return out


def _walk(root: Path, include: list[str], exclude: list[str], warn) -> Iterator[InputFile]:
    def unreadable(e: OSError) -> None:
        if warn:
            warn(f"skipping {e.filename}: {e.strerror or e}")

    for dirpath, dirnames, filenames in os.walk(root, onerror=unreadable):
        dirnames.sort()
        for fn in sorted(filenames):
            full = Path(dirpath) / fn
            rel = str(full.relative_to(root))
            if include and not any(
                fnmatch.fnmatch(fn, g) or fnmatch.fnmatch(rel, g) for g in include
            ):
                continue
            if any(fnmatch.fnmatch(fn, g) or fnmatch.fnmatch(rel, g) for g in exclude):
                continue
            if not full.is_file():
                continue
            if not os.access(full, os.R_OK):
                if warn:
                    warn(f"skipping {full}: permission denied")
                continue
            yield InputFile(str(full), full, in_folder=True)


SNIFF_BYTES = 64 * 1024


def looks_binary(item: InputFile) -> bool:
    """Whether a file's first 64 KiB (decompressed) hold a NUL byte, as grep decides.

    Unreadable files are not called binary here: opening them reports the real error.
    """
    try:
        stream, _ = open_input(item)
    except InputError:
        return False
    try:
        return b"\0" in stream.read(SNIFF_BYTES)
    except Exception:  # noqa: BLE001 - a damaged stream: ingesting it reports why
        return False
    finally:
        stream.close()


def open_input(item: InputFile) -> tuple[BinaryIO, str | None]:
    """Open an input for reading, decompressing by magic bytes. Returns (stream, compression)."""
    if item.path is None:
        raw: BinaryIO = sys.stdin.buffer
    else:
        try:
            raw = open(item.path, "rb")  # noqa: SIM115 - caller reads then closes
        except OSError as e:
            raise InputError(f"{item.name}: {e.strerror or e}") from e
    buffered = raw if hasattr(raw, "peek") else io.BufferedReader(raw)  # type: ignore[arg-type]
    try:
        head = buffered.peek(8)[:8]  # type: ignore[union-attr]
    except OSError as e:
        buffered.close()
        raise InputError(f"cannot read {item.name}: {e.strerror or e}") from e
    for magic, kind in MAGIC:
        if head.startswith(magic):
            return _decompressor(kind, buffered, item.name), kind
    return buffered, None


def _decompressor(kind: str, raw: BinaryIO, name: str) -> BinaryIO:
    import bz2
    import gzip
    import lzma

    if kind == "gzip":
        return gzip.GzipFile(fileobj=raw)  # type: ignore[return-value]
    if kind == "bz2":
        return bz2.BZ2File(raw)  # type: ignore[return-value]
    if kind == "xz":
        return lzma.LZMAFile(raw)  # type: ignore[return-value]
    try:
        import zstandard
    except ImportError as e:
        raise InputError(
            f"{name} is zstd-compressed; install the 'zstandard' package (pip install rlm-cli[zstd])"
        ) from e
    return zstandard.ZstdDecompressor().stream_reader(raw)  # type: ignore[return-value]
