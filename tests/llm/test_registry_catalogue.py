"""Catalogue loading and the model registry (temp RLM_HOME, pulls from 127.0.0.1)."""

from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path

import pytest
from rich.console import Console

from rlm_cli import paths
from rlm_cli.config import read_config_file, write_setting
from rlm_cli.errors import ConfigError, ModelError, UsageError
from rlm_cli.llm.catalogue import hf_url, load_catalogue, parse_catalogue
from rlm_cli.llm.registry import ModelRegistry, render_models_table
from rlm_cli.testing.file_server import FileServer

GGUF_BYTES = b"GGUF" + os.urandom(200_000)

TEST_CATALOGUE = f"""
default: small
models:
  - name: small
    description: a small test model
    repo: org/small-GGUF
    file: small-Q4_K_M.gguf
    approx_size_gb: 0.0002
    sha256: {hashlib.sha256(GGUF_BYTES).hexdigest()}
    context_length: 4096
    thinking: false
  - name: unchecked
    description: no checksum known
    repo: org/unchecked-GGUF
    file: unchecked.gguf
    sha256: null
  - name: weights-only
    description: no GGUF anywhere
    repo: org/weights
    file: null
    gguf: unknown
    chat_notes: convert it yourself
"""


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RLM_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RLM_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.delenv("RLM_MODEL_MIRROR", raising=False)
    monkeypatch.delenv("RLM_MODEL", raising=False)
    return tmp_path / "home"


@pytest.fixture
def reg(home: Path) -> ModelRegistry:
    return ModelRegistry(paths.models_dir(), parse_catalogue(TEST_CATALOGUE))


def _gguf(tmp_path: Path, name: str = "mine.gguf") -> Path:
    p = tmp_path / name
    p.write_bytes(GGUF_BYTES)
    return p


# -- catalogue -----------------------------------------------------------------


def test_shipped_catalogue_is_honest() -> None:
    cat = load_catalogue()
    assert cat.default == "qwen3-4b-instruct-2507"
    assert set(cat.names()) == {
        "qwen3-4b-instruct-2507",
        "qwen3-8b",
        "qwen2.5-coder-7b-instruct",
        "rlm-qwen3-8b",
        "qwen2.5-coder-1.5b-instruct",  # small models that run on a CPU
        "qwen2.5-coder-0.5b-instruct",
        "gemma-3-270m-it",
    }
    for e in cat.entries:
        if e.downloadable:
            assert e.url == hf_url(e.repo, e.file)
            assert e.url.startswith("https://huggingface.co/") and e.url.endswith(".gguf")
            assert e.quant in ("Q4_K_M", "Q8_0") and e.approx_size_gb
        assert e.quality is None or all(isinstance(v, (int, float)) for v in e.quality.values())
        assert e.context_length and e.description and e.chat_notes
        assert e.sha256 is None or len(e.sha256) == 64
    rlm = cat.get("RLM-Qwen3-8B")
    assert rlm is not None and not rlm.downloadable and rlm.gguf == "unknown"
    assert rlm.repo == "mit-oasys/rlm-qwen3-8b-v0.1"
    assert cat.get("qwen3-8b").thinking is True
    assert cat.get("qwen3-4b-instruct-2507").thinking is False


def test_catalogue_rejects_invented_looking_checksums_and_bad_defaults() -> None:
    with pytest.raises(ConfigError, match="sha256"):
        parse_catalogue("models:\n  - {name: a, repo: r, file: f.gguf, sha256: abc}\n")
    with pytest.raises(ConfigError, match="default"):
        parse_catalogue("default: b\nmodels:\n  - {name: a, repo: r, file: f.gguf}\n")
    with pytest.raises(ConfigError, match="unique"):
        parse_catalogue("models:\n  - {name: a, repo: r}\n  - {name: A, repo: r}\n")


# -- registry --------------------------------------------------------------------


def test_list_fresh_home(reg: ModelRegistry) -> None:
    rows = reg.list()
    assert [r.name for r in rows] == ["small", "unchecked", "weights-only"]
    assert not any(r.installed for r in rows)
    assert not any(r.is_default for r in rows)  # nothing installed: nothing starred
    assert "no GGUF known" in rows[2].note
    assert reg.default_name() is None and reg.default_spec() is None
    assert reg.resolve("nonexistent") is None
    with pytest.raises(ModelError, match="not downloaded.*rlm models pull small"):
        reg.resolve("small")
    with pytest.raises(ModelError, match="no GGUF known"):
        reg.resolve("weights-only")


