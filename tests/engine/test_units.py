"""Unit tests of the engine's parts: parsing, grammar, cache, sub-calls, thinking, events."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import pytest

from rlm_cli.engine.budget import Budget, Limits
from rlm_cli.engine.events import RunObserver
from rlm_cli.engine.grammar import final_grammar, turn_grammar
from rlm_cli.engine.loop import EngineConfig, RlmEngine
from rlm_cli.engine.parse import (
    final_is_literal,
    normalise_code,
    parse_reply,
    strip_thinking,
    touches_data,
)
from rlm_cli.engine.records import Usage
from rlm_cli.engine.subcalls import ExplosionGuard, SubcallRefused, SubcallService
from rlm_cli.errors import PromptTooLong
from rlm_cli.llm.base import Completion, GenerationParams, Model
from rlm_cli.llm.cache import SubcallCache, cache_key
from rlm_cli.store.contexts import ContextStore
from rlm_cli.store.inputs import expand_inputs

# -- parsing ----------------------------------------------------------------------------------


def test_parse_several_blocks_and_unclosed_last() -> None:
    p = parse_reply("a\n```repl\nx = 1\n```\nb\n```python\nprint(x)")
    assert p.code_blocks == ["x = 1", "print(x)"] and p.unclosed
    assert not parse_reply("```repl\nx = 1\n```").unclosed


def test_parse_final_forms() -> None:
    assert parse_reply('done\nFINAL("node 7")').final.literal() == "node 7"
    assert parse_reply("FINAL(node09 will fail)").final.literal() == "node09 will fail"
    assert parse_reply("FINAL(ans)").final.names_variable == "ans"
    assert parse_reply('FINAL_VAR("ans")').final.names_variable == "ans"
    f = parse_reply('FINAL("cut here').final
    assert not f.closed and f.literal() == "cut here"
    assert not parse_reply('FINAL("a" + b)').final.is_literal
    assert parse_reply('FINAL("a (b)")').final.is_literal
    # FINAL inside code is the worker's business, not an outside final
    assert parse_reply('```repl\nFINAL("x")\n```').final is None
    assert parse_reply("MY_FINAL(x)").final is None


def test_a_final_copied_inside_a_final_is_part_of_its_answer() -> None:
    """The 1.5B model copied a pushback ending 'reply with your answer again: FINAL(' into
    its answer; the inner FINAL was taken, an empty answer, refused six turns running."""
    p = parse_reply('So.\nFINAL("The BMC IP is 10.20.8.188. Reply again: FINAL(")')
    assert p.final.literal() == "The BMC IP is 10.20.8.188. Reply again: FINAL("
    assert p.reasoning == "So."
    # two FINALs one after the other: the last is the answer
    p = parse_reply('I could write FINAL("cn01") but first FINAL("cn02")')
    assert p.final.literal() == "cn02" and p.reasoning == 'I could write FINAL("cn01") but first'
    # a FINAL left open in prose holds no later FINAL
    assert (
        parse_reply('I\'ll call FINAL( once I have it.\nFINAL("cn034")').final.literal() == "cn034"
    )
    assert parse_reply('With Final(the host\'s IP). So:\nFINAL("10.1.2.3")').final.literal() == (
        "10.1.2.3"
    )


def test_thinking_is_split_off() -> None:
    assert strip_thinking("<think>plan</think>answer") == ("answer", "<think>plan</think>")
    vis, th = strip_thinking("opened by the template</think>\nFINAL('x')")
    assert vis == "FINAL('x')" and "template" in th
    p = parse_reply("<think>FINAL('wrong')</think>FINAL('right')")
    assert p.final.literal() == "right"


def test_repeat_and_data_detection() -> None:
    assert normalise_code("x = 1  \n\n# c\nprint(x)") == normalise_code("x = 1\nprint(x)")
    assert touches_data("print(context.count('x'))") and touches_data("llm_query('a')")
    assert not touches_data("answer = 'node02'\nFINAL(answer)")


# -- grammar ----------------------------------------------------------------------------------


def test_grammars_compile_in_llama_cpp(tiny_llama) -> None:
    from rlm_cli.llm.llama_sampling import GrammarGate

    llm = tiny_llama(n_ctx=256)._llm
    for g in (turn_grammar(), turn_grammar(10), final_grammar()):
        GrammarGate(llm._model.vocab, g, llm.n_vocab()).close()  # parsed by llama.cpp
    assert "rchar{0,10}" in turn_grammar(10)
    assert "```repl" not in final_grammar()


def test_grammar_shapes_tiny_model_replies(tiny_gguf: Path) -> None:
    pytest.importorskip("llama_cpp")
    from rlm_cli.llm.llama import LlamaModel, LlamaOptions

    m = LlamaModel(tiny_gguf, LlamaOptions(n_ctx=512, n_threads=1))
    try:
        msgs = [{"role": "user", "content": "go"}]
        for seed in range(4):
            c = m.complete(
                msgs, GenerationParams(max_tokens=80, seed=seed, grammar=turn_grammar(8))
            )
            p = parse_reply(c.text)
            assert len(p.code_blocks) + (p.final is not None) == 1, c.text
            assert len(c.text.split("\n", 1)[0]) <= 8 or c.text.startswith(("```", "FINAL"))
            c = m.complete(
                msgs, GenerationParams(max_tokens=30, seed=seed, grammar=final_grammar())
            )
            assert c.text.startswith('FINAL("')
            # a strong opening bias picks the longest token that begins FINAL( (never F or
            # FIN, which open other words; the tiny model then goes on as it likes)
            nudged = GenerationParams(
                max_tokens=40, seed=seed, grammar=turn_grammar(8), opening_bias=("FINAL(", 60.0)
            )
            c = m.complete(msgs, nudged)
            assert c.text.startswith("FINAL"), c.text
            first = m.complete(msgs, replace(nudged, opening_bias=None, max_tokens=1)).text
            assert not first.startswith("F")  # unbiased, this seed opens otherwise
        # thinking off goes to the chat template; ChatML does not read it, so it says so
        assert m.set_thinking(False) is False and m.template_kwargs == {"enable_thinking": False}
        assert m.complete(msgs, GenerationParams(max_tokens=4)).completion_tokens >= 0
        st = tiny_gguf.stat()
        assert m.identity().endswith(f"|{st.st_size}|{st.st_mtime_ns}")
    finally:
        m.close()


# -- cache ------------------------------------------------------------------------------------


def test_cache_key_depends_on_model_params_and_prompt(tmp_path: Path) -> None:
    msgs = [{"role": "user", "content": "q"}]
    k = cache_key("m1", GenerationParams(), msgs)
    assert k == cache_key("m1", GenerationParams(), msgs)
    assert k != cache_key("m2", GenerationParams(), msgs)
    assert k != cache_key("m1", GenerationParams(temperature=0.9), msgs)
    assert k != cache_key("m1", GenerationParams(opening_bias=("FINAL(", 3.0)), msgs)
    assert k != cache_key("m1", GenerationParams(), [{"role": "user", "content": "q2"}])
    cache = SubcallCache(tmp_path / "c.db")
    assert cache.get(k) is None
    cache.put(k, "m1", Completion("answer", prompt_tokens=5, completion_tokens=2))
    hit = cache.get(k)
    assert hit.cached and hit.text == "answer"
    usage = Usage()
    usage.add(hit, root=False)
    assert usage.sub_cache_hits == 1 and usage.total_tokens == 0
    cache.put("bad", "m1", Completion("x", finish_reason="error"))
    assert cache.get("bad") is None


# -- sub-calls --------------------------------------------------------------------------------


class Echo(Model):
    """Answers with the last message; counts calls; optional native batching."""

    def __init__(self, n_ctx: int = 4096, concurrency: int = 1) -> None:
        self.spec, self.n_ctx, self.concurrency = "echo", n_ctx, concurrency
        self.calls = 0
        self.threads: set[int] = set()
        self.lock = threading.Lock()

    def complete(self, messages, params, on_text=None):
        with self.lock:
            self.calls += 1
            self.threads.add(threading.get_ident())
        return Completion(
            "re: " + messages[-1]["content"][:20], prompt_tokens=10, completion_tokens=3
        )


class Batching(Echo):
    def __init__(self) -> None:
        super().__init__()
        self.batches: list[int] = []

    def complete_many(self, conversations, params):
        self.batches.append(len(conversations))
        return [Completion("b: " + c[-1]["content"][:8], prompt_tokens=10) for c in conversations]


def _service(model, tmp_path=None, max_subcalls=64, **kw) -> SubcallService:
    usage = Usage()
    budget = Budget(Limits(max_subcalls=max_subcalls), usage)
    cache = SubcallCache(tmp_path / "c.db") if tmp_path else None
    return SubcallService(
        model,
        GenerationParams(max_tokens=64),
        "sys",
        budget,
        usage,
        RunObserver(),
        cache=cache,
        **kw,
    )


def test_batch_uses_native_batching_and_cache(tmp_path: Path) -> None:
    m = Batching()
    s = _service(m, tmp_path)
    prompts = [f"piece {i} " + "x" * 500 for i in range(5)]
    assert s.batch(prompts) == [f"b: piece {i} " for i in range(5)]
    assert m.batches == [5] and m.calls == 0
    s2 = _service(m, tmp_path)
    s2.batch(prompts[:3] + ["new one " + "y" * 500])
    assert m.batches == [5, 1]  # only the miss went to the model
    assert s2.usage.sub_cache_hits == 3


def test_batch_runs_with_backend_concurrency() -> None:
    m = Echo(concurrency=3)
    s = _service(m)
    out = s.batch([f"p{i} " + "x" * 500 for i in range(9)])
    assert out[0].startswith("re: p0 ") and m.calls == 9
    assert 1 <= len(m.threads) <= 3


def test_explosion_guard_and_budget_refusals() -> None:
    s = _service(Echo(), guard=ExplosionGuard(tiny_chars=100, max_tiny=3))
    with pytest.raises(SubcallRefused, match="too many tiny sub-calls"):
        s.batch(["a", "b", "c", "d"])
    assert s.usage.sub_calls == 0
    s2 = _service(Echo(), max_subcalls=2)
    with pytest.raises(SubcallRefused, match="only 2 of 2 are left"):
        s2.batch(["x" * 500] * 3)
    assert s2.budget.exhausted() == "max_subcalls"


def test_window_check_refuses_without_cutting() -> None:
    s = _service(Echo(n_ctx=256))
    with pytest.raises(PromptTooLong, match="Split the text into pieces of about"):
        s.query("x" * 4000)


def test_budget_turn_line() -> None:
    usage = Usage()
    b = Budget(Limits(max_subcalls=40, max_tokens=1000), usage)
    b.take_subcalls(3)
    assert b.turn_line(4, 12) == "turn 4/12 · 37 sub-calls left · 1,000 tokens left"


# -- the engine through its Python API ------------------------------------------------------------


class Recorder(Model):
    """A root model that replays replies and records every conversation it was given."""

    def __init__(self, replies: list[str]) -> None:
        self.spec, self.n_ctx = "recorder", 16384
        self.replies = list(replies)
        self.seen: list[list[dict]] = []
        self.thinking: bool | None = None

    def complete(self, messages, params, on_text=None):
        self.seen.append([dict(m) for m in messages])
        return Completion(self.replies.pop(0), prompt_tokens=10, completion_tokens=5)

    def set_thinking(self, enabled: bool) -> bool:
        self.thinking = enabled
        return True


@pytest.fixture
def context(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("RLM_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RLM_CONFIG_DIR", str(tmp_path / "cfg"))
    log = tmp_path / "a.log"
    log.write_text("node01 ok\nnode02 ECC error\nnode02 ECC error\n")
    store = ContextStore()
    meta = store.ingest(expand_inputs([str(log)]))
    return store.open(meta["id"])


THINKING = [
    "<think>secret plan</think>Look.\n```repl\nprint(context.count('ECC'))\n```",
    'FINAL("node02")',
]


@pytest.mark.parametrize("mode", ["hide", "keep", "off"])
def test_thinking_modes(context, mode) -> None:
    root = Recorder(THINKING)
    sub = Echo()
    result = RlmEngine(root, sub, context, EngineConfig(thinking=mode)).run("which?", "r1")
    assert result.answer == "node02"
    second_call = root.seen[1]
    assistant = [m["content"] for m in second_call if m["role"] == "assistant"][0]
    assert ("secret plan" in assistant) == (mode == "keep")
    system = second_call[0]["content"]
    assert system.endswith("/no_think") == (mode == "off")
    assert root.thinking == (False if mode == "off" else None)


class ParamsRecorder(Recorder):
    """A Recorder that keeps the generation parameters of each call."""

    def __init__(self, replies: list[str]) -> None:
        super().__init__(replies)
        self.params: list[GenerationParams] = []

    def complete(self, messages, params, on_text=None):
        self.params.append(params)
        return super().complete(messages, params, on_text)


@pytest.mark.parametrize("bias", [3.0, 0.0])
def test_a_turn_after_code_ran_is_nudged_toward_answering(context, bias) -> None:
    root = ParamsRecorder(
        [
            "Hmm.",  # no code: the next turn has no output to answer from
            "Count.\n```repl\nprint(context.count('ECC'))\n```",
            'FINAL("node02")',
        ]
    )
    result = RlmEngine(root, Echo(), context, EngineConfig(answer_bias=bias)).run("q", "r1")
    assert result.answer == "node02"
    nudged = ("FINAL(", bias) if bias else None
    assert [p.opening_bias for p in root.params] == [None, None, nudged]


def test_no_nudge_where_a_reminder_sends_the_model_on_to_a_second_search(context) -> None:
    from rlm_cli.actions.lifecycle import prepare_brief
    from rlm_cli.config import Settings

    root = ParamsRecorder(
        [
            "Find it.\n```repl\nprint(context.grep('ECC', max=1))\n```",  # names node02
            "Its lines.\n```repl\nprint(context.grep('node02', max=2))\n```",
            'FINAL("node02")',
        ]
    )
    brief = prepare_brief(context, root, Settings(), lambda _m: None)  # builds the log map
    engine = RlmEngine(root, Echo(), context, EngineConfig(answer_bias=3.0), brief=brief)
    result = engine.run("One node logged ECC errors. What else did that node log?", "r1")
    assert result.answer == "node02" and engine.intent == "two-step"
    steps = [m[-1]["content"] for m in root.seen[1:]]
    assert "search\nnode02's own lines next" in steps[0]  # the step reminder: search on
    assert "These lines name node02" in steps[1]  # the read reminder: answer from them
    assert [p.opening_bias for p in root.params] == [None, None, ("FINAL(", 3.0)]


class Events(RunObserver):
    def __init__(self) -> None:
        self.depths: list[tuple[str, int]] = []

    def turn_started(self, turn, depth=0):
        self.depths.append(("turn", depth))

    def subcall_started(self, call_id, turn, kind, preview, depth=0):
        self.depths.append((kind, depth))


def test_child_events_reach_the_observer_one_level_deeper(context) -> None:
    root = Recorder(
        [
            "Go.\n```repl\na = rlm_query('count?', 'x ECC\\ny ECC')\nprint(a)\n```",
            "Child.\n```repl\nprint(context.count('ECC'))\n```",
            'FINAL("two")',
            "FINAL(a)",
        ]
    )
    ev = Events()
    cfg = EngineConfig(limits=Limits(max_depth=2))
    result = RlmEngine(root, Echo(), context, cfg, ev).run("q", "r1")
    assert result.answer == "two"
    assert ("turn", 0) in ev.depths and ("turn", 1) in ev.depths
    assert ("rlm_query", 0) in ev.depths
    assert result.usage.root_calls == 4


def test_placeholder_answers() -> None:
    from rlm_cli.engine.parse import is_placeholder

    for text in ("", "...", "…", " 'answer' ", "your answer", "(...)", "<answer>"):
        assert is_placeholder(text), text
    # a heading with nothing under it
    assert is_placeholder("Summary of errors in the log:")
    for text in ("node09", "0", "no node shows a problem", "answer: node09", "node09:"):
        assert not is_placeholder(text), text
    assert not is_placeholder("Errors, most frequent first:\n- disk I/O on db01 (10)")
    assert not is_placeholder("node09 had 12 ECC errors, at these times:")


def test_final_is_literal_tells_written_text_from_computed_values() -> None:
    from rlm_cli.engine.parse import final_is_literal

    assert final_is_literal('print(1)\nFINAL("node09")')
    assert final_is_literal("FINAL(f'node09 fails')")
    assert not final_is_literal("FINAL(worst)")
    assert not final_is_literal('FINAL(f"{worst} fails")')
    assert not final_is_literal('FINAL("node" + n)')
    assert not final_is_literal("print(1)")
    assert not final_is_literal("FINAL(")  # does not compile


def test_template_regex_makes_wildcards_and_keeps_the_rest_literal() -> None:
    import re

    from rlm_cli.store.context import compile_pattern, template_regex

    rx = re.compile(template_regex("Memory #<*> | Uncorrectable ECC | CPU<*>_DIMM (B<*>)"))
    assert rx.search("n9 | 5bb | Memory #0x88 |  Uncorrectable ECC | CPU2_DIMM (B2)")
    assert not rx.search("Memory #0x88 | Correctable ECC | CPU2_DIMM (B2)")
    assert compile_pattern("a<*>b").search(b"a then b")
    assert compile_pattern("ab|cd").search(b"cd")  # plain regexes are unchanged


def test_final_in_title_case_is_a_final() -> None:
    """Qwen2.5-Coder-1.5B wrote 'node09 has 7 critical errors. Final("node09").' as its reasoning."""
    p = parse_reply('node09 has 7 critical errors. Final("node09").\n```repl\nprint(1)\n```')
    assert p.final is not None and p.final.kind == "FINAL" and p.final.literal() == "node09"
    assert p.reasoning == "node09 has 7 critical errors."
    assert parse_reply("the final (and best) answer").final is None


def test_grounding_names_the_tokens_the_model_never_saw() -> None:
    from rlm_cli.engine.grounding import answer_tokens, ungrounded

    assert answer_tokens("cn034's BMC is 10.10.56.24 (3 leases, CPU1_DIMM_B2)") == [
        "10.10.56.24",
        "cn034",
        "CPU1_DIMM_B2",
        "3",
    ]
    seen = "36 2026-09-08T18:20:02 cn034 kernel: Kernel panic\n[output] 1,146 CPU1_DIMM_B2"
    assert ungrounded("The BMC IP of cn034 is 10.10.56.24", seen) == ["10.10.56.24"]
    assert ungrounded("CN034 has 1146 errors on CPU1_DIMM_B2", seen) == []
    assert ungrounded("node09 will fail", seen) == ["node09"]
    assert ungrounded("14 errors", "1146") == ["14"]  # a number inside another does not count
    assert ungrounded("no node shows a problem", seen) == []
    # at the end of a sentence too (the 1.5B model's "... is 192.168.1.100." slipped through)
    assert answer_tokens("The IP is 192.168.1.100. It killed 4.") == ["192.168.1.100", "4"]
    assert answer_tokens("at 10.1.2.3:22, 4.5 GB, 12:32, 4/5") == ["10.1.2.3"]


class SlowReader(Recorder):
    """Replays replies; reads each prompt in three reported batches and takes 50 ms a call."""

    def __init__(self, replies: list[str]) -> None:
        super().__init__(replies)
        self.on_prompt_progress = None

    def complete(self, messages, params, on_text=None):
        import time

        if self.on_prompt_progress is not None:
            for done in (0, 100, 200, 300):
                self.on_prompt_progress(done, 300)
        time.sleep(0.05)
        return super().complete(messages, params, on_text)


class Timeline(RunObserver):
    def __init__(self) -> None:
        self.events: list[tuple] = []

    def turn_started(self, turn, depth=0):
        self.events.append(("turn", turn))

    def final_started(self, turn, depth=0):
        self.events.append(("final", turn))

    def prompt_progress(self, turn, done, total, depth=0):
        self.events.append(("read", turn, done, total))


def test_prompt_progress_and_a_timed_forced_final(context) -> None:
    root = SlowReader(["Look.\n```repl\nprint(context.count('ECC'))\n```"])
    root.replies.append('FINAL("node02")')
    ev = Timeline()
    cfg = EngineConfig(limits=Limits(max_iterations=1))
    result = RlmEngine(root, Echo(), context, cfg, ev).run("q", "r1")
    assert result.ended_by == "max_iterations" and result.answer == "node02"
    assert ev.events == [
        ("turn", 1),
        *[("read", 1, d, 300) for d in (0, 100, 200, 300)],
        ("final", 2),
        *[("read", 2, d, 300) for d in (0, 100, 200, 300)],
    ]
    assert root.on_prompt_progress is None  # the hook lives only during the call
    forced = result.trajectory[-1]
    assert "forced final answer" in forced.notes
    assert forced.elapsed_s >= 0.05  # measured, not 0.0 (a lower bound: load only adds)


def test_code_nested_too_deep_for_the_parser_is_no_crash() -> None:
    """ast.parse raises RecursionError (not SyntaxError) on deep nesting; model code that
    did so once ended the run with a traceback."""
    deep = "x = " + "-" * 5000 + "1\nprint(context.count('x'))"
    assert touches_data(deep)  # read as text: it names context
    assert not final_is_literal("FINAL(" + "-" * 5000 + "1)")
    assert parse_reply(f"FINAL({'-' * 5000}1)").final.is_literal


def test_a_root_reply_takes_at_most_an_eighth_of_the_window() -> None:
    """At n_ctx 4096 the default 1,024-token reply reserve left room for one turn of the
    1.5B model after its 2,800-token first prompt; the run then ended by `window`."""
    from rlm_cli.engine.loop import EngineConfig, _reply_fits_window

    config = EngineConfig()
    assert config.root_params.max_tokens == 1024
    assert _reply_fits_window(config, 4096).root_params.max_tokens == 512
    assert _reply_fits_window(config, 8192) is config  # the default window: unchanged
    small = replace(config, root_params=replace(config.root_params, max_tokens=300))
    assert _reply_fits_window(small, 4096).root_params.max_tokens == 300


def test_collapse_repeats_keeps_a_looped_passage_once_and_leaves_lists_alone() -> None:
    from rlm_cli.engine.parse import collapse_repeats

    unit = "node09 lost a fan and its memory reports ECC errors."
    assert collapse_repeats(f"{unit} {unit}\n{unit} node09") == (unit, 2)
    assert collapse_repeats(f"Answer: {unit} {unit}") == (f"Answer: {unit}", 1)
    listing = "node01: fan failure at 10:00; node02: fan failure at 10:05; node03: ok"
    assert collapse_repeats(f"{unit}\n{unit}") == (unit, 1)
    assert collapse_repeats(listing) == (listing, 0)
    assert collapse_repeats("ok ok ok ok ok ok ok ok ok ok ok ok ok ok") == (
        "ok ok ok ok ok ok ok ok ok ok ok ok ok ok",
        0,
    )
