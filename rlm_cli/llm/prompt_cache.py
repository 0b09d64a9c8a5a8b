"""A persistent cache of evaluated prompt heads: KV state saved on disk, loaded by later runs.

Every run of the same model and prompt version starts with the same tokens (the formatted
system message). Evaluating them costs seconds on a CPU; loading their saved KV state
costs milliseconds. An entry is one file ``<data dir>/prompt_cache/<key>.kv``:

    magic "RLMKV1\\n" · u32 header length · header JSON · int32 tokens · state bytes

The key is a hash of the model identity (path, size, mtime), everything about the
context that shapes its KV layout (``n_ctx``, flash attention, the llama.cpp version)
and the exact token ids, and the header repeats them so a hash collision or a stale
file can never be applied. Writes go to a unique temporary file renamed into place, so
two runs racing to store the same head both succeed and a reader sees one whole file or
none. An entry that cannot be read (truncated, bad checksum, another format) is
ignored with a note and removed. The folder is bounded (bytes and files); the least
recently used entries go first (a hit refreshes the file's mtime).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import struct
import sys
import tempfile
import time
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import xxhash

from rlm_cli import paths

MAGIC = b"RLMKV1\n"
SUFFIX = ".kv"
DEFAULT_MAX_BYTES = 1 << 30
DEFAULT_MAX_FILES = 32
STALE_TMP_S = 3600.0


def cache_dir() -> Path:
    """``<data dir>/prompt_cache``."""
    return paths.data_dir() / "prompt_cache"


@dataclass
class Lookup:
    """What a lookup found: the saved state (None on a miss) and a note when an entry
    existed but could not be used."""

    state: bytes | memoryview | None = None
    note: str | None = None


class PromptCache:
    """Saved KV states of prompt heads in one folder, bounded and pruned least-recently-used."""

    def __init__(
        self,
        root: Path | None = None,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_files: int = DEFAULT_MAX_FILES,
    ) -> None:
        self.root = Path(root) if root is not None else cache_dir()
        self.max_bytes = int(max_bytes)
        self.max_files = int(max_files)

    # -- keys ----------------------------------------------------------------------------

    @staticmethod
    def key(model: str, layout: dict, tokens: Sequence[int]) -> str:
        """The entry name for ``tokens`` evaluated by ``model`` in a context of ``layout``."""
        h = hashlib.sha256()
        h.update(json.dumps({"model": model, "layout": layout}, sort_keys=True).encode())
        h.update(_token_bytes(tokens))
        return h.hexdigest()[:40]

    def path(self, key: str) -> Path:
        """The file of entry ``key``."""
        return self.root / f"{key}{SUFFIX}"

    # -- read ----------------------------------------------------------------------------

    def load(self, model: str, layout: dict, tokens: Sequence[int]) -> Lookup:
        """The saved state for exactly these tokens, model and layout, if there is one."""
        key = self.key(model, layout, tokens)
        path = self.path(key)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return Lookup()
        except OSError as e:
            return Lookup(note=f"prompt cache entry {path.name} unreadable ({e.strerror or e})")
        try:
            state = _decode(data, model, layout, tokens)
        except ValueError as e:
            with contextlib.suppress(OSError):
                path.unlink()
            return Lookup(note=f"prompt cache entry {path.name} ignored and removed: {e}")
        with contextlib.suppress(OSError):
            os.utime(path)  # most recently used
        return Lookup(state=state)

    # -- write ---------------------------------------------------------------------------

    def save(self, model: str, layout: dict, tokens: Sequence[int], state: bytes) -> Path | None:
        """Store ``state`` atomically, then prune; None (no error) when the folder is not
        writable or the entry alone is over the size bound."""
        blob = _encode(model, layout, tokens, state)
        if len(blob) > self.max_bytes:
            return None
        path = self.path(self.key(model, layout, tokens))
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=SUFFIX, dir=self.root)
        except OSError:
            return None
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(blob)
            os.replace(tmp, path)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            return None
        self.prune(keep=path)
        return path

    def prune(self, keep: Path | None = None) -> list[Path]:
        """Remove least recently used entries beyond the bounds (never ``keep``), and
        temporary files a crashed writer left over an hour ago. Returns what was removed."""
        entries: list[tuple[float, int, Path]] = []
        removed: list[Path] = []
        now = time.time()
        try:
            names = list(self.root.iterdir())
        except OSError:
            return removed
        for p in names:
            try:
                st = p.stat()
            except OSError:
                continue  # removed by a racing run
            if p.name.startswith(".tmp-"):
                if now - st.st_mtime > STALE_TMP_S:
                    with contextlib.suppress(OSError):
                        p.unlink()
                        removed.append(p)
                continue
            if p.suffix == SUFFIX:
                entries.append((st.st_mtime, st.st_size, p))
        entries.sort(key=lambda e: e[0], reverse=True)  # newest first
        total = 0
        for i, (_, size, p) in enumerate(entries):
            total += size
            if p != keep and (i >= self.max_files or total > self.max_bytes):
                with contextlib.suppress(OSError):
                    p.unlink()
                    removed.append(p)
                total -= size
        return removed

    def entries(self) -> list[Path]:
        """The entry files, newest first."""
        try:
            files = [p for p in self.root.glob(f"*{SUFFIX}") if not p.name.startswith(".tmp-")]
        except OSError:
            return []
        return sorted(files, key=lambda p: p.stat().st_mtime, reverse=True)


def _token_bytes(tokens: Sequence[int]) -> bytes:
    """Tokens as little-endian 32-bit integers (the key's and the file's form); without
    numpy, which a run of a scripted or server model need not import."""
    out = array("i", tokens)
    if out.itemsize != 4:  # pragma: no cover - no platform Python runs on today
        out = array("l", tokens)
    if sys.byteorder == "big":  # pragma: no cover
        out.byteswap()
    return out.tobytes()


def _encode(model: str, layout: dict, tokens: Sequence[int], state: bytes) -> bytes:
    toks = _token_bytes(tokens)
    header = json.dumps(
        {
            "model": model,
            "layout": layout,
            "n_tokens": len(tokens),
            "state_bytes": len(state),
            "xxh3": xxhash.xxh3_64_hexdigest(toks + state),
        },
        sort_keys=True,
    ).encode()
    return MAGIC + struct.pack("<I", len(header)) + header + toks + state


def _decode(data: bytes, model: str, layout: dict, tokens: Sequence[int]) -> memoryview:
    """The state bytes of an entry; ValueError saying why when it does not fit."""
    if not data.startswith(MAGIC):
        raise ValueError("not a prompt cache file")
    at = len(MAGIC)
    if len(data) < at + 4:
        raise ValueError("truncated")
    (hlen,) = struct.unpack_from("<I", data, at)
    at += 4
    try:
        header = json.loads(data[at : at + hlen])
    except (ValueError, UnicodeDecodeError):
        raise ValueError("bad header") from None
    at += hlen
    if not isinstance(header, dict):
        raise ValueError("bad header")
    if header.get("model") != model or header.get("layout") != json.loads(json.dumps(layout)):
        raise ValueError("made for another model or context")
    n, size = header.get("n_tokens"), header.get("state_bytes")
    if n != len(tokens) or not isinstance(size, int) or len(data) != at + 4 * n + size:
        raise ValueError("truncated or wrong size")
    body = memoryview(data)[at:]  # no copies of a state that may be tens of MB
    if xxhash.xxh3_64_hexdigest(body) != header.get("xxh3"):
        raise ValueError("checksum mismatch")
    if body[: 4 * n] != _token_bytes(tokens):
        raise ValueError("made for other tokens")
    return body[4 * n :]