def test_add_resolve_rm_local(reg: ModelRegistry, tmp_path: Path) -> None:
    path = _gguf(tmp_path)
    entry = reg.add(path, "mine")
    assert entry.installed and entry.source == "local" and entry.size_bytes == len(GGUF_BYTES)
    assert reg.resolve("mine") == path.resolve()
    assert reg.resolve("MINE") == path.resolve()
    # one alias mechanism: `models add` writes config.yaml aliases, as `config set aliases.*`
    assert read_config_file()["aliases"] == {"mine": str(path.resolve())}
    assert reg.get("mine").is_default and reg.default_spec() == "mine"  # the only one
    assert reg.add(path, "mine").path == path.resolve()  # again: nothing to do
    with pytest.raises(ModelError, match="already taken"):
        reg.add(_gguf(tmp_path, "other.gguf"), "mine")
    assert reg.add(_gguf(tmp_path, "other.gguf"), "mine", replace=True).installed
    assert reg.add(path, "mine", replace=True).path == path.resolve()
    assert reg.rm("mine") is None  # files added by path are never deleted
    assert path.exists() and reg.resolve("mine") is None


def test_add_validates(reg: ModelRegistry, tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="no such file"):
        reg.add(tmp_path / "missing.gguf", "x")
    notgguf = tmp_path / "x.gguf"
    notgguf.write_bytes(b"<html>login</html>")
    with pytest.raises(ModelError, match="not a GGUF"):
        reg.add(notgguf, "x")
    for bad in ("openai:x", "a/b", "x.gguf", "", "-x"):
        with pytest.raises(UsageError):
            reg.add(_gguf(tmp_path), bad)


def test_registered_file_gone(reg: ModelRegistry, tmp_path: Path) -> None:
    path = _gguf(tmp_path)
    reg.add(path, "mine")
    path.unlink()
    with pytest.raises(ModelError, match="file is gone"):
        reg.resolve("mine")
    assert "file missing" in reg.get("mine").note
    reg.rm("mine")
    assert reg.get("mine") is None


def test_a_catalogue_file_added_by_path_takes_the_catalogue_name(
    reg: ModelRegistry, tmp_path: Path
) -> None:
    entry = reg.add(_gguf(tmp_path, "small-Q4_K_M.gguf"))
    assert entry.name == "small" and entry.installed and entry.catalogue is not None
    assert [r.name for r in reg.list() if r.installed] == ["small"]


def test_local_file_for_a_catalogue_name(reg: ModelRegistry, tmp_path: Path) -> None:
    path = _gguf(tmp_path, "converted.gguf")
    reg.add(path, "weights-only")
    assert reg.resolve("weights-only") == path.resolve()
    assert reg.get("weights-only").catalogue is not None  # still the catalogue row


def test_pull_catalogue_model_via_mirror(reg: ModelRegistry, home: Path) -> None:
    files = {"/org/small-GGUF/resolve/main/small-Q4_K_M.gguf": GGUF_BYTES}
    with FileServer(files) as srv:
        entry = reg.pull("small", progress=False, mirror=srv.base)
        again = reg.pull("small", progress=False, mirror=srv.base)
    assert entry.installed and again.installed
    assert len(srv.log) == 1  # the second pull found it on disk
    dest = paths.models_dir() / "small-Q4_K_M.gguf"
    assert dest.read_bytes() == GGUF_BYTES
    assert reg.resolve("small") == dest.resolve()
    assert json.loads(reg.registry_path.read_text())["models"]["small"]["source"] == "catalogue"
    assert reg.rm("small") == dest.resolve()  # downloaded files are deleted
    assert not dest.exists()
    with pytest.raises(ModelError, match="no installed model"):
        reg.rm("small")


def test_pull_refuses_non_gguf_and_unknown(reg: ModelRegistry) -> None:
    files = {"/org/unchecked-GGUF/resolve/main/unchecked.gguf": b"<html>please log in</html>"}
    with FileServer(files) as srv, pytest.raises(ModelError, match="did not send a GGUF"):
        reg.pull("unchecked", progress=False, mirror=srv.base)
    assert not (paths.models_dir() / "unchecked.gguf").exists()
    with pytest.raises(ModelError, match="not in the catalogue"):
        reg.pull("nope", progress=False)
    with pytest.raises(ModelError, match="cannot be downloaded: convert it yourself"):
        reg.pull("weights-only", progress=False)


