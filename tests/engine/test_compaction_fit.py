"""The compactor on its own: what gives way, in which order, when a small window is full."""

from __future__ import annotations

import pytest

from rlm_cli.engine.compaction import Compactor
from rlm_cli.engine.prompts import load_prompts
from rlm_cli.engine.records import Turn
from rlm_cli.errors import PromptTooLong


class _Model:
    """Four characters a token, a 1,600-token window."""

    n_ctx = 1600

    def count_tokens(self, text: str) -> int:
        return len(text) // 4


def _no_model_call(*_args, **_kwargs):
    raise AssertionError("a digest needs no model call")


def _compactor() -> Compactor:
    return Compactor(
        model=_Model(),  # type: ignore[arg-type]
        prompts=load_prompts("root"),
        question="which host?",
        compact_at=0.85,
        reply_tokens=200,
        summary_max_tokens=300,
        complete=_no_model_call,
    )


def _turn(i: int) -> Turn:
    t = Turn(index=i)
    t.code = [f"print(context.grep('step{i}'))"]
    t.outputs = [{"stdout": "\n".join(f"{i}{k}: cn{k:03d} kernel: event {i}" for k in range(40))}]
    return t


def _conversation(first_user: str, turns: list[Turn], last_output: str) -> list[dict]:
    msgs = [{"role": "system", "content": "s" * 1600}, {"role": "user", "content": first_user}]
    for t in turns:
        msgs += [
            {"role": "assistant", "content": t.code[0]},
            {"role": "user", "content": "o" * 600},
        ]
    msgs[-1] = {"role": "user", "content": last_output}
    return msgs


def test_the_summary_gives_way_before_the_newest_output() -> None:
    """A long first prompt in a small window (the 1.5B model's 2,500 tokens in 4,096): after
    compaction the digest alone overflowed, and the run died with the answer on screen."""
    c = _compactor()
    turns = [_turn(i) for i in range(1, 5)]
    first_user = "u" * 2800
    last = "8: ... DHCPACK on 10.20.8.188 to 3c:ec (cn034-bmc) via eno2\n" * 4
    msgs = _conversation(first_user, turns, last)
    record = c.fit(msgs, first_user, turns, 5)
    assert record is not None and record["summary_by"] == "digest"
    assert c.tokens(msgs) <= _Model.n_ctx - 200
    assert msgs[-1]["content"] == last and c.last_cut == 0  # the newest output is whole
    assert "see `history`" in msgs[1]["content"]  # what gave way says where it is


def test_nothing_left_to_give_way_is_an_error() -> None:
    c = _compactor()
    first_user = "u" * 6000  # the first prompt alone is over the window
    with pytest.raises(PromptTooLong):
        c.fit(_conversation(first_user, [_turn(1), _turn(2)], "x"), first_user, [_turn(1)], 3)
