"""The live view's model and drawing, fed events directly (no terminal needed)."""

from __future__ import annotations

import io
import re

from rich.console import Console
from rich.spinner import Spinner
from rich.text import Text

from rlm_cli.render.live import LiveView
from rlm_cli.render.tree import Ticking


def console(width: int = 80, height: int = 24, clock=None) -> Console:
    return Console(
        file=io.StringIO(),
        width=width,
        height=height,
        force_terminal=True,
        color_system=None,
        get_time=clock,
    )


def frame(view: LiveView, c: Console) -> list[str]:
    with c.capture() as cap:
        c.print(view.render())
    return cap.get().rstrip("\n").split("\n")


def start(view: LiveView) -> None:
    view.run_started(
        {
            "run_id": "r1",
            "question": "which node",
            "lines": 400,
            "limits": {"max_iterations": 40, "max_subcalls": 5000},
        }
    )


def test_hundreds_of_subcalls_stay_inside_the_terminal():
    c = console(80, 24)
    view = LiveView(c)
    start(view)
    for turn in range(1, 31):
        view.turn_started(turn)
        view.root_reply(turn, f"look at part {turn}", ["x = 1\n" * 30], {"prompt_tokens": 10})
        for k in range(20):
            view.subcall_started(k, turn, "batch", f"part {k}")
            view.subcall_finished(k, True, {"prompt_tokens": 5, "cached": k % 5 == 0}, "fine")
        view.step_finished(turn, 0, {"stdout": "\n".join(f"row {i}" for i in range(50))})
    view.turn_started(31)
    view.root_reply(31, "the big fan", ["llm_query_batched(prompts)"], {})
    for k in range(500):
        view.subcall_started(k, 31, "batch", f"chunk {k}")
        if k < 490:
            view.subcall_finished(k, k != 7, {"prompt_tokens": 3}, "ok" if k != 7 else "too long")
    lines = frame(view, c)
    assert len(lines) <= 24
    assert all(len(ln) <= 80 for ln in lines)
    text = "\n".join(lines)
    assert lines[0].startswith("rlm “which node”  400 lines")
    assert "earlier turns" in text
    assert "✓ 489 batch done · 1 failed" in text  # the finished fan folds into one line
    assert "✗ batch chunk 7 → too long" in text  # failures stay visible
    assert "… 6 more running" in text  # ten running: four listed with spinners
    # 1090 done, 10 running, 3900 left of the budget (running ones are reserved)
    assert lines[-1].startswith("─ turn 31/40 · sub-calls 1090+10 (3900 left) · 4,170 tok")
    assert "120 cached" in lines[-1]


def test_each_running_item_keeps_its_spinner_until_done():
    view = LiveView(console())
    start(view)
    view.turn_started(1)
    view.root_reply(1, "fan out", ["x"], {})
    view.subcall_started(1, 1, "llm_query", "a")
    view.render()
    sub = view.turns[0].subs[0]
    first = view._spinners[id(sub)]
    view.render()
    assert view._spinners[id(sub)] is first  # the same object, so its frames advance
    view.subcall_finished(1, True, {}, "done")
    view.render()
    assert id(sub) not in view._spinners


def test_ticking_label_frames_advance_with_time():
    now = [0.0]
    c = console(clock=lambda: now[0])
    tick = Ticking(Spinner("dots"), Text("batch x"))
    seen = set()
    for t in (0.0, 0.1, 0.2, 0.3):
        now[0] = t
        with c.capture() as cap:
            c.print(tick)
        seen.add(cap.get()[0])
    assert len(seen) == 4


def test_child_rlm_nests_under_the_subcall_that_started_it():
    view = LiveView(console(100, 40))
    start(view)
    view.turn_started(1)
    view.root_reply(1, "recurse", ["rlm_query(p, t)"], {})
    view.subcall_started(1, 1, "rlm_query", "why node01")
    view.run_started({"run_id": "child", "question": "child question"})  # ignored: root wins
    view.turn_started(1, depth=1)
    view.root_reply(1, "child looks", ["print(1)"], {"prompt_tokens": 7}, depth=1)
    view.subcall_started(1, 1, "llm_query", "inner ask", depth=1)  # same id, other depth
    lines = "\n".join(frame(view, console(100, 40)))
    assert "inner ask" in lines and "why node01" in lines
    parent = view.turns[0].subs[0]
    child_turn = parent.children[0]
    assert child_turn.depth == 1 and child_turn.subs[0].prompt == "inner ask"
    view.subcall_finished(1, True, {}, "inner answer", depth=1)
    assert child_turn.subs[0].done and not parent.done
    view.subcall_finished(1, True, {}, "DIMM_B2", depth=0)
    assert parent.done and parent.answer == "DIMM_B2"
    assert view.info["question"] == "which node"


