"""Bounded capture of what the model's code prints: head + tail, with a cut marker."""

from __future__ import annotations

import io


def exact_str(value: object) -> str:
    """``value`` as a plain ``str``.

    A ``str`` subclass from model code could lie about its length or slices and slip
    past every bound below; it is copied to a plain ``str`` without running its methods.
    """
    text = value if isinstance(value, str) else str(value)
    return text if type(text) is str else str.__str__(text)


def utf8_safe(text: str) -> str:
    """``text`` with lone surrogates (``chr(0xD800)``) replaced by ``?``: they cannot be
    encoded, and one in a reply would make the worker's JSON encoder fail."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")


class BoundedWriter(io.TextIOBase):
    """A text stream that keeps the first and last ``limit // 2`` characters.

    Memory stays bounded however much is printed (a gigabyte of prints costs no
    more than ``limit`` characters); :meth:`text` says how much was cut.
    """

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = max(200, limit)
        self.head_limit = self.limit // 2
        self.tail_limit = self.limit - self.head_limit
        self._head: list[str] = []
        self._head_len = 0
        self._tail = ""
        self.total = 0

    def writable(self) -> bool:
        return True

    def write(self, s: str) -> int:
        s = exact_str(s)
        self.total += len(s)
        room = self.head_limit - self._head_len
        if room > 0:
            part = s[:room]
            self._head.append(part)
            self._head_len += len(part)
            s = s[room:]
        if s:
            self._tail = (self._tail + s[-self.tail_limit :])[-self.tail_limit :]
        return self.total

    @property
    def cut(self) -> int:
        """Characters dropped from the middle."""
        return max(0, self.total - self._head_len - len(self._tail))

    def text(self) -> str:
        """What was printed, with a marker where the middle was cut."""
        head = "".join(self._head)
        if not self.cut:
            return utf8_safe(head + self._tail)
        return utf8_safe(
            f"{head}\n[... {self.cut:,} characters cut from the middle of "
            f"{self.total:,} printed; print less, or slice ...]\n{self._tail}"
        )


def clip(text: str, limit: int) -> tuple[str, int]:
    """Cut ``text`` to ``limit`` characters, head + tail, with a marker. Returns (text, cut)."""
    text = exact_str(text)
    if len(text) <= limit:
        return utf8_safe(text), 0
    w = BoundedWriter(limit)
    w.write(text)
    return w.text(), w.cut
