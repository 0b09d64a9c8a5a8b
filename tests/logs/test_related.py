"""The kinds of line closest to a question in its words (an empty search's last resort)."""

from __future__ import annotations

from rlm_cli.logs.related import related_templates, template_words
from rlm_cli.logs.templates import Template


def _templates(*patterns: tuple[str, int]) -> list[Template]:
    return [Template(i, p, count, first_line=i * 10 + 1) for i, (p, count) in enumerate(patterns)]


def test_template_words_split_at_case_changes_and_punctuation() -> None:
    words = template_words("Error Path:<*> Error:KeeperErrorCode = NodeExists for <*>")
    assert {"error", "path", "keepererrorcode", "keeper", "code", "nodeexists", "node"} <= words
    assert "exists" in words and "<*>" not in words


def test_rarer_shared_stems_rank_first_and_one_stem_is_not_enough() -> None:
    templates = _templates(
        ("Got user-level KeeperException type:create Error Path:<*> Error:NodeExists", 1),
        ("Error reading snapshot <*>", 40),
        ("Error closing socket for client <*>", 30),
        ("Accepted socket connection from <*>", 200),
    )
    question = "A client tried to create a znode that was already there and got an error back."
    found = related_templates(question, templates)
    # the KeeperException line holds create, got and error; the socket error holds client
    # and error; the snapshot line holds only error (every second template holds it)
    assert [t.id for t in found] == [0, 2]
    assert related_templates("which znode?", templates) == []
    assert related_templates("error", templates) == []  # one stem: no question to match
