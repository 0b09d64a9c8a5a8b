"""The persistent prompt cache: KV state of the system prompt saved by one run, loaded by the next.

Model tests use the tiny random-weight GGUF through llama.cpp; the file-level tests
(races, pruning, damaged entries) use the cache directly with real files.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import time
from pathlib import Path

import pytest

from rlm_cli.llm.base import GenerationParams
from rlm_cli.llm.prompt_cache import PromptCache

GREEDY = GenerationParams(max_tokens=12, temperature=0.0)
SYSTEM = {"role": "system", "content": "You inspect logs with Python, carefully. " * 25}


def _conv(question: str = "which node fails first") -> list[dict]:
    return [SYSTEM, {"role": "user", "content": question}]


def _model(path: Path, cache_dir: Path, **kw):
    pytest.importorskip("llama_cpp")
    from rlm_cli.llm.llama import LlamaModel, LlamaOptions

    opts = dict(n_ctx=2048, n_threads=1, prompt_cache=True, prompt_cache_dir=cache_dir)
    opts.update(kw)
    return LlamaModel(path, LlamaOptions(**opts))


@pytest.fixture(scope="module")
def plain_answer(tiny_gguf: Path) -> str:
    """The greedy answer with no prompt cache at all."""
    pytest.importorskip("llama_cpp")
    from rlm_cli.llm.llama import LlamaModel, LlamaOptions

    m = LlamaModel(tiny_gguf, LlamaOptions(n_ctx=2048, n_threads=1))
    try:
        return m.complete(_conv(), GREEDY).text
    finally:
        m.close()


def _run(path: Path, cache_dir: Path, conv=None, **kw):
    m = _model(path, cache_dir, **kw)
    try:
        c = m.complete(conv or _conv(), GREEDY)
        return c, m.drain_notes()
    finally:
        m.close()


# -- through llama.cpp --------------------------------------------------------------------


def test_miss_then_hit_in_a_new_process_state(
    tiny_gguf: Path, tmp_path: Path, plain_answer: str
) -> None:
    first, notes = _run(tiny_gguf, tmp_path)
    assert notes == []
    assert first.prompt_tokens_cached == 0
    assert first.prompt_tokens_evaluated == first.prompt_tokens  # everything evaluated
    assert len(PromptCache(tmp_path).entries()) == 1

    second, notes = _run(tiny_gguf, tmp_path)  # a fresh llama.cpp context, as in a new run
    assert notes == []
    assert second.prompt_tokens_cached > 100  # the system message came from disk
    assert second.prompt_tokens_evaluated == second.prompt_tokens - second.prompt_tokens_cached
    assert second.prompt_tokens_reused == second.prompt_tokens_cached
    # the loaded state is the evaluated one: greedy answers are identical
    assert first.text == second.text == plain_answer


def test_later_turns_of_one_conversation_do_not_touch_the_cache(
    tiny_gguf: Path, tmp_path: Path
) -> None:
    m = _model(tiny_gguf, tmp_path)
    try:
        a = m.complete(_conv(), GREEDY)
        entry = PromptCache(tmp_path).entries()[0]
        before = entry.stat().st_mtime_ns
        conv = _conv() + [
            {"role": "assistant", "content": a.text},
            {"role": "user", "content": "and then?"},
        ]
        b = m.complete(conv, GREEDY)
    finally:
        m.close()
    assert b.prompt_tokens_cached == 0  # the KV cache of this instance already holds it
    assert b.prompt_tokens_evaluated < 40
    assert entry.stat().st_mtime_ns == before


LOG_HEAD = "## The log\n" + "node07 kernel: EDAC MC0: 1 CE error on DIMM_B2\n" * 12 + "Question: "


def test_a_second_question_about_the_same_log_loads_the_log_head_too(
    tiny_gguf: Path, tmp_path: Path
) -> None:
    """The first user message's description and brief are the same for every question about
    a log (``cache_prefix_chars``): the prompt is cached up to there as a second entry."""
    from dataclasses import replace

    params = replace(GREEDY, cache_prefix_chars=len(LOG_HEAD))

    def ask(question: str, cache: Path, p=params):
        m = _model(tiny_gguf, cache)
        try:
            return m.complete([SYSTEM, {"role": "user", "content": LOG_HEAD + question}], p)
        finally:
            m.close()

    first = ask("which node fails?", tmp_path)
    assert first.prompt_tokens_cached == 0
    assert len(PromptCache(tmp_path).entries()) == 2  # the system head and the log head
    second = ask("how many CE errors?", tmp_path)
    ask("which node fails?", tmp_path / "sys", GREEDY)  # without the log head: system only
    plain = ask("how many CE errors?", tmp_path / "sys", GREEDY)
    assert second.prompt_tokens_cached > plain.prompt_tokens_cached > 100
    assert second.prompt_tokens_evaluated < 20  # only the question and the template's tail
    assert plain.prompt_tokens_evaluated > second.prompt_tokens_evaluated + 100
    # another log with the same system prompt: the system head is loaded, the log head is new
    other = _model(tiny_gguf, tmp_path)
    try:
        c = other.complete(
            [SYSTEM, {"role": "user", "content": LOG_HEAD.replace("node07", "node03") + "q?"}],
            params,
        )
    finally:
        other.close()
    assert 100 < c.prompt_tokens_cached < second.prompt_tokens_cached
    assert len(PromptCache(tmp_path).entries()) == 3
    # the loaded state is the evaluated one: greedy answers are identical
    assert second.text == ask("how many CE errors?", tmp_path / "cold", params).text


def test_damaged_entry_is_ignored_with_a_note_and_replaced(
    tiny_gguf: Path, tmp_path: Path, plain_answer: str
) -> None:
    _run(tiny_gguf, tmp_path)
    (entry,) = PromptCache(tmp_path).entries()
    data = bytearray(entry.read_bytes())
    data[-100] ^= 0xFF  # one flipped byte in the KV state
    entry.write_bytes(bytes(data))

    c, notes = _run(tiny_gguf, tmp_path)
    assert c.prompt_tokens_cached == 0
    assert len(notes) == 1 and "checksum" in notes[0] and entry.name in notes[0]
    assert c.text == plain_answer
    again, notes = _run(tiny_gguf, tmp_path)  # rewritten whole by the run that noticed
    assert notes == [] and again.prompt_tokens_cached > 0


def test_truncated_entry_is_ignored_with_a_note(tiny_gguf: Path, tmp_path: Path) -> None:
    _run(tiny_gguf, tmp_path)
    (entry,) = PromptCache(tmp_path).entries()
    entry.write_bytes(entry.read_bytes()[:5000])
    c, notes = _run(tiny_gguf, tmp_path)
    assert c.prompt_tokens_cached == 0
    assert notes and "truncated" in notes[0]


def test_key_changes_with_n_ctx_model_and_tokens(tiny_gguf: Path, tmp_path: Path) -> None:
    _run(tiny_gguf, tmp_path)
    cache = PromptCache(tmp_path)
    assert len(cache.entries()) == 1

    c, _ = _run(tiny_gguf, tmp_path, n_ctx=1024)  # another window: another layout
    assert c.prompt_tokens_cached == 0
    assert len(cache.entries()) == 2

    other = tmp_path / "copy.gguf"  # the same bytes under another name and mtime
    shutil.copyfile(tiny_gguf, other)
    c, _ = _run(other, tmp_path)
    assert c.prompt_tokens_cached == 0
    assert len(cache.entries()) == 3

    changed = [dict(SYSTEM, content=SYSTEM["content"] + " Be brief."), _conv()[1]]
    c, _ = _run(tiny_gguf, tmp_path, conv=changed)
    assert c.prompt_tokens_cached == 0
    assert len(cache.entries()) == 4

    # and each of them hits on its own key
    assert _run(tiny_gguf, tmp_path, n_ctx=1024)[0].prompt_tokens_cached > 0
    assert _run(other, tmp_path)[0].prompt_tokens_cached > 0
    assert _run(tiny_gguf, tmp_path, conv=changed)[0].prompt_tokens_cached > 0
    assert len(cache.entries()) == 4


def test_short_system_messages_and_no_system_message_are_not_cached(
    tiny_gguf: Path, tmp_path: Path
) -> None:
    short = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}]
    c, _ = _run(tiny_gguf, tmp_path, conv=short)
    assert c.prompt_tokens_cached == 0
    c, _ = _run(tiny_gguf, tmp_path, conv=[{"role": "user", "content": "hi " * 200}])
    assert c.prompt_tokens_cached == 0
    assert PromptCache(tmp_path).entries() == []


def test_off_by_default_for_the_library(tiny_gguf: Path, tmp_path: Path, monkeypatch) -> None:
    pytest.importorskip("llama_cpp")
    from rlm_cli.llm.llama import LlamaModel, LlamaOptions

    monkeypatch.setenv("RLM_HOME", str(tmp_path))
    m = LlamaModel(tiny_gguf, LlamaOptions(n_ctx=2048, n_threads=1))
    try:
        m.complete(_conv(), GREEDY)
    finally:
        m.close()
    assert not (tmp_path / "prompt_cache").exists()


# -- the cache files ----------------------------------------------------------------------

LAYOUT = {"n_ctx": 4096}
TOKENS = list(range(1000, 1300))


def _writer(root: str, seed: int, rounds: int) -> None:
    cache = PromptCache(Path(root))
    state = bytes([seed]) * (4 << 20)
    for _ in range(rounds):
        cache.save("m", LAYOUT, TOKENS, state)


def test_racing_writers_leave_one_whole_entry(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), s, 15)) for s in (1, 2)]
    for p in procs:
        p.start()
    cache = PromptCache(tmp_path)
    reads = 0
    while any(p.is_alive() for p in procs):
        found = cache.load("m", LAYOUT, TOKENS)
        assert found.note is None  # a reader never sees a half-written file
        if found.state is not None:
            assert bytes(found.state) in (b"\x01" * (4 << 20), b"\x02" * (4 << 20))
            reads += 1
    for p in procs:
        p.join()
        assert p.exitcode == 0
    assert [p.name for p in tmp_path.iterdir()] == [cache.path(cache.key("m", LAYOUT, TOKENS)).name]
    assert cache.load("m", LAYOUT, TOKENS).state is not None


def test_pruned_least_recently_used_by_count(tmp_path: Path) -> None:
    cache = PromptCache(tmp_path, max_files=3)
    paths = []
    for i in range(3):
        paths.append(cache.save("m", LAYOUT, [i] * 10, b"x" * 100))
        past = time.time() - 100 + i  # distinct mtimes, oldest first
        os.utime(paths[-1], (past, past))
    # a hit makes the oldest one the most recently used
    assert cache.load("m", LAYOUT, [0] * 10).state == b"x" * 100
    cache.save("m", LAYOUT, [9] * 10, b"y" * 100)
    left = {p.name for p in cache.entries()}
    newest = cache.path(cache.key("m", LAYOUT, [9] * 10)).name
    assert left == {paths[0].name, paths[2].name, newest}  # [1] was the least recently used


def test_pruned_by_size_keeps_the_new_entry(tmp_path: Path) -> None:
    cache = PromptCache(tmp_path, max_bytes=3 * 1024 * 1024)
    for i in range(4):
        cache.save("m", LAYOUT, [i], b"z" * (1 << 20))
        past = time.time() - 100 + i
        os.utime(cache.path(cache.key("m", LAYOUT, [i])), (past, past))
    total = sum(p.stat().st_size for p in cache.entries())
    assert total <= 3 * 1024 * 1024
    assert cache.load("m", LAYOUT, [3]).state is not None
    assert cache.load("m", LAYOUT, [0]).state is None
    # an entry larger than the whole bound is not written at all
    assert cache.save("m", LAYOUT, [7], b"z" * (4 << 20)) is None


def test_stale_temporary_files_are_swept(tmp_path: Path) -> None:
    cache = PromptCache(tmp_path)
    old = tmp_path / ".tmp-crashed.kv"
    old.write_bytes(b"partial")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    fresh = tmp_path / ".tmp-writing.kv"
    fresh.write_bytes(b"partial")
    cache.save("m", LAYOUT, TOKENS, b"s")
    assert not old.exists() and fresh.exists()


def test_entry_under_another_key_is_refused(tmp_path: Path) -> None:
    cache = PromptCache(tmp_path)
    written = cache.save("m", LAYOUT, TOKENS, b"state")
    other = [1, 2, 3]
    written.rename(cache.path(cache.key("m", LAYOUT, other)))
    found = cache.load("m", LAYOUT, other)
    assert found.state is None
    assert found.note and "ignored" in found.note
    assert not cache.path(cache.key("m", LAYOUT, other)).exists()  # removed


def test_unwritable_folder_is_not_an_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    cache = PromptCache(blocker / "cache")
    assert cache.save("m", LAYOUT, TOKENS, b"s") is None
    assert cache.load("m", LAYOUT, TOKENS).state is None


def test_batched_sub_calls_load_the_shared_head(tiny_gguf: Path, tmp_path: Path) -> None:
    """complete_many loads the system message's state into every sequence of the batch."""
    questions = ["which node fails", "count the errors " * 3, "what broke on node7 " * 2]
    convs = [_conv(q) for q in questions]
    solo = _model(tiny_gguf, tmp_path / "solo", batch_seqs=1)
    try:
        expected = [solo.complete(c, GREEDY).text for c in convs]
    finally:
        solo.close()

    first = _model(tiny_gguf, tmp_path / "shared")
    try:
        done = first.complete_many(convs, GREEDY)
    finally:
        first.close()
    assert [c.text for c in done] == expected  # same answers as without any loading
    assert all(c.meta.get("batched") == 3 for c in done)
    head = done[1].prompt_tokens_reused
    assert head > 100 and done[2].prompt_tokens_reused == head
    assert done[0].prompt_tokens_reused == 0  # the head was evaluated once, counted here
    assert all(c.prompt_tokens_cached == 0 for c in done)

    again = _model(tiny_gguf, tmp_path / "shared")  # a later run: the head comes from disk
    try:
        done = again.complete_many(convs, GREEDY)
    finally:
        again.close()
    assert [c.text for c in done] == expected
    assert all(c.prompt_tokens_cached == head == c.prompt_tokens_reused for c in done)
