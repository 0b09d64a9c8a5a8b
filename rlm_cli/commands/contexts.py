"""`rlm contexts list | show ID | rm ID... | gc`: options only; work in actions.contexts."""

from __future__ import annotations

from collections.abc import Callable

import typer

from rlm_cli.commands.common import JsonOpt, command_group

GC_EXAMPLES = """
Examples:

  rlm contexts gc                          # leftovers of interrupted ingests only

  rlm contexts gc --older-than 7d          # and contexts nobody used for a week

  rlm contexts gc --max-size 5G            # and the least recently used beyond 5 GB
"""


def register(app: typer.Typer, set_debug: Callable[[bool], None]) -> None:
    """Add the `contexts` command group to ``app``."""
    group = command_group(app, "contexts", "List, inspect and remove stored contexts.")

    @group.command("list")
    def list_(json_out: JsonOpt = False) -> int:
        """Stored contexts, newest first."""
        from rlm_cli.actions.contexts import list_contexts

        return list_contexts(json=json_out)

    @group.command("show")
    def show(
        ctx_id: str = typer.Argument(..., metavar="ID", help="Context id or unique prefix."),
        json_out: JsonOpt = False,
    ) -> int:
        """Sizes, time span and sources (with their line ranges) of one context."""
        from rlm_cli.actions.contexts import show_context

        return show_context(ctx_id, json=json_out)

    @group.command("rm")
    def rm(
        ids: list[str] = typer.Argument(..., metavar="ID...", help="Context ids or prefixes."),
    ) -> int:
        """Delete contexts."""
        from rlm_cli.actions.contexts import remove_contexts

        return remove_contexts(ids)

    @group.command("gc", epilog=GC_EXAMPLES)
    def gc(
        older_than: str = typer.Option(
            None,
            "--older-than",
            help="Also remove contexts not used for this long (3600, 30m, 12h, 7d, 2w); "
            "leftovers of interrupted work go when this old (default 1h).",
        ),
        max_size: str = typer.Option(
            None,
            "--max-size",
            help="Then remove the least recently used contexts until all fit (500M, 5G).",
        ),
        json_out: JsonOpt = False,
    ) -> int:
        """Remove leftovers of interrupted ingests and damaged contexts; by age and size, whole contexts."""
        from rlm_cli.actions.contexts import gc_contexts

        return gc_contexts(older_than=older_than, max_size=max_size, json=json_out)