def test_pull_checksum_mismatch(home: Path) -> None:
    cat = parse_catalogue(TEST_CATALOGUE.replace(hashlib.sha256(GGUF_BYTES).hexdigest(), "a" * 64))
    reg = ModelRegistry(paths.models_dir(), cat)
    files = {"/org/small-GGUF/resolve/main/small-Q4_K_M.gguf": GGUF_BYTES}
    with FileServer(files) as srv, pytest.raises(ModelError, match="checksum mismatch"):
        reg.pull("small", progress=False, mirror=srv.base)
    assert not reg.get("small").installed
    assert list(paths.models_dir().glob("small*")) == []


def test_pull_url_with_alias(reg: ModelRegistry) -> None:
    with FileServer({"/dl/My%20Model-Q4.gguf": GGUF_BYTES}) as srv:
        entry = reg.pull(srv.url("/dl/My%20Model-Q4.gguf"), alias="mm", progress=False)
    assert entry.source == "url" and entry.installed
    assert reg.resolve("mm") == (paths.models_dir() / "My Model-Q4.gguf").resolve()
    assert reg.rm("mm") is not None


def test_default_can_be_set_and_falls_back(reg: ModelRegistry, tmp_path: Path) -> None:
    reg.add(_gguf(tmp_path), "mine")
    reg.add(_gguf(tmp_path, "other.gguf"))  # named from the file
    assert reg.default_name() is None  # two installed, none chosen
    with pytest.raises(ModelError, match=r"2 models are installed \(mine, other\)") as exc:
        reg.default_spec()
    assert "rlm models default NAME" in str(exc.value.hint)
    assert not any(r.is_default for r in reg.list())
    reg.set_default("mine")
    assert read_config_file()["model"] == "mine"  # the same as `rlm config set model mine`
    assert reg.default_name() == "mine" and reg.default_spec() == "mine"
    assert [r.name for r in reg.list() if r.is_default] == ["mine"]
    reg.rm("mine")
    assert "model" not in read_config_file()
    assert reg.default_name() == "other"  # the only one left
    with pytest.raises(ModelError, match="unknown model"):
        reg.set_default("ghost")


def test_config_aliases_and_model_show_in_the_list(reg: ModelRegistry, tmp_path: Path) -> None:
    script = tmp_path / "demo.yaml"
    script.write_text("root: []\n")
    write_setting("aliases.demo", f"script:{script}")
    write_setting("aliases.fast", "demo")
    rows = {r.name: r for r in reg.list()}
    assert rows["demo"].installed and rows["demo"].source == "alias"
    assert rows["fast"].installed and rows["fast"].description == "→ demo"
    with pytest.raises(ModelError, match="2 models are installed"):
        reg.default_spec()
    write_setting("model", "fast")
    assert [r.name for r in reg.list() if r.is_default] == ["fast"]
    assert reg.default_spec() == "fast"  # ModelLoader follows the alias chain
    write_setting("model", "openai:http://127.0.0.1:9/v1#x")  # a spec, not a name: a row too
    starred = [r for r in reg.list() if r.is_default]
    assert [(r.name, r.source) for r in starred] == [("openai:http://127.0.0.1:9/v1#x", "config")]
    write_setting("aliases.loop", "loop")
    assert "alias loop" in {r.name: r for r in reg.list()}["loop"].note


def test_registry_write_is_atomic_and_corruption_is_reported(
    reg: ModelRegistry, tmp_path: Path
) -> None:
    with reg._editing() as data:  # what a pull records
        data["models"]["mine"] = {"path": str(_gguf(tmp_path)), "source": "url"}
    leftovers = [p.name for p in paths.models_dir().iterdir() if p.name.startswith(".registry.")]
    assert leftovers in ([], [".registry.lock"])
    reg.registry_path.write_text("{not json")
    with pytest.raises(ModelError, match="cannot read"):
        reg.list()


def test_render_models_table(reg: ModelRegistry, tmp_path: Path) -> None:
    reg.add(_gguf(tmp_path), "mine")
    buf = io.StringIO()
    Console(file=buf, width=200, color_system=None).print(render_models_table(reg.list()))
    text = buf.getvalue()
    lines = {
        line.split()[0] if not line.startswith("*") else line.split()[1]: line
        for line in text.splitlines()[1:]
        if line.strip()
    }
    assert lines["mine"].lstrip().startswith("*")  # the only installed model is the default
    assert not lines["small"].lstrip().startswith("*")  # not installed: never starred
    assert "~0.0002 GB" in lines["small"] and "4K" in lines["small"]
    assert "unknown" in lines["unchecked"]  # no checksum: said so
    assert "no GGUF known" in lines["weights-only"]
    assert str(tmp_path / "mine.gguf") in lines["mine"] and "yes" in lines["mine"]
