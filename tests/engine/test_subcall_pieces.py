"""The size of a sub-call's piece of log: measured on the log by the sub-model's tokenizer,
cut by `context.chunks()`, and never refused by the fit check."""

from __future__ import annotations

from pathlib import Path

import pytest

from rlm_cli.engine.budget import Budget
from rlm_cli.engine.events import RunObserver
from rlm_cli.engine.loop import EngineConfig, RlmEngine
from rlm_cli.engine.prompts import load_prompts
from rlm_cli.engine.records import Usage
from rlm_cli.engine.subcalls import SubcallService, measure_chars_per_token
from rlm_cli.errors import PromptTooLong, RlmError
from rlm_cli.store.context import LOG_CHARS_PER_TOKEN
from rlm_cli.store.contexts import ContextStore
from rlm_cli.store.inputs import expand_inputs

REPO = Path(__file__).resolve().parents[2]
QUESTION = "Which host has the most severe problem in these lines?\n"


def _context(tmp_path: Path, path: Path):
    store = ContextStore(tmp_path / "store")
    meta = store.ingest(expand_inputs([str(path)]), warn=lambda m: None)
    return store.open(meta["id"])


class _DigitsAreDense:
    """A tokenizer for which a digit is a token and anything else four characters one."""

    def count_tokens(self, text: str) -> int:
        digits = sum(ch.isdigit() for ch in text)
        return digits + (len(text) - digits) // 4

    def counts_tokens_exactly(self) -> bool:
        return True


class _Estimate(_DigitsAreDense):
    """A model with no tokenizer to ask (a server without /tokenize): 4 characters a token."""

    n_ctx = 4096

    def count_tokens(self, text: str) -> int:
        return len(text) // 4

    def counts_tokens_exactly(self) -> bool:
        return False


def test_a_logs_density_is_its_densest_slice(tmp_path: Path) -> None:
    log = tmp_path / "mixed.log"
    words = ["service heartbeat ok on the usual schedule"] * 2000
    numbers = [f"{i:012d} {i * 7:012d} {i * 13:012d}" for i in range(400)]
    log.write_text("\n".join(words + numbers) + "\n")
    ctx = _context(tmp_path, log)
    cpt = measure_chars_per_token(ctx, _DigitsAreDense())
    # the numbers at the end are about 1.08 characters a token, the words 4
    assert 1.0 < cpt < 1.2
    # an estimate measures nothing: the usual density of logs, not its own 4
    assert measure_chars_per_token(ctx, _Estimate()) == LOG_CHARS_PER_TOKEN


def _service(model, config: EngineConfig) -> SubcallService:
    usage = Usage()
    return SubcallService(
        model,
        config.sub_params,
        load_prompts("subcall")["system"],
        Budget(config.limits, usage),
        usage,
        RunObserver(),
    )


def test_every_piece_chunks_cuts_fits_the_sub_models_window(tmp_path: Path, tiny_llama) -> None:
    """On a real tokenizer, where the advice of 3 characters a token gave a piece that the
    fit check then refused."""
    model = tiny_llama(n_ctx=4096)
    ctx = _context(tmp_path, REPO / "sample_logs" / "bmc_cluster.log")
    config = EngineConfig()
    engine = RlmEngine(model, model, ctx, config)
    pieces = engine.pieces()
    ctx.chars_per_token, ctx.chunk_tokens = pieces.chars_per_token, pieces.tokens  # as the worker
    service = _service(model, config)
    chunks = ctx.chunks()
    assert len(chunks) > 10
    for chunk in chunks:
        service.check_fits(QUESTION + chunk.text)
    assert max(len(c.text) for c in chunks) > 0.7 * pieces.chars
    old_advice = (4096 - config.sub_params.max_tokens - 200) * 3
    with pytest.raises(PromptTooLong):
        service.check_fits(QUESTION + ctx[0:old_advice])


