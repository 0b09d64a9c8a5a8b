"""Model specs: the one string that names a model for ``--model`` and ``--sub-model``.

- ``path/to/model.gguf``            llama.cpp in process
- ``script:FILE.yaml``              scripted replay (see :mod:`rlm_cli.llm.scripted`)
- ``openai:http://host:port/v1#name``  an OpenAI-compatible server
- ``NAME``                          an alias or a pulled catalogue model (``rlm models list``)
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from rlm_cli.errors import ModelError
from rlm_cli.llm.base import Model
from rlm_cli.llm.llama import LlamaOptions


@dataclass
class ModelOptions:
    """Backend options gathered from flags, env and config."""

    llama: LlamaOptions = field(default_factory=LlamaOptions)
    concurrency: int = 4
    request_timeout_s: float = 600.0
    n_ctx: int | None = None
    """``--n-ctx`` as given: an ``openai:`` model uses it instead of asking the server."""


class ModelLoader:
    """Loads models from specs, sharing what roles may share (one script file, one server)."""

    def __init__(
        self, options: ModelOptions | None = None, aliases: dict[str, str] | None = None
    ) -> None:
        self.options = options or ModelOptions()
        self.aliases = {str(k): str(v) for k, v in (aliases or {}).items()}
        self._scripts: dict[Path, object] = {}

    def resolve_alias(self, spec: str) -> str:
        """``spec`` after following config.yaml ``aliases:`` (name → spec), chains included."""
        seen = []
        spec = spec.strip()
        while spec in self.aliases:
            if spec in seen:
                raise ModelError(f"model alias loop: {' → '.join([*seen, spec])}")
            seen.append(spec)
            spec = self.aliases[spec].strip()
        return spec

    def load(self, spec: str, role: str) -> Model:
        """A model for ``role`` ("root" or "sub") from ``spec`` (config aliases first)."""
        spec = self.resolve_alias(spec)
        if not spec:
            raise ModelError("empty model spec")
        if spec.startswith("script:"):
            return self._scripted(Path(spec[len("script:") :]).expanduser(), role)
        if spec.startswith("openai:"):
            from rlm_cli.llm.openai_compat import OpenAICompatModel

            return OpenAICompatModel.from_spec(
                spec,
                concurrency=self.options.concurrency,
                timeout=self.options.request_timeout_s,
                n_ctx=self.options.n_ctx,
            )
        path = Path(spec).expanduser()
        if spec.endswith(".gguf") or path.exists() or "/" in spec:
            from rlm_cli.llm.llama import LlamaModel

            return LlamaModel(path, self._llama_options(role))
        from rlm_cli.llm.registry import ModelRegistry

        resolved = ModelRegistry().resolve(spec)
        if resolved is None:
            raise ModelError(
                f"unknown model {spec!r}: give a .gguf path, script:FILE.yaml, "
                "openai:URL#name, or a name from `rlm models list`"
            )
        from rlm_cli.llm.llama import LlamaModel

        return LlamaModel(resolved, self._llama_options(role))

    def load_sub(
        self, sub_spec: str | None, root_spec: str, root: Model, auto: str = "off"
    ) -> Model:
        """The sub-model: ``sub_spec`` when given; else with ``auto`` a smaller installed
        model of the root's family (:mod:`rlm_cli.llm.submodel`); else the root's spec, and
        for a GGUF root that second copy is loaded at the first sub-call
        (:class:`~rlm_cli.llm.deferred.DeferredModel`)."""
        if auto not in ("off", "auto"):
            raise ModelError(f"sub_model_auto={auto!r}: expected off or auto")
        if sub_spec:
            return self.load(sub_spec, "sub")
        path = getattr(root, "path", None)
        if auto == "auto" and isinstance(path, Path):
            from rlm_cli.llm.submodel import pick_sub_model

            picked = pick_sub_model(path)
            if picked is not None:
                return self.load(str(picked), "sub")
        if isinstance(path, Path):  # the root's own GGUF: loaded again only if a sub-call comes
            from rlm_cli.llm.deferred import DeferredModel

            return DeferredModel(lambda: self.load(root_spec, "sub"), root)
        return self.load(root_spec, "sub")

    def _llama_options(self, role: str) -> LlamaOptions:
        """Prompt-lookup decoding drafts from the root's conversation; sub-calls go without."""
        if role == "root":
            return self.options.llama
        return replace(self.options.llama, lookup_tokens=0)

    def _scripted(self, path: Path, role: str) -> Model:
        from rlm_cli.llm.scripted import Script, ScriptedModel

        key = path.resolve()
        if key not in self._scripts:
            self._scripts[key] = Script(path)
        return ScriptedModel(
            self._scripts[key],
            role,
            n_ctx=self.options.llama.n_ctx,
            concurrency=self.options.concurrency,
        )  # type: ignore[arg-type]
