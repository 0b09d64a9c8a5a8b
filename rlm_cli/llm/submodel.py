"""A smaller sub-model of the root's family, picked from what is installed (``sub_model_auto``).

Sub-calls read pieces of log and answer short questions; a 0.5B model of the same family
does that several times faster than a 1.5B root. With ``sub_model_auto: auto`` and no
``--sub-model``, the sub-model is the largest installed GGUF of the root's family
(architecture and base name from the GGUF header, same instruct-or-base tuning) whose
size is at most half the root's. Candidates: the GGUF files beside the root model and
the models in the registry (``rlm models list``).
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from pathlib import Path

_SCALARS = {
    0: "<B",
    1: "<b",
    2: "<H",
    3: "<h",
    4: "<I",
    5: "<i",
    6: "<f",
    7: "<?",
    10: "<Q",
    11: "<q",
    12: "<d",
}
_WANTED = ("general.architecture", "general.basename", "general.size_label", "general.finetune")


def read_general(path: Path, max_keys: int = 64) -> dict[str, object]:
    """The ``general.*`` keys of a GGUF header (read until they are found; {} if unreadable)."""
    out: dict[str, object] = {}
    try:
        with open(path, "rb") as f:
            if f.read(4) != b"GGUF":
                return {}
            _version, _n_tensors, n_kv = struct.unpack("<IQQ", f.read(20))
            for _ in range(min(n_kv, max_keys)):
                key = _string(f)
                if out and not key.startswith("general."):
                    break  # writers put general.* first; the rest (vocabularies) is large
                (vtype,) = struct.unpack("<I", f.read(4))
                value = _value(f, vtype)
                if key.startswith("general."):
                    out[key] = value
                if all(k in out for k in _WANTED):
                    break
    except (OSError, struct.error, ValueError, UnicodeDecodeError):
        return out
    return out


def _string(f) -> str:
    (n,) = struct.unpack("<Q", f.read(8))
    if n > 1 << 20:
        raise ValueError("string too long")
    return f.read(n).decode("utf-8")


def _value(f, vtype: int):
    if vtype in _SCALARS:
        fmt = _SCALARS[vtype]
        return struct.unpack(fmt, f.read(struct.calcsize(fmt)))[0]
    if vtype == 8:
        return _string(f)
    if vtype == 9:
        (itype,) = struct.unpack("<I", f.read(4))
        (count,) = struct.unpack("<Q", f.read(8))
        if itype in _SCALARS:
            f.seek(count * struct.calcsize(_SCALARS[itype]), 1)
        else:
            for _ in range(count):
                _value(f, itype)
        return None
    raise ValueError(f"unknown GGUF value type {vtype}")


def parameters(label: object) -> float | None:
    """``"1.5B"`` → 1.5e9, ``"270M"`` → 2.7e8; None when it does not say."""
    m = re.fullmatch(r"\s*([\d.]+)\s*([KMBT])\s*", str(label or ""), re.IGNORECASE)
    if not m:
        return None
    scale = {"K": 1e3, "M": 1e6, "B": 1e9, "T": 1e12}[m.group(2).upper()]
    return float(m.group(1)) * scale


@dataclass(frozen=True)
class ModelInfo:
    """What decides whether one GGUF can stand in for another's sub-calls."""

    path: Path
    family: tuple[str, str, bool]
    """(architecture, base name, instruct-tuned)."""
    size: float
    """Parameters when the header says, else file bytes × 2 (about 4 bits a weight)."""

    @classmethod
    def of(cls, path: Path) -> ModelInfo | None:
        meta = read_general(path)
        arch = str(meta.get("general.architecture") or "")
        if not arch:
            return None
        base = str(meta.get("general.basename") or "").lower()
        instruct = "instruct" in str(meta.get("general.finetune") or "").lower() or (
            "instruct" in path.name.lower()
        )
        size = parameters(meta.get("general.size_label"))
        if size is None:
            size = path.stat().st_size * 2.0
        return cls(path=path, family=(arch, base, instruct), size=size)


def candidates(root: Path) -> list[Path]:
    """GGUF files beside ``root`` and installed registry models, without ``root``."""
    found: dict[Path, None] = {}
    try:
        for p in sorted(root.parent.glob("*.gguf")):
            found[p.resolve()] = None
    except OSError:
        pass
    try:
        from rlm_cli.llm.registry import ModelRegistry

        for entry in ModelRegistry().list():
            if entry.installed and entry.path is not None:
                found[Path(entry.path).resolve()] = None
    except Exception:  # noqa: BLE001 - a broken registry must not stop a run
        pass
    found.pop(root.resolve(), None)
    return list(found)


def pick_sub_model(root: Path, among: list[Path] | None = None, ratio: float = 0.5) -> Path | None:
    """The largest model of ``root``'s family at most ``ratio`` × its size, or None."""
    me = ModelInfo.of(root)
    if me is None or not me.family[1]:
        return None
    best: ModelInfo | None = None
    for p in candidates(root) if among is None else among:
        try:
            info = ModelInfo.of(p)
        except OSError:
            continue
        if info is None or info.family != me.family or info.size > ratio * me.size:
            continue
        if best is None or info.size > best.size:
            best = info
    return best.path if best else None
