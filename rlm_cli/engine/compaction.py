"""Keep the root conversation inside the model's window: summarise older turns.

When the conversation (counted with the root model's own tokenizer) plus room for
the reply passes ``compact_at`` (85 %) of n_ctx, the oldest turns but the last are
replaced by a summary: by default a deterministic digest of the turns (what each ran
and what it printed, verbatim, long outputs clipped from the middle); with ``compact_summary: model`` one the root
model writes from a short prompt, falling back to the digest if that call fails. Nothing is lost: the full
history goes into the REPL as the variable ``history``, the trajectory records each
compaction, and the operator sees a note. Never silent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from rlm_cli.engine.prompts import fill
from rlm_cli.engine.records import Turn
from rlm_cli.errors import PromptTooLong, RlmError
from rlm_cli.llm.base import Completion, GenerationParams, Message, Model
from rlm_cli.repl.output import clip


def digest(turns: list[Turn], per_turn_chars: int = 400) -> str:
    """A deterministic summary of turns: what each ran and what it printed, verbatim (one
    line of code per block; the printed lines kept as lines, clipped to ``per_turn_chars``
    from their middle, saying so)."""
    lines = []
    for t in turns:
        code = " | ".join(c.strip().splitlines()[0][:100].rstrip(":") for c in t.code if c.strip())
        printed = "\n".join(
            s
            for o in t.outputs
            for s in ((o.get("stdout") or "").strip(), (o.get("error") or "").strip())
            if s
        )
        lines.append(f"- turn {t.index}: ran {code or '(no code)'}")
        if printed:
            lines.append("  printed:\n" + _indent(clip(printed, per_turn_chars)[0]))
    return "\n".join(lines)


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


def turn_text(t: Turn, max_chars: int) -> str:
    """One turn as the summariser sees it (clipped to ``max_chars``, marked when clipped)."""
    outs = []
    for o in t.outputs:
        outs.append((o.get("stdout") or "").rstrip())
        if o.get("error"):
            outs.append("[error] " + o["error"])
    body = (
        f"## turn {t.index}\nreasoning: {t.reasoning}\ncode:\n"
        + "\n---\n".join(t.code)
        + "\noutput:\n"
        + "\n".join(outs)
    )
    return clip(body, max_chars)[0]


@dataclass
class Compactor:
    """Compacts one engine's root conversation. ``complete`` calls the root model."""

    model: Model
    prompts: dict[str, str]
    question: str
    compact_at: float
    reply_tokens: int
    summary_max_tokens: int
    complete: Callable[[list[Message], GenerationParams], Completion]
    by_model: bool = False
    """True: the root model writes the summary; False: :func:`digest` (no model call)."""
    first_turn: int = 1
    """Turn number of the oldest turn still in the conversation."""
    summary: str = ""
    records: list[dict] = field(default_factory=list)
    last_cut: int = 0
    """Characters cut from the newest feedback by the last :meth:`fit` (0: none)."""

    def tokens(self, messages: list[Message]) -> int:
        """Tokens of a conversation by the model's own tokenizer (+ a few per message)."""
        return sum(self.model.count_tokens(m["content"]) + 8 for m in messages)

    def limit(self, reserve: int = 0) -> int:
        """Conversation size above which older turns are compacted (``reserve``: tokens of
        messages still to be added after it)."""
        return int(self.model.n_ctx * self.compact_at) - self.reply_tokens - reserve

    def fit(
        self,
        messages: list[Message],
        first_user: str,
        turns: list[Turn],
        turn_no: int,
        reserve: int = 0,
    ) -> dict | None:
        """Compact ``messages`` in place when needed; returns the compaction record or None.

        ``messages`` is [system, first user, (assistant, user) per turn since ``first_turn``].
        The last (assistant, user) pair is always kept. ``reserve`` tokens are left free for
        messages the caller adds after them (the forced final question). Raises PromptTooLong
        when even the compacted conversation cannot fit.
        """
        before = self.tokens(messages)
        record = None
        if before > self.limit(reserve):
            pairs = (len(messages) - 2) // 2
            drop = pairs - 1
            if drop > 0:
                record = self._compact(messages, first_user, turns, drop, turn_no, before)
        room = self.model.n_ctx - self.reply_tokens - reserve
        self._shrink_summary(messages, first_user, room)
        self.last_cut = self._cut_last_output(messages, reserve)
        if self.tokens(messages) > room:
            raise PromptTooLong(
                f"the root prompt does not fit the model's window ({self.model.n_ctx} tokens) "
                "even after compaction; use a larger --n-ctx or a smaller --max-output-chars",
            )
        return record

    def _shrink_summary(self, messages: list[Message], first_user: str, room: int) -> None:
        """When the compacted conversation is still over the window (a long first prompt in
        a small window), keep less of the running summary, its newest part, down to none:
        older turns stay whole in the REPL's ``history``. Before the newest output is cut."""
        if self.first_turn <= 1 or not self.summary or len(messages) < 2:
            return
        keep = len(self.summary)
        while self.tokens(messages) > room and keep > 0:
            keep = keep // 2 if keep > 200 else 0
            summary = (
                "[older part of this summary cut to fit the window; see `history`]\n"
                + self.summary[-keep:]
                if keep
                else "[cut to fit the window; see `history`]"
            )
            messages[1] = {
                "role": "user",
                "content": first_user.rstrip()
                + "\n\n"
                + fill(
                    self.prompts["compacted"], first=1, last=self.first_turn - 1, summary=summary
                ),
            }
            self.summary = summary

    def _cut_last_output(self, messages: list[Message], reserve: int = 0) -> int:
        """When even the compacted conversation is over the window, shorten the newest
        feedback (the output of the last turn) from its middle, keeping its start and its
        end (the budget line), and say so in it. Returns the characters cut (0: none)."""
        room = self.model.n_ctx - self.reply_tokens - reserve
        if len(messages) < 4 or messages[-1]["role"] != "user":
            return 0
        text = messages[-1]["content"]
        tail = min(len(text) // 3, 500)
        cut = 0
        while self.tokens(messages) > room:
            over = self.tokens(messages) - room
            cut = min(len(text) - tail - 200, cut + max(200, over * 4))
            if cut <= 0:
                return 0
            head = len(text) - tail - cut
            notice = (
                f"\n[... {cut:,} characters of this output cut to fit the window; "
                "print less, or narrower results ...]\n"
            )
            messages[-1] = {
                "role": "user",
                "content": text[:head] + notice + text[len(text) - tail :],
            }
            if head <= 200:
                break
        return cut

    def _compact(
        self,
        messages: list[Message],
        first_user: str,
        turns: list[Turn],
        drop: int,
        turn_no: int,
        before: int,
    ) -> dict:
        first, last = self.first_turn, self.first_turn + drop - 1
        covered = [t for t in turns if first <= t.index <= last]
        summary, how = self._summarise(covered)
        # A model summary was written with the earlier one in view, so it replaces it; digests
        # pile up, so the running summary keeps its newest part (the whole history stays in
        # the REPL as `history`), saying so.
        full = summary if how == "model" or not self.summary else f"{self.summary}\n{summary}"
        cap = self.summary_max_tokens * 4
        if len(full) > cap:
            full = "[older part of this summary cut to fit; see `history`]\n" + full[-cap:]
        self.summary = full
        del messages[2 : 2 + 2 * drop]
        messages[1] = {
            "role": "user",
            "content": first_user.rstrip()
            + "\n\n"
            + fill(self.prompts["compacted"], first=1, last=last, summary=full),
        }
        self.first_turn = last + 1
        record = {
            "at_turn": turn_no,
            "turns": [first, last],
            "tokens_before": before,
            "tokens_after": self.tokens(messages),
            "n_ctx": self.model.n_ctx,
            "summary_by": how,
            "summary": summary,
        }
        self.records.append(record)
        return record

    def _summarise(self, turns: list[Turn]) -> tuple[str, str]:
        """(summary, "model" | "digest" | "digest (why the model's was not used)")."""
        if not self.by_model:
            return digest(turns), "digest"
        room_tokens = self.model.n_ctx - self.summary_max_tokens - 400
        per_turn = max(200, room_tokens * 3 // max(1, len(turns) + 1))
        body = "\n\n".join(turn_text(t, per_turn) for t in turns)
        previous = f"Earlier summary:\n{self.summary}\n" if self.summary else ""
        msgs: list[Message] = [
            {"role": "system", "content": self.prompts["compact_system"]},
            {
                "role": "user",
                "content": fill(
                    self.prompts["compact_user"],
                    question=self.question,
                    previous=previous,
                    turns=body,
                ),
            },
        ]
        try:
            if self.tokens(msgs) + self.summary_max_tokens > self.model.n_ctx:
                raise PromptTooLong("the turns to summarise do not fit the window")
            c = self.complete(msgs, GenerationParams(max_tokens=self.summary_max_tokens))
        except RlmError as e:
            return digest(turns), f"digest ({e})"
        text = c.text.strip()
        from rlm_cli.engine.parse import strip_thinking

        text = strip_thinking(text)[0]
        if not text or c.finish_reason == "length" and len(text) < 40:
            return digest(turns), "digest (the model's summary was empty or cut)"
        return text, "model"