def test_child_without_a_subcall_event_gets_a_stand_in_parent():
    view = LiveView(console())
    start(view)
    view.turn_started(1)
    view.root_reply(1, "recurse", ["rlm_query(p, t)"], {})
    view.turn_started(1, depth=1)
    stand_in = view.turns[0].subs[0]
    assert stand_in.kind == "rlm_query" and not stand_in.done
    view.step_finished(1, 0, {"stdout": "x"}, depth=0)
    assert stand_in.done and stand_in.children[0].done


def test_interrupted_view_marks_the_turn_stopped():
    c = console()
    view = LiveView(c, refresh_per_second=1)
    view.__enter__()
    start(view)
    view.turn_started(1)
    view.root_reply(1, "working on it", ["x"], {})
    view.__exit__(KeyboardInterrupt, KeyboardInterrupt(), None)
    text = "\n".join(frame(view, c))
    assert re.search(r"turn 1 · stopped · [0-9.]+s  working on it", text)
    assert "interrupted" in text.splitlines()[-1]


def test_fit_height_keeps_the_title_and_the_newest_lines():
    from rlm_cli.render.live import FitHeight

    c = console(80, 12)
    body = Text("\n".join(f"line {i}" for i in range(1, 101)))
    with c.capture() as cap:
        c.print(FitHeight(body, reserve=2))
    lines = cap.get().rstrip("\n").split("\n")
    assert len(lines) == 10
    assert lines[0] == "line 1"
    assert lines[1].strip() == "⋮ 91 lines above"
    assert lines[-1] == "line 100" and lines[2] == "line 93"


def test_a_tall_turn_in_a_short_terminal_is_cropped_not_scrolled():
    c = console(60, 14)
    view = LiveView(c)
    start(view)
    view.turn_started(1)
    blocks = ["\n".join(f"step_{b}_{i} = {i}" for i in range(30)) for b in range(4)]
    view.root_reply(1, "many blocks", blocks, {})
    for b in range(4):
        view.step_finished(1, b, {"stdout": "\n".join(f"out {i}" for i in range(20))})
    lines = frame(view, c)
    assert len(lines) <= 14
    assert lines[0].startswith("rlm “which node”") and "lines above" in lines[1]


def test_thinking_turn_shows_what_the_model_is_writing():
    c = console(80, 24)
    view = LiveView(c)
    start(view)
    view.info["root"] = "/models/qwen3-4b.gguf"
    view.turn_started(1)
    assert re.search(r"turn 1 · [0-9.]+s · waiting for the model…", frame(view, c)[1])
    view.prompt_progress(1, 0, 2351)
    view.prompt_progress(1, 1024, 2351)  # the prompt is read in batches, seconds each
    assert re.search(r"turn 1 · [0-9.]+s · reading prompt \(2,351 tokens\) 43%", frame(view, c)[1])
    for piece in ["Let me look", " at the ECC errors.\n", "First I will grep"]:
        view.root_text(1, piece)
    view.turns[0].first_piece_at -= 2.0  # the first piece came two seconds ago
    lines = frame(view, c)
    assert lines[0].endswith("400 lines · qwen3-4b")
    assert re.search(r"turn 1 · [0-9.]+s · writing · 1\.0 tok/s · 48 chars", lines[1])
    assert lines[2].strip().endswith("✎ First I will grep")