def test_chunks_in_the_repl_cuts_the_runs_piece(rlm) -> None:
    """`context.chunks()` in the REPL cuts the run's piece, and
    llm_query_batched over them is not refused (the scripted model has no tokenizer: a
    piece is sized at 2 characters a token; the old default cut 2,000 tokens at 4
    characters, whatever the window)."""
    rows = (
        f"2024-05-01T10:{r % 60:02d}:{i:02d} node0{i} systemd: heartbeat ok"
        for r in range(2000)
        for i in range(1, 5)
    )
    rlm.log.write_text("\n".join(rows) + "\n")
    body = (
        "pieces = context.chunks()\n"
        "print(len(pieces), max(len(p.text) for p in pieces))\n"
        "print(llm_query_batched([p.text for p in pieces])[:2])"
    )
    script = rlm.script([rlm.code(body), 'FINAL("node02")'], sub=["node02"] * 40)
    r = rlm.ask(script)
    assert r.rc in (0, 1), r.stderr
    d = r.json
    out = d["trajectory"][0]["outputs"][0]
    assert out["error"] is None, out
    n, longest = (int(x) for x in out["stdout"].splitlines()[0].split())
    assert n > 3
    assert d["usage"]["sub_calls"] == n
    assert "node02" in out["stdout"].splitlines()[1]
    system_tokens = len(load_prompts("subcall")["system"]) // 4
    piece = int((8192 - EngineConfig().sub_params.max_tokens - system_tokens - 200) * 2 * 0.9)
    assert 0.7 * piece < longest <= piece


def test_a_piece_sent_alone_is_asked_the_runs_question(rlm) -> None:
    """`llm_query(chunk)` sent the chunk's repr ("Chunk(lines 1-52)") and the 1.5B sub-model
    invented log lines to answer it; now it carries the piece's lines and the run's question,
    and ``f"...{chunk}"`` carries the lines too."""
    rlm.log.write_text(
        "".join(
            f"2024-05-01T10:00:{i:02d} node0{i % 4} kernel: EDAC MC0: CE error {i}\n"
            for i in range(40)
        )
    )
    body = (
        "pieces = context.chunks(lines=20)\n"
        "print(llm_query(pieces[0]))\n"
        "print(llm_query_batched(pieces))\n"
        "print(llm_query(f'count the errors: {pieces[1]}'))"
    )
    script = rlm.script([rlm.code(body), 'FINAL("node01")'], sub=["seen"] * 4)
    r = rlm.ask(script, question="Which node logged the most EDAC errors?")
    assert r.rc in (0, 1), r.stderr
    calls = r.json["trajectory"][0]["subcalls"]
    prompts = [c["prompt"] for c in calls]
    assert len(prompts) == 4 and not any("Chunk(lines" in p for p in prompts)
    for p, (first, last) in zip(prompts[:3], [(1, 20), (1, 20), (21, 40)]):
        assert "Which node logged the most EDAC errors?" in p
        assert p.startswith(f"Lines {first}-{last} of a log")
        assert f"CE error {first - 1}\n" in p and f"CE error {last - 1}" in p
    assert prompts[3].startswith("count the errors: 2024-05-01T10:00:20 node00")
    assert "Which node" not in prompts[3]  # the code's own words are sent as they are


@pytest.mark.parametrize(
    "sent",
    [{"lines": [1], "text": "x"}, {"lines": ["1", 2], "text": "x"}, {"lines": [1, 2], "text": 3}],
)
def test_a_malformed_piece_from_the_worker_is_refused(sent: dict) -> None:
    """The worker runs the model's code: what it sends is checked, not trusted."""
    service = _service(_Estimate(), EngineConfig())
    with pytest.raises(RlmError, match="line range and its text"):
        service.handle("llm_query", {"prompt": sent})


def test_pieces_are_weighed_as_sent_and_a_long_question_is_cut_saying_so() -> None:
    """The guard weighs the piece the code sent, not the words wrapped around it: 20 two-line
    pieces are 20 tiny prompts (refused), as their bare text would be."""
    service = _service(_Estimate(), EngineConfig())
    service.question = "Which node failed? " + "Give every detail you can find. " * 40
    piece = {"lines": [1, 2], "text": "node01 ok\nnode02 ECC error"}
    prompt, sent = service._prompt(piece)
    assert sent == len(piece["text"]) and len(prompt) > 400
    assert "[the rest of the question cut]" in prompt
    assert len(prompt) < 400 + 300 + len(piece["text"])
    with pytest.raises(RlmError, match="too many tiny sub-calls"):
        service.handle("llm_query_batched", {"prompts": [piece] * 20})
