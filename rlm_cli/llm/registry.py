"""The user's models: catalogue downloads, and names for model specs (one alias mechanism).

Names live in one place, config.yaml ``aliases:`` (NAME → any model spec): ``rlm models add
FILE [--alias NAME]`` and ``rlm config set aliases.NAME SPEC`` both write there, and the
default model is config ``model`` (``rlm models default NAME`` = ``rlm config set model NAME``).
Downloads are machine state in ``<models_dir>/registry.json`` (written atomically)::

    {"version": 1, "default": null,
     "models": {"<name>": {"path": "...", "source": "catalogue|local|url", "url": ..., "added": ...}}}

(``local`` records and ``default`` there come from older versions; they are still honoured.)
A catalogue model counts as installed when it is registered or when its file already sits
in ``models_dir``. Names are what ``--model NAME`` accepts; :meth:`ModelRegistry.resolve`
turns one into a file path for the spec parser. With no default chosen, the only installed
model is the default; with several, :meth:`ModelRegistry.default_spec` says how to choose.
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
from rlm_cli.config import load_settings, read_config_file, unset_setting, write_setting
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


def name_for_file(path: Path) -> str:
    """A model name made from a file name: ``Qwen2.5-Coder-0.5B.gguf`` → ``qwen2.5-coder-0.5b``."""
    stem = path.name[: -len(".gguf")] if path.name.lower().endswith(".gguf") else path.name
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-._").lower()[:64]
    return name or "model"


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
    """``catalogue`` (offered or pulled from it), ``local`` (a GGUF file by path), ``url``,
    ``alias`` (config.yaml ``aliases:`` naming another spec) or ``config`` (config ``model``
    given as a spec, not a name)."""
    description: str = ""
    size_bytes: int | None = None
    """Size on disk when installed."""
    catalogue: CatalogueEntry | None = None
    is_default: bool = False
    note: str = ""
    """Why it cannot be used as is (file gone, no GGUF published...), empty when fine."""

    spec: str = ""
    """What ``--model`` is given to use this entry (its name, or a file path)."""

    @property
    def sha256_label(self) -> str:
        return self.catalogue.sha256_label if self.catalogue else "unknown"

    def to_json(self) -> dict:
        """The entry as plain JSON values."""
        cat = self.catalogue
        return {
            "name": self.name,
            "installed": self.installed,
            "default": self.is_default,
            "path": str(self.path) if self.path else None,
            "source": self.source,
            "spec": self.spec,
            "description": self.description,
            "size_bytes": self.size_bytes,
            "sha256": self.sha256_label if cat else None,
            "context_length": cat.context_length if cat else None,
            "quality": cat.quality if cat else None,
            "note": self.note,
        }


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

    def _aliases(self) -> dict[str, str]:
        """config.yaml ``aliases:`` (NAME → model spec): the one place names are kept."""
        raw = read_config_file().get("aliases") or {}
        return {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}

    def _catalogue_file(self, entry: CatalogueEntry) -> Path | None:
        if not entry.file:
            return None
        path = self.models_dir / entry.file
        return path if path.is_file() else None

    def _entry(self, name: str, rec: dict | None, cat: CatalogueEntry | None) -> ModelEntry:
        path = Path(rec["path"]) if rec else (self._catalogue_file(cat) if cat else None)
        installed = path is not None and path.is_file()
        note = ""
        if rec and not installed:
            note = f"file missing: {path}"
        elif cat and not installed and not cat.downloadable:
            note = "no GGUF known to be published: convert it and `rlm models add`"
        source = rec.get("source", "local") if rec else "catalogue"
        desc = cat.description if cat else (rec or {}).get("url") or str(path)
        spec = str(path) if installed and path else name
        return _row(name, path, installed, source, desc, cat, note, spec)

    def _alias_entry(
        self,
        name: str,
        target: str,
        cat: CatalogueEntry | None,
        base: dict[str, ModelEntry],
        aliases: dict[str, str],
        seen: tuple[str, ...] = (),
    ) -> ModelEntry:
        """The row for config alias ``name`` → ``target`` (a spec, or another name)."""
        target = target.strip()
        path: Path | None = None
        installed, source, note, desc = False, "alias", "", target
        if target.startswith("openai:"):
            installed = True  # a server: whether it answers is known only when asked
        elif target.startswith("script:"):
            path = Path(target[len("script:") :]).expanduser()
            installed = path.is_file()
            note = "" if installed else f"file missing: {path}"
        elif target.endswith(".gguf") or "/" in target or Path(target).expanduser().exists():
            path = Path(target).expanduser()
            installed, source = path.is_file(), "local"
            note = "" if installed else f"file missing: {path}"
            desc = str(path)
        elif target in aliases and target not in seen and target != name:
            inner = self._alias_entry(target, aliases[target], None, base, aliases, (*seen, name))
            path, installed, note = inner.path, inner.installed, inner.note
            desc = f"→ {target}"
        elif target.lower() in base:
            inner = base[target.lower()]
            path, installed, note = inner.path, inner.installed, inner.note
            desc = f"→ {target}"
        else:
            note = "alias loop" if target in seen or target == name else f"unknown {target!r}"
        return _row(name, path, installed, source, desc, cat, note, name)

    def list(self) -> list[ModelEntry]:
        """Catalogue entries (installed or not), then older registered names, then config
        aliases, alphabetically; ``is_default`` marks the model a plain ``rlm ask`` uses."""
        rows = self._rows(self._load())
        chosen, _ = self._pick_default(rows, self._load())
        if chosen is None:
            return rows
        key = chosen.lower()
        if not any(r.name.lower() == key for r in rows):
            rows.append(
                ModelEntry(
                    name=chosen,
                    installed=True,
                    path=None,
                    source="config",
                    description="config `model` (a spec, not a name here)",
                    spec=chosen,
                )
            )
        return [
            ModelEntry(**{**r.__dict__, "is_default": True}) if r.name.lower() == key else r
            for r in rows
        ]

    def _rows(self, data: dict) -> list[ModelEntry]:
        aliases = self._aliases()
        by_lower = {k.lower(): k for k in aliases}
        base: dict[str, ModelEntry] = {}
        for cat in self.catalogue.entries:
            found = self._record(data, cat.name)
            base[cat.name.lower()] = self._entry(cat.name, found[1] if found else None, cat)
        for name in sorted(data["models"], key=str.lower):
            if name.lower() not in base:
                base[name.lower()] = self._entry(name, data["models"][name], None)
        rows = []
        for key, row in base.items():
            if key in by_lower:  # a config alias under a known name wins, as in ModelLoader
                alias = by_lower[key]
                row = self._alias_entry(alias, aliases[alias], row.catalogue, base, aliases)
            rows.append(row)
        for key in sorted(by_lower):
            if key not in base:
                alias = by_lower[key]
                rows.append(self._alias_entry(alias, aliases[alias], None, base, aliases))
        return rows

    def _pick_default(self, rows: list[ModelEntry], data: dict) -> tuple[str | None, str]:
        """(the default model's name or spec, or None; why there is none when several are
        installed). Config ``model`` (file or RLM_MODEL) first, then an older registry default,
        then the only installed model, then the catalogue's default when installed."""
        configured = load_settings().model
        if configured:
            return configured, ""
        legacy = data.get("default")
        if legacy and any(r.name.lower() == legacy.lower() for r in rows):
            return legacy, ""
        installed = [r for r in rows if r.installed]
        if len(installed) == 1:
            return installed[0].name, ""
        if any(r.name.lower() == self.catalogue.default.lower() for r in installed):
            return self.catalogue.default, ""
        if not installed:
            return None, ""
        names = ", ".join(r.name for r in installed)
        return None, f"{len(installed)} models are installed ({names}) and none is the default"

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
        if entry.source in ("alias", "config"):
            raise ModelError(
                f"unknown model {name!r}; did you mean {entry.name!r}? (names are case-sensitive)"
            )
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

    def default_name(self) -> str | None:
        """The name (or spec) a plain ``rlm ask`` uses; None when none is installed or
        several are and none was chosen."""
        data = self._load()
        return self._pick_default(self._rows(data), data)[0]

    def default_problem(self) -> str:
        """Why there is no default although models are installed ("" when there is one)."""
        data = self._load()
        return self._pick_default(self._rows(data), data)[1]

    def default_spec(self) -> str | None:
        """What ``--model`` a plain ``rlm ask`` uses: a file path or a name for
        :class:`~rlm_cli.llm.spec.ModelLoader`; None when no model is installed.

        Raises :class:`ModelError` listing the installed models when several are and none
        was chosen, or when the chosen one cannot be used.
        """
        data = self._load()
        rows = self._rows(data)
        chosen, problem = self._pick_default(rows, data)
        if problem:
            raise ModelError(
                problem,
                hint="choose one: rlm models default NAME (or --model NAME, or RLM_MODEL=NAME)",
            )
        if chosen is None:
            return None
        entry = next((r for r in rows if r.name.lower() == chosen.lower()), None)
        if entry is None or entry.source == "alias":
            return chosen if entry is None else entry.name
        if entry.installed:
            return entry.spec
        self.resolve(entry.name)  # raises: not downloaded, file gone, no GGUF
        return entry.spec

    def set_default(self, name: str) -> ModelEntry:
        """Make ``name`` the default model (config ``model``, as ``rlm config set model``)."""
        entry = self.get(name)
        if entry is None:
            raise ModelError(f"unknown model {name!r}", hint="see rlm models list")
        write_setting("model", entry.name)
        if self._load().get("default"):
            with self._editing() as data:
                data["default"] = None
        return self.get(entry.name)  # type: ignore[return-value]

    # -- changes --------------------------------------------------------------

    def add(self, path: Path, alias: str | None = None, *, replace: bool = False) -> ModelEntry:
        """Register the local GGUF at ``path`` as ``alias`` in config.yaml ``aliases:`` (default:
        the catalogue's name for a file of the catalogue, else from the file name); the file
        stays where it is."""
        path = Path(path).expanduser()
        if alias is None:  # the catalogue's name when it is the catalogue's file
            same = [
                e for e in self.catalogue.entries if (e.file or "").lower() == path.name.lower()
            ]
            alias = same[0].name if same else name_for_file(path)
        alias = check_name(alias)
        if not path.is_file():
            raise ModelError(f"no such file: {path}")
        if not is_gguf(path):
            raise ModelError(f"{path} is not a GGUF file (it does not start with 'GGUF')")
        taken = self.get(alias)
        if taken is not None and taken.path is not None and taken.path.resolve() == path.resolve():
            return taken  # the same file under the same name: nothing to do
        # a catalogue name not downloaded may name your own file (a converted model)
        if taken is not None and (taken.installed or taken.source != "catalogue"):
            if not replace:
                where = taken.path or taken.description
                raise ModelError(
                    f"model name {alias!r} is already taken ({where})",
                    hint="choose another --alias, or pass --replace",
                )
            self._forget(taken.name)
        write_setting(f"aliases.{alias}", str(path.resolve()))
        return self.get(alias)  # type: ignore[return-value]

    def _forget(self, name: str) -> None:
        """Drop ``name`` from config aliases and the registry file (no files deleted)."""
        for key in [k for k in self._aliases() if k.lower() == name.lower()]:
            unset_setting(f"aliases.{key}")
        if self._has(name):
            with self._editing() as data:
                found = self._record(data, name)
                if found:
                    del data["models"][found[0]]

    def rm(self, name: str) -> Path | None:
        """Forget ``name``; files rlm downloaded are deleted, files added by path are kept.

        Returns the deleted file, or None when nothing was deleted.
        """
        entry = self.get(name)
        aliased = any(k.lower() == name.lower() for k in self._aliases())
        if entry is None or not (entry.installed or self._has(entry.name) or aliased):
            raise ModelError(f"no installed model called {name!r}", hint="see rlm models list")
        deleted: Path | None = None
        owned = entry.source in ("catalogue", "url") and entry.path is not None
        self._forget(entry.name)
        with self._editing() as data:
            if data.get("default") and data["default"].lower() == name.lower():
                data["default"] = None
        configured = read_config_file().get("model")
        if isinstance(configured, str) and configured.lower() == name.lower():
            unset_setting("model")
        if owned and entry.path is not None and self._inside_models_dir(entry.path):
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
        if e.installed and e.source != "catalogue" and e.path and e.source != "alias":
            summary = str(e.path)
        about = summary if not e.note else f"{summary} ({e.note})"
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


def _row(
    name: str,
    path: Path | None,
    installed: bool,
    source: str,
    description: str,
    cat: CatalogueEntry | None,
    note: str,
    spec: str,
) -> ModelEntry:
    """One row of the models table; its size is read from the file when installed."""
    size = path.stat().st_size if installed and path and path.is_file() else None
    return ModelEntry(
        name=name,
        installed=installed,
        path=path,
        source=source,
        description=description,
        size_bytes=size,
        catalogue=cat,
        note=note,
        spec=spec,
    )