def test_finished_tree_keeps_cut_turns_marked_and_summaries_say_something():
    c = console(100, 40)
    view = LiveView(c)
    start(view)
    view.turn_started(1)
    view.root_text(1, "```repl\nfor line in context.lines(1, 9")
    view.note(
        "turn 1: the reply hit the 64-token limit and was cut inside its code block, so that block was not run"
    )
    view.root_reply(1, "```repl", [], {"prompt_tokens": 900, "completion_tokens": 64})
    view.turn_started(2)
    view.root_reply(2, "", ["n = context.count('ECC')\nprint(n)"], {})
    view.step_finished(2, 0, {"stdout": "41"})
    view.final_started(3)
    view.root_reply(3, 'FINAL("41 ECC errors")', [], {})
    with view:
        pass
    lines = [ln for ln in frame(view, c) if ln.strip()]
    one = next(ln for ln in lines if "turn 1" in ln)
    assert "cut" in one and "not run" in one and "```" not in one  # folded, still marked
    assert "for line in context.lines(1, 9" in one  # the reply's first real line
    assert "n = context.count('ECC')" in next(ln for ln in lines if "turn 2" in ln)
    assert any("final answer" in ln for ln in lines)


def test_a_child_finishing_under_the_root_id_closes_only_its_own_turns():
    view = LiveView(console())
    start(view)
    view.turn_started(1)
    view.root_reply(1, "recurse", ["rlm_query(p, t)"], {})
    view.subcall_started(1, 1, "rlm_query", "why")
    view.turn_started(1, depth=1)

    class Result:
        run_id = "r1"  # the same id as the root run

    view.run_finished(Result())
    assert view.turns[0].subs[0].children[0].done
    assert not view.turns[0].done  # the root turn is still waiting on its rlm_query
    view.subcall_finished(1, True, {}, "answer")
    view.run_finished(Result())
    assert view.turns[0].done


def test_stored_children_hang_under_their_rlm_query_subcalls():
    from rlm_cli.render.tree import turns_from_record

    def sub(i, kind, prompt, error=None):
        return {
            "id": i,
            "kind": kind,
            "prompt": prompt,
            "answer": None if error else "a",
            "error": error,
        }

    def child(prompt, reasoning):
        return {"prompt": prompt, "trajectory": [{"turn": 1, "reasoning": reasoning}]}

    record = {
        "trajectory": [
            {"turn": 1, "subcalls": [sub(1, "llm_query", "plain"), sub(2, "rlm_query", "first")]},
            {
                "turn": 2,
                "subcalls": [
                    sub(1, "rlm_query", "broken", "failed"),
                    sub(2, "rlm_query", "second"),
                ],
            },
        ],
        "children": [child("first", "child one"), child("second", "child two")],
    }
    turns = turns_from_record(record)
    assert turns[0].subs[0].children == []
    assert [t.reasoning for t in turns[0].subs[1].children] == ["child one"]
    assert turns[1].subs[0].children == []  # a failed child left no record
    assert [t.reasoning for t in turns[1].subs[1].children] == ["child two"]
    assert turns[1].subs[1].children[0].depth == 1


def test_last_frame_lists_every_turn():
    c = console(80, 12)
    view = LiveView(c)
    start(view)
    for turn in range(1, 21):
        view.turn_started(turn)
        view.root_reply(turn, f"step {turn}", ["x = 1"], {})
    assert "earlier turns" in "\n".join(frame(view, c))  # while running: folded, cropped
    view.run_finished(None)
    view.finished = True
    lines = frame(view, c)
    assert sum(1 for ln in lines if " turn " in ln and "step" in ln) == 20
    assert "earlier turns" not in "\n".join(lines)


def test_runs_show_marks_cut_turns_and_times_the_final_answer():
    from rlm_cli.render.run import render_run

    record = {
        "run_id": "r1",
        "question": "which node",
        "ended_by": "max_iterations",
        "trajectory": [
            {
                "turn": 1,
                "reply": "```repl\nfor x in context.lines(1, 9",
                "reasoning": "```repl",
                "code": [],
                "notes": ["turn 1: repeated code from turn 0 not run"],
                "elapsed_s": 41.0,
            },
            {
                "turn": 2,
                "reply": 'FINAL("node02")',
                "notes": ["forced final answer"],
                "elapsed_s": 12.5,
            },
        ],
    }
    c = console(100, 40)
    with c.capture() as cap:
        c.print(render_run(record, rich=False))
    text = cap.get()
    one = next(ln for ln in text.splitlines() if "turn 1" in ln)
    assert "repeated" in one and "not run" in one and "for x in context.lines(1, 9" in one
    final = next(ln for ln in text.splitlines() if "final answer ·" in ln)
    assert "12.5s" in final
