"""Plain JSON forms of records: their fields by name, in a fixed order."""

from __future__ import annotations

from typing import Any


def pick(obj: object, names: str, **values: Any) -> dict[str, Any]:
    """``{name: obj.name}`` for each of the space-separated ``names``, in that order (the
    order the JSON is written in); a name given in ``values`` takes that value instead (a
    rounded number, a converted list, a field stored under another name)."""
    keys = names.split()
    unknown = values.keys() - set(keys)
    if unknown:
        raise TypeError(f"pick: {sorted(unknown)} not among the names")
    return {k: values[k] if k in values else getattr(obj, k) for k in keys}
