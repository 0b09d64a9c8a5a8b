"""Fill the persistent prompt cache before the first question.

Every root conversation opens with one of a few system prompts (one per kind of question,
with its worked example, and one for questions of no known kind), and every sub-call with
the sub-call system prompt. The first run that meets each one pays for evaluating it (about
20 s for 1,400 tokens of the 1.5B model on two cores); :func:`warm_prompts` pays for all of
them at once, when nobody is waiting: after installing a model, from cron at boot, or
before a bench's timed runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from rlm_cli.engine.loop import EngineConfig, root_system_prompt
from rlm_cli.engine.prompts import load_intents, load_prompts
from rlm_cli.llm.base import Model


@dataclass(frozen=True)
class Warmed:
    """One system prompt put in the cache."""

    prompt: str
    """``root:<intent>``, ``root`` (the plain prompt: questions of no known kind, and kinds
    without a worked example) or ``sub-call``."""
    model: str
    tokens_evaluated: int
    """Tokens computed now (0: the cache held it already, or the backend keeps none)."""
    tokens_loaded: int
    """Tokens found in the cache already."""
    seconds: float


def warm_prompts(
    root: Model,
    sub: Model,
    config: EngineConfig,
    on_each: Callable[[Warmed], None] | None = None,
) -> list[Warmed]:
    """Put every system prompt a run may open with in the root (and sub) model's prompt
    cache; returns what each one cost. Backends without a persistent cache do nothing."""
    if config.thinking == "off":
        for m in {id(root): root, id(sub): sub}.values():
            m.set_thinking(False)
    prompts = load_prompts("root")
    # an intent without a worked example opens with the plain prompt, like a question of
    # no known kind
    jobs = [(f"root:{i.name}", root, root_system_prompt(prompts, config, i, sub.n_ctx))
            for i in load_intents() if i.example]  # fmt: skip
    jobs.append(("root", root, root_system_prompt(prompts, config, None, sub.n_ctx)))
    jobs.append(("sub-call", sub, load_prompts("subcall")["system"]))
    done: list[Warmed] = []
    for name, model, system in jobs:
        t0 = time.monotonic()
        evaluated, loaded = model.warm(system)
        w = Warmed(name, model.spec, evaluated, loaded, round(time.monotonic() - t0, 3))
        done.append(w)
        if on_each is not None:
            on_each(w)
    return done
