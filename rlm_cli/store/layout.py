"""The on-disk layout of one context folder, shared by the writer and the reader.

``contexts/<id>/``
  - ``data``        the input, line ends normalised to ``\\n``, every source ending in ``\\n``
  - ``blocks.idx``  block index: uint64 triples (byte offset, lines before, chars before),
                    one per block of about ``BLOCK_BYTES``, each block starting at a line start
  - ``meta.json``   id, sizes, sources (path, bytes, lines, line range), first/last time
  - derived caches written later by their owners, atomically: ``timeindex/`` (per-line
                    times, built on the first ``window()`` or with the log map), ``logmap/``
"""

from __future__ import annotations

BLOCK_BYTES = 64 * 1024
"""Target spacing of block-index entries. Smaller: faster random line access, bigger index."""

READ_CHUNK = 1 << 20
"""Bytes read from an input per step while ingesting (and read back after a kernel copy)."""

SCAN_CHUNK = 4 << 20
"""Bytes of a kernel-copied range scanned per step (read in place through a mapping)."""

COPY_CHUNK = 16 << 20
"""Bytes copied in the kernel per ``copy_file_range`` call: few calls, so the copying
thread rarely needs the GIL while the read-back thread counts."""

DATA_FILE = "data"
BLOCKS_FILE = "blocks.idx"
META_FILE = "meta.json"
FORMAT_VERSION = 1
TIME_DIR = "timeindex"
"""Sub-folder of the time index (``store/timeindex.py``), shared with the log map."""
