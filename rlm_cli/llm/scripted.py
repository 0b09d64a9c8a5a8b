"""A scripted model: replays replies from a YAML file (``--model script:FILE.yaml``).

For demos, for replaying a run, for debugging prompts, and for driving the loop
deterministically in tests. The file is a mapping::

    root:              # replies of the root model, consumed in order; running out is an error
      - |
        Let me look for ECC errors.
        ```repl
        print(context.count("ECC"))
        ```
      - FINAL(node09 will fail)
    sub:               # replies of the sub-model, in order; the last one repeats
      - "node09: rising correctable ECC on DIMM_B2"
    summary:           # optional: the root's answers to compaction requests (last repeats);
      - "Turns 1-3 counted ECC errors per node."   # without it a compaction request fails

A reply may also be a mapping ``{text: ..., delay_s: 0.5}`` to pace a demo.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from rlm_cli.errors import ModelError, UsageError
from rlm_cli.llm.base import Completion, GenerationParams, Message, Model, OnText


@dataclass
class _Reply:
    text: str
    delay_s: float = 0.0


def _replies(path: Path, key: str, raw) -> list[_Reply]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise UsageError(f"script {path}: '{key}' must be a list of replies")
    out = []
    for i, item in enumerate(raw, 1):
        if isinstance(item, str):
            out.append(_Reply(item))
        elif isinstance(item, dict) and isinstance(item.get("text"), str):
            out.append(_Reply(item["text"], float(item.get("delay_s", 0) or 0)))
        else:
            raise UsageError(f"script {path}: {key} reply {i} must be text or {{text: ...}}")
    return out


class Script:
    """The parsed script file, shared by the root and sub views of it."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            data = yaml.safe_load(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError as e:
            raise UsageError(f"script file not found: {self.path}") from e
        except (OSError, UnicodeDecodeError) as e:
            raise UsageError(f"cannot read script {self.path}: {e}") from e
        except yaml.YAMLError as e:
            raise UsageError(f"script {self.path} is not valid YAML: {e}") from e
        if not isinstance(data, dict) or "root" not in data:
            raise UsageError(f"script {self.path}: expected a mapping with a 'root:' list")
        self.root = _replies(self.path, "root", data.get("root"))
        self.sub = _replies(self.path, "sub", data.get("sub"))
        self.summary = _replies(self.path, "summary", data.get("summary"))
        if not self.root:
            raise UsageError(f"script {self.path}: 'root' has no replies")
        self._next = {"root": 0, "sub": 0, "summary": 0}
        self._lock = threading.Lock()

    def next_reply(self, role: str) -> _Reply:
        """The next reply for ``role`` ("root" or "sub")."""
        with self._lock:
            replies = {"root": self.root, "sub": self.sub, "summary": self.summary}[role]
            i = self._next[role]
            if role == "root":
                if i >= len(replies):
                    raise ModelError(
                        f"script {self.path.name}: root replies ran out after {len(replies)} turn(s)"
                    )
                self._next[role] = i + 1
                return replies[i]
            if not replies:
                what = "made a sub-call" if role == "sub" else "was asked for a summary"
                raise ModelError(f"script {self.path.name}: the model {what} but '{role}' is empty")
            self._next[role] = min(i + 1, len(replies) - 1)
            return replies[i]


SUMMARY_MARKER = "[compaction request]"
"""How the engine's compaction request begins; a scripted root answers it from ``summary:``."""


class ScriptedModel(Model):
    """One role's view of a :class:`Script`."""

    def __init__(self, script: Script, role: str, n_ctx: int = 32768, concurrency: int = 4) -> None:
        self.script = script
        self.role = role
        self.spec = f"script:{script.path}"
        self.n_ctx = n_ctx
        self.concurrency = concurrency

    def identity(self) -> str:
        """The script path, size and modification time (an edited script misses the cache)."""
        st = self.script.path.stat()
        return f"script:{self.script.path.resolve()}|{st.st_size}|{st.st_mtime_ns}"

    def complete(
        self, messages: Sequence[Message], params: GenerationParams, on_text: OnText | None = None
    ) -> Completion:
        t0 = time.perf_counter()
        role = self.role
        if (
            role == "root"
            and messages
            and messages[-1].get("content", "").startswith(SUMMARY_MARKER)
        ):
            role = "summary"
        reply = self.script.next_reply(role)
        if reply.delay_s:
            _pause(reply.delay_s, params)
        if on_text:
            on_text(reply.text)
        if role == "root" and len(reply.text) > 4 * params.max_tokens:
            # honour max_tokens like a real backend: cut, and say so
            text = reply.text[: 4 * params.max_tokens]
            return Completion(
                text=text,
                prompt_tokens=sum(self.count_tokens(m.get("content", "")) for m in messages),
                completion_tokens=params.max_tokens,
                finish_reason="length",
                elapsed_s=time.perf_counter() - t0,
                meta={"usage_estimated": True},
            )
        prompt = sum(self.count_tokens(m.get("content", "")) for m in messages)
        return Completion(
            text=reply.text,
            prompt_tokens=prompt,
            completion_tokens=self.count_tokens(reply.text),
            elapsed_s=time.perf_counter() - t0,
            meta={"usage_estimated": True},
        )


def _pause(seconds: float, params: GenerationParams) -> None:
    """Sleep like a slow model thinks: in short steps, abandoned when told to stop."""
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        params.check_stop()
        time.sleep(min(0.05, left))
