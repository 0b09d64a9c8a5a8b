"""Keep llama.cpp's native log lines off the terminal.

llama.cpp (and ggml) print loading details, warnings and errors straight to
stderr from C. llama-cpp-python routes them through one ctypes callback set
with ``llama_log_set``; its default prints anything at ERROR or above even with
``verbose=False``. :func:`silence_native_logs` swaps in a callback that prints
nothing and keeps the last lines in memory, so a failed model load can still
say why (:func:`recent_native_logs`).
"""

from __future__ import annotations

import ctypes
from collections import deque
from typing import Any

_KEEP = 50
_recent: deque[str] = deque(maxlen=_KEEP)
_callback: Any = None  # the ctypes callback must stay referenced while installed


def _remember(level: int, text: bytes | None, user_data: Any) -> None:
    if text:
        _recent.append(text.decode("utf-8", errors="replace"))


def silence_native_logs() -> bool:
    """Stop llama.cpp printing to stderr; return False if llama_cpp is not importable.

    Safe to call more than once. Lines are kept (the last 50) for
    :func:`recent_native_logs`.
    """
    global _callback
    try:
        import llama_cpp
    except ImportError:
        return False
    if _callback is None:
        _callback = llama_cpp.llama_log_callback(_remember)
    llama_cpp.llama_log_set(_callback, ctypes.c_void_p(0))
    return True


def recent_native_logs(n: int = 10) -> list[str]:
    """The last ``n`` native log lines seen while silenced, oldest first."""
    return list(_recent)[-n:] if n > 0 else []
