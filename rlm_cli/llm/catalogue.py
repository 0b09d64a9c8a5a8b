"""The catalogue of GGUF models rlm knows how to download (package data ``data/models.yaml``).

Entries are offers, not installs: :mod:`rlm_cli.llm.registry` says which are on disk.
Sizes are approximate and checksums are ``None`` unless really known.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources

import yaml

from rlm_cli.errors import ConfigError

HF_BASE = "https://huggingface.co"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def hf_url(repo: str, file: str) -> str:
    """The Hugging Face download URL of ``file`` in ``repo`` (main branch)."""
    return f"{HF_BASE}/{repo}/resolve/main/{file}"


@dataclass(frozen=True)
class CatalogueEntry:
    """One downloadable (or at least known) model."""

    name: str
    description: str
    repo: str
    file: str | None
    url: str | None
    quant: str | None = None
    approx_size_gb: float | None = None
    sha256: str | None = None
    context_length: int | None = None
    suggested_n_ctx: int | None = None
    thinking: bool | None = None
    gguf: str = "published"
    """``published`` (a GGUF exists at ``url``) or ``unknown`` (none known)."""
    chat_notes: str = ""
    quality: dict | None = None
    """Measured answer quality from ``rlm bench`` (suite → score), None until measured."""

    @property
    def downloadable(self) -> bool:
        return self.url is not None

    @property
    def sha256_label(self) -> str:
        return self.sha256 or "unknown"


@dataclass(frozen=True)
class Catalogue:
    entries: tuple[CatalogueEntry, ...]
    default: str

    def get(self, name: str) -> CatalogueEntry | None:
        """The entry called ``name`` (case-insensitive), or None."""
        key = name.lower()
        return next((e for e in self.entries if e.name.lower() == key), None)

    def names(self) -> list[str]:
        return [e.name for e in self.entries]


def parse_catalogue(text: str, *, source: str = "models.yaml") -> Catalogue:
    """Parse and check catalogue YAML; raises :class:`ConfigError` on anything malformed."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("models"), list):
        raise ConfigError(f"{source}: expected a mapping with a 'models' list")
    entries = []
    for i, raw in enumerate(data["models"]):
        if not isinstance(raw, dict) or not raw.get("name") or not raw.get("repo"):
            raise ConfigError(f"{source}: model #{i + 1} needs at least 'name' and 'repo'")
        sha = raw.get("sha256")
        if sha is not None and not _SHA256.match(str(sha).lower()):
            raise ConfigError(f"{source}: {raw['name']}: sha256 must be 64 hex digits or null")
        quality = raw.get("quality")
        if quality is not None and not isinstance(quality, dict):
            raise ConfigError(f"{source}: {raw['name']}: quality must be a mapping or null")
        file = raw.get("file")
        url = raw.get("url") or (hf_url(raw["repo"], file) if file else None)
        entries.append(
            CatalogueEntry(
                name=str(raw["name"]),
                description=str(raw.get("description", "")).strip(),
                repo=str(raw["repo"]),
                file=file,
                url=url,
                quant=raw.get("quant"),
                approx_size_gb=raw.get("approx_size_gb"),
                sha256=str(sha).lower() if sha else None,
                context_length=raw.get("context_length"),
                suggested_n_ctx=raw.get("suggested_n_ctx"),
                thinking=raw.get("thinking"),
                gguf=str(raw.get("gguf", "published" if file else "unknown")),
                chat_notes=" ".join(str(raw.get("chat_notes", "")).split()),
                quality=quality,
            )
        )
    names = [e.name.lower() for e in entries]
    if len(set(names)) != len(names):
        raise ConfigError(f"{source}: model names must be unique")
    default = str(data.get("default") or entries[0].name)
    if default.lower() not in names:
        raise ConfigError(f"{source}: default {default!r} is not one of the models")
    return Catalogue(tuple(entries), default)


@functools.lru_cache(maxsize=1)
def load_catalogue() -> Catalogue:
    """The catalogue shipped with rlm (``rlm_cli/data/models.yaml``)."""
    text = resources.files("rlm_cli").joinpath("data/models.yaml").read_text(encoding="utf-8")
    return parse_catalogue(text)


def catalogue_entry(name: str) -> CatalogueEntry | None:
    """The shipped catalogue's entry called ``name``, or None."""
    return load_catalogue().get(name)
