"""A tiny terminal screen for tests: enough of VT100 to replay what Rich writes.

Handles printable text with autowrap (pending-wrap at the last column, like xterm), CR,
LF, backspace, CSI cursor moves (A B C D G H), erase in line/display (K, J), SGR and
private modes (ignored), OSC strings (ignored). Lines scrolled off the top are kept in
``scrollback`` so a whole session can be read back.
"""

from __future__ import annotations

import re

_CSI = re.compile(r"\x1b\[([0-9;?]*)([A-Za-z@])")
_OSC = re.compile(r"\x1b\][^\x07\x1b]*(\x07|\x1b\\)")


class Screen:
    """``rows`` × ``cols`` cells; feed it terminal output, read ``lines()``."""

    def __init__(self, rows: int, cols: int) -> None:
        self.rows, self.cols = rows, cols
        self.grid = [[" "] * cols for _ in range(rows)]
        self.scrollback: list[str] = []
        self.y = self.x = 0
        self.pending_wrap = False
        self.sgr: list[list[int]] = []
        """Every SGR parameter list seen (to check colour was or was not used)."""

    def _newline(self) -> None:
        if self.y == self.rows - 1:
            self.scrollback.append("".join(self.grid.pop(0)).rstrip())
            self.grid.append([" "] * self.cols)
        else:
            self.y += 1

    def _put(self, ch: str) -> None:
        if self.pending_wrap:
            self.x, self.pending_wrap = 0, False
            self._newline()
        self.grid[self.y][self.x] = ch
        if self.x == self.cols - 1:
            self.pending_wrap = True
        else:
            self.x += 1

    def _csi(self, params: str, op: str) -> None:
        if params.startswith("?"):
            return  # private modes: cursor visibility, alternate screen...
        nums = [int(p) if p else 0 for p in params.split(";")] if params else []
        n = nums[0] if nums and nums[0] else 1
        self.pending_wrap = False if op not in "mK" else self.pending_wrap
        if op == "m":
            self.sgr.append(nums or [0])
        elif op == "A":
            self.y = max(0, self.y - n)
        elif op == "B":
            self.y = min(self.rows - 1, self.y + n)
        elif op == "C":
            self.x = min(self.cols - 1, self.x + n)
        elif op == "D":
            self.x = max(0, self.x - n)
        elif op == "G":
            self.x = min(self.cols - 1, n - 1)
        elif op == "H":
            self.y = min(self.rows - 1, (nums[0] if nums else 1) - 1)
            self.x = min(self.cols - 1, (nums[1] if len(nums) > 1 else 1) - 1)
        elif op == "K":
            mode = nums[0] if nums else 0
            row = self.grid[self.y]
            lo, hi = {0: (self.x, self.cols), 1: (0, self.x + 1), 2: (0, self.cols)}[mode]
            row[lo:hi] = [" "] * (hi - lo)
        elif op == "J":
            mode = nums[0] if nums else 0
            if mode in (2, 3):
                self.grid = [[" "] * self.cols for _ in range(self.rows)]
            elif mode == 0:
                self.grid[self.y][self.x :] = [" "] * (self.cols - self.x)
                for r in range(self.y + 1, self.rows):
                    self.grid[r] = [" "] * self.cols

    def feed(self, data: str) -> None:
        """Apply terminal output."""
        data = _OSC.sub("", data)
        pos = 0
        while pos < len(data):
            m = _CSI.match(data, pos) if data[pos] == "\x1b" else None
            if m:
                self._csi(m.group(1), m.group(2))
                pos = m.end()
                continue
            ch = data[pos]
            pos += 1
            if ch == "\r":
                self.x, self.pending_wrap = 0, False
            elif ch == "\n":
                self.pending_wrap = False
                self._newline()
            elif ch == "\b":
                self.x = max(0, self.x - 1)
            elif ch == "\x1b" or ch < " " or ch == "\x7f":
                continue
            else:
                self._put(ch)

    def lines(self) -> list[str]:
        """The visible rows, right-trimmed."""
        return ["".join(r).rstrip() for r in self.grid]

    def text(self) -> str:
        """Scrollback and screen, as one string."""
        return "\n".join(self.scrollback + self.lines()).rstrip("\n") + "\n"

    def used_colour(self) -> bool:
        """Did any SGR sequence set a foreground or background colour?"""
        for params in self.sgr:
            for p in params:
                if 30 <= p <= 38 or 40 <= p <= 48 or 90 <= p <= 97 or 100 <= p <= 107:
                    return True
        return False
