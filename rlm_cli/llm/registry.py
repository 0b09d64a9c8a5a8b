"""The user's models: catalogue downloads and local GGUF files under short names.

State lives in ``<models_dir>/registry.json`` (written atomically)::

    {"version": 1, "default": null,
     "models": {"<name>": {"path": "...", "source": "catalogue|local|url", "url": ..., "added": ...}}}

A catalogue model counts as installed when it is registered or when its file already sits
in ``models_dir``. Names are what ``--model NAME`` accepts; :meth:`ModelRegistry.resolve`
turns one into a file path for the spec parser.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import unquote, urlsplit

from rich.table import Table

from rlm_cli import paths
from rlm_cli.atomic import atomic_write
from rlm_cli.errors import ModelError, UsageError
from rlm_cli.llm.catalogue import Catalogue, CatalogueEntry, load_catalogue
from rlm_cli.llm.download import download

GGUF_MAGIC = b"GGUF"
REGISTRY_FILE = "registry.json"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def is_gguf(path: Path) -> bool:
    """Whether ``path`` is a file starting with the GGUF magic bytes."""
    try:
        with open(path, "rb") as f:
            return f.read(4) == GGUF_MAGIC
    except OSError:
        return False


def check_name(name: str) -> str:
    """Validate a model name: letters, digits, ``.``, ``_``, ``-``; no ``:``, ``/`` or ``.gguf``."""
    if not _NAME.match(name) or name.lower().endswith(".gguf"):
        raise UsageError(
            f"bad model name {name!r}",
            hint="use letters, digits, '.', '_' and '-' (no ':' or '/', not ending in .gguf)",
        )
    return name


@dataclass(frozen=True)
class ModelEntry:
    """One row of ``rlm models list``."""

    name: str
    installed: bool
    path: Path | None
    source: str
    """``catalogue`` (offered or pulled from it), ``local`` (added by path) or ``url``."""
    description: str = ""
    size_bytes: int | None = None
    """Size on disk when installed."""
    catalogue: CatalogueEntry | None = None
    is_default: bool = False
    note: str = ""
    """Why it cannot be used as is (file gone, no GGUF published...), empty when fine."""

    @property
    def sha256_label(self) -> str:
        return self.catalogue.sha256_label if self.catalogue else "unknown"


class ModelRegistry:
    """Catalogue entries plus the user's registered models, stored under ``models_dir``."""

    def __init__(self, models_dir: Path | None = None, catalogue: Catalogue | None = None) -> None:
        self.models_dir = Path(models_dir) if models_dir is not None else paths.models_dir()
        self.catalogue = catalogue if catalogue is not None else load_catalogue()

    @property
    def registry_path(self) -> Path:
        return self.models_dir / REGISTRY_FILE

    # -- storage --------------------------------------------------------------

    def _load(self) -> dict:
        try:
            data = json.loads(self.registry_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {"version": 1, "default": None, "models": {}}
        except (OSError, ValueError) as exc:
            raise ModelError(f"cannot read {self.registry_path}: {exc}") from None
        if not isinstance(data, dict) or not isinstance(data.get("models"), dict):
            raise ModelError(f"{self.registry_path} is not a model registry")
        data.setdefault("default", None)
        return data

    def _save(self, data: dict) -> None:
        self.models_dir.mkdir(parents=True, exist_ok=True)
        atomic_write(self.registry_path, json.dumps(data, indent=2, sort_keys=True) + "\n")

    @contextlib.contextmanager
    def _editing(self) -> Iterator[dict]:
        """Load, let the caller change, save; serialised between processes where possible."""
        self.models_dir.mkdir(parents=True, exist_ok=True)
        with open(self.models_dir / ".registry.lock", "w") as lock:
            try:
                import fcntl

                fcntl.flock(lock, fcntl.LOCK_EX)
            except ImportError:
                pass
            data = self._load()
            yield data
            self._save(data)

    def _record(self, data: dict, name: str) -> tuple[str, dict] | None:
        models = data["models"]
        if name in models:
            return name, models[name]
        key = name.lower()
        return next(((k, v) for k, v in models.items() if k.lower() == key), None)

    # -- queries --------------------------------------------------------------

    def _catalogue_file(self, entry: CatalogueEntry) -> Path | None:
        if not entry.file:
            return None
        path = self.models_dir / entry.file
        return path if path.is_file() else None

    def _entry(
        self, name: str, rec: dict | None, cat: CatalogueEntry | None, default: str
    ) -> ModelEntry:
        path = Path(rec["path"]) if rec else (self._catalogue_file(cat) if cat else None)
        installed = path is not None and path.is_file()
        note = ""
        if rec and not installed:
            note = f"file missing: {path}"
        elif cat and not installed and not cat.downloadable:
            note = "no GGUF known to be published: convert it and `rlm models add`"
        source = rec.get("source", "local") if rec else "catalogue"
        desc = cat.description if cat else (rec or {}).get("url") or str(path)
        return ModelEntry(
            name=name,
            installed=installed,
            path=path,
            source=source,
            description=desc,
            size_bytes=path.stat().st_size if installed else None,
            catalogue=cat,
            is_default=name.lower() == default.lower(),
            note=note,
        )

    def list(self) -> list[ModelEntry]:
        """Catalogue entries (installed or not), then the user's own names, alphabetically."""
        data = self._load()
        default = self._default(data)
        rows = []
        for cat in self.catalogue.entries:
            found = self._record(data, cat.name)
            rows.append(self._entry(cat.name, found[1] if found else None, cat, default))
        taken = {r.name.lower() for r in rows}
        for name in sorted(data["models"], key=str.lower):
            if name.lower() not in taken:
                rows.append(self._entry(name, data["models"][name], None, default))
        return rows

    def get(self, name: str) -> ModelEntry | None:
        """The entry called ``name`` (case-insensitive), or None."""
        key = name.lower()
        return next((e for e in self.list() if e.name.lower() == key), None)

    def resolve(self, name: str) -> Path | None:
        """The GGUF path for ``name``; None when the name is unknown here.

        Raises :class:`ModelError` when the name is known but unusable: a catalogue
        model that is not downloaded yet, or a registered file that has gone.
        """
        entry = self.get(name)
        if entry is None:
            return None
        if entry.installed and entry.path is not None:
            return entry.path
        if entry.note.startswith("file missing"):
            raise ModelError(
                f"model {entry.name!r} is registered at {entry.path} but the file is gone",
                hint=f"rlm models rm {entry.name}",
            )
        if entry.catalogue is not None and not entry.catalogue.downloadable:
            raise ModelError(
                f"model {entry.name!r} has no GGUF known to be published",
                hint=f"convert it and run: rlm models add PATH --alias {entry.name}",
            )
        raise ModelError(
            f"model {entry.name!r} is not downloaded", hint=f"rlm models pull {entry.name}"
        )

    def _default(self, data: dict) -> str:
        return data.get("default") or self.catalogue.default

    def default_name(self) -> str:
        """The name used when no ``--model`` is given (set by the user, else the catalogue's)."""
        return self._default(self._load())

    def set_default(self, name: str) -> ModelEntry:
        """Make ``name`` the default model; it must be a known name."""
        entry = self.get(name)
        if entry is None:
            raise ModelError(f"unknown model {name!r}", hint="see rlm models list")
        with self._editing() as data:
            data["default"] = entry.name
        return self.get(entry.name)  # type: ignore[return-value]

    # -- changes --------------------------------------------------------------

    def add(self, path: Path, alias: str, *, replace: bool = False) -> ModelEntry:
        """Register the local GGUF at ``path`` as ``alias`` (the file stays where it is)."""
        check_name(alias)
        path = Path(path).expanduser()
        if not path.is_file():
            raise ModelError(f"no such file: {path}")
        if not is_gguf(path):
            raise ModelError(f"{path} is not a GGUF file (it does not start with 'GGUF')")
        with self._editing() as data:
            found = self._record(data, alias)
            if found and not replace:
                raise ModelError(
                    f"model name {alias!r} is already taken ({found[1].get('path')})",
                    hint="choose another alias, or remove the old one first",
                )
            if found:
                del data["models"][found[0]]
            data["models"][alias] = {
                "path": str(path.resolve()),
                "source": "local",
                "added": _now(),
            }
        return self.get(alias)  # type: ignore[return-value]

    def rm(self, name: str) -> Path | None:
        """Forget ``name``; files rlm downloaded are deleted, files added by path are kept.

        Returns the deleted file, or None when nothing was deleted.
        """
        entry = self.get(name)
        if entry is None or not (entry.installed or self._has(entry.name)):
            raise ModelError(f"no installed model called {name!r}", hint="see rlm models list")
        deleted: Path | None = None
        with self._editing() as data:
            found = self._record(data, name)
            if found:
                del data["models"][found[0]]
                if data.get("default") and data["default"].lower() == name.lower():
                    data["default"] = None
            owned = entry.source in ("catalogue", "url") and entry.path is not None
            if owned and self._inside_models_dir(entry.path):
                for p in (entry.path, entry.path.with_name(entry.path.name + ".part")):
                    if p.exists():
                        p.unlink()
                        deleted = deleted or p
        return deleted

    def _has(self, name: str) -> bool:
        return self._record(self._load(), name) is not None

    def _inside_models_dir(self, path: Path) -> bool:
        try:
            path.resolve().relative_to(self.models_dir.resolve())
        except ValueError:
            return False
        return True

    def pull(
        self,
        name: str,
        *,
        alias: str | None = None,
        progress: bool = True,
        mirror: str | None = None,
    ) -> ModelEntry:
        """Download a catalogue model (or an ``https://...gguf`` URL) into ``models_dir``.

        A URL is registered under ``alias`` (default: the file name without ``.gguf``).
        Already-downloaded files are not fetched again.
        """
        if re.match(r"^https?://", name):
            return self._pull_url(name, alias=alias, progress=progress, mirror=mirror)
        cat = self.catalogue.get(name)
        if cat is None:
            known = ", ".join(self.catalogue.names())
            raise ModelError(f"{name!r} is not in the catalogue", hint=f"known: {known}")
        if not cat.downloadable or not cat.file or not cat.url:
            raise ModelError(
                f"{cat.name} cannot be downloaded: {cat.chat_notes or 'no GGUF is published'}"
            )
        current = self.get(cat.name)
        if current is not None and current.installed and current.source != "catalogue":
            return current  # the user registered their own file under this name
        dest = self.models_dir / cat.file
        self._fetch(cat.url, dest, sha256=cat.sha256, progress=progress, mirror=mirror)
        with self._editing() as data:
            found = self._record(data, cat.name)
            if found:
                del data["models"][found[0]]
            data["models"][cat.name] = {
                "path": str(dest.resolve()),
                "source": "catalogue",
                "url": cat.url,
                "added": _now(),
            }
        return self.get(cat.name)  # type: ignore[return-value]

    def _pull_url(
        self, url: str, *, alias: str | None, progress: bool, mirror: str | None
    ) -> ModelEntry:
        filename = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
        if not filename.lower().endswith(".gguf") or "/" in filename or filename.startswith("."):
            raise UsageError(f"{url} does not name a .gguf file")
        alias = check_name(alias or filename[: -len(".gguf")])
        with self._editing() as data:
            found = self._record(data, alias)
            if found and found[1].get("url") != url:
                raise ModelError(
                    f"model name {alias!r} is already taken", hint="pass another alias"
                )
        dest = self.models_dir / filename
        self._fetch(url, dest, sha256=None, progress=progress, mirror=mirror)
        with self._editing() as data:
            data["models"][alias] = {
                "path": str(dest.resolve()),
                "source": "url",
                "url": url,
                "added": _now(),
            }
        return self.get(alias)  # type: ignore[return-value]

    def _fetch(
        self, url: str, dest: Path, *, sha256: str | None, progress: bool, mirror: str | None
    ) -> None:
        fresh = not dest.exists()
        download(url, dest, sha256=sha256, progress=progress, mirror=mirror)
        if fresh and not is_gguf(dest):
            dest.unlink(missing_ok=True)
            raise ModelError(f"{url} did not send a GGUF file (wrong URL, or a login page?)")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _gib(n: int) -> str:
    return f"{n / 2**30:.1f} GiB" if n >= 2**30 else f"{n / 2**20:.0f} MiB"


def render_models_table(entries: list[ModelEntry]) -> Table:
    """A Rich table of models for ``rlm models list`` (``*`` marks the default)."""
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    table.add_column("")
    table.add_column("name", no_wrap=True)
    table.add_column("have", no_wrap=True)
    table.add_column("size", no_wrap=True)
    table.add_column("window", no_wrap=True)
    table.add_column("think", no_wrap=True)
    table.add_column("sha256", no_wrap=True, max_width=12)
    table.add_column("about", overflow="fold", min_width=24, ratio=1)
    for e in entries:
        cat = e.catalogue
        if e.installed and e.size_bytes is not None:
            size = _gib(e.size_bytes)
        elif cat and cat.approx_size_gb:
            size = f"~{cat.approx_size_gb:g} GB"
        else:
            size = "unknown"
        window = f"{cat.context_length // 1024}K" if cat and cat.context_length else "-"
        thinking = {True: "yes", False: "no", None: "unknown"}[cat.thinking] if cat else "-"
        installed = "yes" if e.installed else "no"
        summary = e.description.split(". ")[0].rstrip(".")
        about = summary if not e.note else f"{summary} ({e.note})"
        if e.installed and e.source != "catalogue" and e.path:
            about = str(e.path)
        sha = e.sha256_label if cat else "-"
        table.add_row(
            "*" if e.is_default else "",
            e.name,
            installed,
            size,
            window,
            thinking,
            sha[:12] if sha not in ("unknown", "-") else sha,
            about,
        )
    return table
