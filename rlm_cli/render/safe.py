"""Make untrusted text safe to put on a terminal.

Log lines (and what the model copies out of them) may carry escape sequences that
would move the cursor, retitle the window, or worse, if written raw. Every control
character but newline and tab is shown as its visible picture (ESC as ``␛``).
"""

from __future__ import annotations

_TABLE = {c: 0x2400 + c for c in range(0x20) if c not in (0x09, 0x0A)}
_TABLE[0x7F] = 0x2421  # ␡
_TABLE.update({c: 0xFFFD for c in range(0x80, 0xA0)})  # C1 controls (CSI as one byte)


def terminal_safe(text: str) -> str:
    """``text`` with control characters (except ``\\n`` and ``\\t``) made visible."""
    return text.translate(_TABLE) if text else text
