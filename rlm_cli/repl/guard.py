"""Language layer of the sandbox: an AST check and a restricted builtins mapping.

``check(source)`` refuses code that could walk out of the namespace it runs in
(dunder attributes, frame/traceback/generator internals, string-named attribute
access, including positional class patterns in ``match``, which read the attributes
``__match_args__`` names; imports outside :data:`ALLOWED_MODULES`).  ``safe_builtins()`` is the
``__builtins__`` mapping for that namespace; its ``__import__`` hands out
*filtered copies* of the allowed modules: public names only, no module-valued
attributes (``json.codecs``, ``fnmatch.os``, ``typing.sys`` would otherwise be
roads to ``open`` and ``os``), and none of the few functions that turn strings
into attribute access or ``eval`` (:data:`DENIED_NAMES`).

This is one wall of three: process limits (``limits.py``) and OS isolation
(``isolation.py``) stand behind it.  It is static, so a string built at run time
can still reach ``str.format``; that road only yields strings, never objects.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import re
import types
from collections.abc import Iterable, Iterator, Mapping

ALLOWED_MODULES: frozenset[str] = frozenset(
    {
        "re",
        "json",
        "math",
        "statistics",
        "collections",
        "collections.abc",
        "itertools",
        "functools",
        "datetime",
        "heapq",
        "bisect",
        "string",
        "textwrap",
        "difflib",
        "fnmatch",
        "operator",
        "random",
        "time",
        "decimal",
        "fractions",
        "typing",
        "dataclasses",
    }
)

# Public names of allowed modules that turn a string into attribute access or
# into eval: operator.attrgetter('__class__'), string.Formatter().get_field,
# functools.update_wrapper(assigned=[...]), typing.get_type_hints (evals string
# annotations), functools.singledispatch (calls get_type_hints).
DENIED_NAMES: dict[str, frozenset[str]] = {
    "operator": frozenset({"attrgetter", "methodcaller"}),
    "string": frozenset({"Formatter"}),
    "functools": frozenset({"update_wrapper", "wraps", "singledispatch", "singledispatchmethod"}),
    "typing": frozenset({"get_type_hints", "ForwardRef"}),
}
_DENIED_ANYWHERE = frozenset().union(*DENIED_NAMES.values())

# Builtins the model does not get, with the reason shown when it tries.
_BLOCKED_BUILTINS: dict[str, str] = {
    "eval": "eval() is not available",
    "exec": "exec() is not available",
    "compile": "compile() is not available",
    "open": "open() is not available; the log is in `context`",
    "getattr": "getattr() is not available; use obj.name",
    "setattr": "setattr() is not available; use obj.name = value",
    "delattr": "delattr() is not available",
    "globals": "globals() is not available",
    "locals": "locals() is not available",
    "vars": "vars() is not available",
    "breakpoint": "breakpoint() is not available",
    "input": "input() is not available; nobody is typing",
    "memoryview": "memoryview() is not available",
    "help": "help() is not available",
    "exit": "exit() is not available; end with FINAL(...)",
    "quit": "quit() is not available; end with FINAL(...)",
}

# Attribute names of interpreter internals, refused even without underscores.
_INTERNAL_ATTRS = frozenset(
    {
        "gi_frame",
        "gi_code",
        "gi_yieldfrom",
        "cr_frame",
        "cr_code",
        "cr_await",
        "cr_origin",
        "ag_frame",
        "ag_code",
        "ag_await",
        "tb_frame",
        "tb_next",
        "f_back",
        "f_globals",
        "f_locals",
        "f_builtins",
        "f_code",
        "f_trace",
        "co_code",
        "co_consts",
        "co_names",
        "func_globals",
        "func_code",
        "func_closure",
        "func_defaults",
        "im_func",
        "im_self",
        "cell_contents",
    }
)

# Attribute names that are modules on some allowed module (fnmatch.os,
# statistics.sys, dataclasses.builtins); the filtered copies drop them too.
_MODULE_ATTRS = frozenset(
    [
        "os",
        "sys",
        "builtins",
        "codecs",
        "subprocess",
        "importlib",
        "posix",
        "posixpath",
        "ctypes",
        "pickle",
        "marshal",
        "inspect",
        "gc",
        "socket",
        "shutil",
    ]
)

# Dunder methods a class body may define (defining is harmless, reading is not).
_DEFINABLE_DUNDERS = frozenset(
    [
        "__init__",
        "__post_init__",
        "__repr__",
        "__str__",
        "__eq__",
        "__ne__",
        "__lt__",
        "__le__",
        "__gt__",
        "__ge__",
        "__hash__",
        "__len__",
        "__iter__",
        "__next__",
        "__contains__",
        "__getitem__",
        "__setitem__",
        "__bool__",
        "__add__",
        "__sub__",
        "__mul__",
        "__truediv__",
        "__radd__",
        "__enter__",
        "__exit__",
        "__call__",
    ]
)

_BUILTIN_KEEP = frozenset(
    [
        "abs",
        "aiter",
        "all",
        "anext",
        "any",
        "ascii",
        "bin",
        "bool",
        "bytearray",
        "bytes",
        "callable",
        "chr",
        "classmethod",
        "complex",
        "dict",
        "dir",
        "divmod",
        "enumerate",
        "filter",
        "float",
        "format",
        "frozenset",
        "hasattr",
        "hash",
        "hex",
        "id",
        "int",
        "isinstance",
        "issubclass",
        "iter",
        "len",
        "list",
        "map",
        "max",
        "min",
        "next",
        "object",
        "oct",
        "ord",
        "pow",
        "print",
        "property",
        "range",
        "repr",
        "reversed",
        "round",
        "set",
        "slice",
        "sorted",
        "staticmethod",
        "str",
        "sum",
        "super",
        "tuple",
        "type",
        "zip",
        "True",
        "False",
        "None",
        "Ellipsis",
        "NotImplemented",
    ]
)

_DUNDER_IN_STRING = re.compile(r"__\w+__")
# A str.format field that reaches a private attribute: "{0._x}", "{a.__class__}".
_FORMAT_PRIVATE = re.compile(r"\{[^{}]*\.\s*_[^{}]*\}")
_MAX_REASONS = 3
_IMPORT_REFUSAL = "is not an allowed module"


class Refused(Exception):
    """Code the guard will not run; ``reason`` tells the model what to change."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def check(
    source: str, *, library_names: Iterable[str] = (), bound_names: Iterable[str] = ()
) -> None:
    """Raise :class:`Refused` if ``source`` uses anything outside the sandbox's language.

    ``library_names``: names already bound in the namespace to library modules,
    classes or functions (see :func:`library_names`), whose attributes the code
    must not assign; names imported by ``source`` itself and builtins are
    covered without it.  ``bound_names``: every name the namespace already
    binds (a rebound ``str`` makes ``case str(x)`` a positional attribute read).  A :class:`SyntaxError` propagates unchanged, so it
    reads like plain Python.
    """
    try:
        tree = ast.parse(source, mode="exec")
    except (RecursionError, MemoryError):
        raise Refused("code is nested too deeply to check; split it into smaller steps") from None
    reasons: list[str] = []
    found = [*_violations(tree, bound_names), *_library_stores(tree, set(library_names))]
    for line, reason in sorted(found, key=lambda item: item[0]):
        text = f"line {line}: {reason}"
        if text not in reasons:
            reasons.append(text)
    if reasons:
        shown = reasons[:_MAX_REASONS]
        if len(reasons) > len(shown):
            shown.append(f"and {len(reasons) - len(shown)} more")
        message = "; ".join(shown)
        if any(_IMPORT_REFUSAL in r for r in shown):
            message += f" (allowed modules: {_allowed_list()})"
        raise Refused(message)


def _allowed_list() -> str:
    return ", ".join(sorted(m for m in ALLOWED_MODULES if "." not in m))


def _name_problem(name: str, what: str) -> str | None:
    if name == "__name__":
        return (
            "'__name__' is not available; no `if __name__ == '__main__':` needed, code runs as is"
        )
    if name.startswith("__"):
        return f"{what} '{name}' is not allowed (names starting with '__' are off limits)"
    if name in _BLOCKED_BUILTINS:
        return _BLOCKED_BUILTINS[name]
    if name in _DENIED_ANYWHERE:
        return f"'{name}' is not available in this sandbox"
    return None


def _attr_problem(attr: str) -> str | None:
    if attr.startswith("__"):
        return f"attribute '{attr}' is not allowed (dunder attributes are off limits)"
    if attr.startswith("_"):
        return (
            f"attribute '{attr}' is not allowed (attributes starting with '_' are off limits;"
            " for your own fields use e.g. self.count, not self._count)"
        )
    if attr in _INTERNAL_ATTRS:
        return f"attribute '{attr}' reaches interpreter internals and is not allowed"
    if attr in _MODULE_ATTRS:
        return (
            f"attribute '{attr}' names a module and is not allowed; import allowed modules directly"
        )
    if attr in _DENIED_ANYWHERE:
        return f"'{attr}' is not available in this sandbox"
    return None


def _import_problem(module: str) -> str | None:
    if module not in ALLOWED_MODULES:
        return f"import of '{module}' {_IMPORT_REFUSAL}"
    return None


def _bound_names(tree: ast.AST) -> set[str]:
    """Every name ``tree`` binds anywhere (assignments, defs, imports, parameters, captures)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).partition(".")[0])
        elif isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)) and node.name:
            names.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            names.add(node.rest)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            names.update(node.names)
    return names


def _violations(tree: ast.AST, bound: Iterable[str] = ()) -> Iterator[tuple[int, str]]:
    """Yield (line, reason) for each construct the sandbox refuses."""
    rebound = _bound_names(tree) | set(bound)
    class_bodies = {
        id(stmt) for node in ast.walk(tree) if isinstance(node, ast.ClassDef) for stmt in node.body
    }
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 1)
        problem: str | None = None
        if isinstance(node, ast.Name):
            problem = _name_problem(node.id, "name")
        elif isinstance(node, ast.Attribute):
            problem = _attr_problem(node.attr)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                problem = _import_problem(alias.name) or _alias_problem(alias)
                if problem:
                    break
        elif isinstance(node, ast.ImportFrom):
            problem = _import_from_problem(node)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            problem = _def_problem(node, in_class=id(node) in class_bodies)
        elif isinstance(node, ast.ClassDef):
            problem = _name_problem(node.name, "class name") or _class_problem(node)
        elif isinstance(node, ast.arg):
            problem = _name_problem(node.arg, "parameter")
        elif isinstance(node, ast.keyword) and node.arg is not None:
            problem = _name_problem(node.arg, "keyword argument")
        elif isinstance(node, ast.Call):
            problem = _call_problem(node)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            problem = _string_problem(node.value)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            problem = next((p for n in node.names if (p := _name_problem(n, "name"))), None)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            problem = _name_problem(node.name, "name")
        elif isinstance(node, ast.MatchClass):
            problem = _match_class_problem(node, rebound)
        elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
            problem = _name_problem(node.name, "name")
        elif isinstance(node, ast.MatchMapping) and node.rest:
            problem = _name_problem(node.rest, "name")
        if problem:
            yield line, problem


def _library_stores(tree: ast.AST, known: set[str]) -> Iterator[tuple[int, str]]:
    """Refuse assigning or deleting attributes of library objects (``json.JSONEncoder.encode = f``).

    Library classes are shared with the worker's own code: patching them would
    run model code, with worker objects as arguments, outside any step.
    """
    library = known | _BUILTIN_KEEP
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            library.update((a.asname or a.name).partition(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            library.update(a.asname or a.name for a in node.names if a.name != "*")
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, (ast.Store, ast.Del)):
            root: ast.expr = node
            while isinstance(root, (ast.Attribute, ast.Subscript)):
                root = root.value
            if isinstance(root, ast.Name) and root.id in library:
                yield (
                    node.lineno,
                    (
                        f"changing attributes of library object '{root.id}' is not allowed;"
                        " subclass it or wrap it in your own function"
                    ),
                )


def library_names(namespace: Mapping[str, object], sandbox_name: str = "__sandbox__") -> set[str]:
    """Names in ``namespace`` bound to modules or to classes/functions not defined by the model.

    Model-defined classes and functions carry ``__module__ == sandbox_name``
    (the worker sets ``namespace['__name__']`` to it).
    """
    names = set()
    for key, value in namespace.items():
        if key.startswith("__"):
            continue
        callable_kinds = (type, types.FunctionType, types.BuiltinFunctionType)
        if isinstance(value, types.ModuleType) or (
            isinstance(value, callable_kinds) and getattr(value, "__module__", None) != sandbox_name
        ):
            names.add(key)
    return names


def _alias_problem(alias: ast.alias) -> str | None:
    return _name_problem(alias.asname, "alias") if alias.asname else None


def _import_from_problem(node: ast.ImportFrom) -> str | None:
    if node.level:
        return "relative imports are not allowed"
    module = node.module or ""
    problem = _import_problem(module)
    if problem:
        return problem
    for alias in node.names:
        if alias.name == "*":
            continue
        if alias.name.startswith("_"):
            return f"importing private name '{alias.name}' from '{module}' is not allowed"
        if alias.name in DENIED_NAMES.get(module, ()):
            return f"'{alias.name}' from '{module}' is not available in this sandbox"
        if "." not in alias.name and f"{module}.{alias.name}" in _submodules_blocked(module):
            return f"module '{module}.{alias.name}' {_IMPORT_REFUSAL}"
        problem = _alias_problem(alias)
        if problem:
            return problem
    return None


def _submodules_blocked(module: str) -> frozenset[str]:
    """Names ``module.x`` that are modules but not allowed (e.g. ``json.decoder``)."""
    real = importlib.import_module(module)
    return frozenset(
        f"{module}.{name}"
        for name, value in vars(real).items()
        if isinstance(value, types.ModuleType) and f"{module}.{name}" not in ALLOWED_MODULES
    )


def _def_problem(node: ast.FunctionDef | ast.AsyncFunctionDef, *, in_class: bool) -> str | None:
    if in_class and node.name in _DEFINABLE_DUNDERS:
        problem = None
    else:
        problem = _name_problem(node.name, "function name")
    return problem or _decorators_problem(node.decorator_list)


def _class_problem(node: ast.ClassDef) -> str | None:
    for kw in node.keywords:
        if kw.arg == "metaclass":
            return "metaclass= is not allowed; define a plain class"
    return _decorators_problem(node.decorator_list)


def _decorators_problem(decorators: list[ast.expr]) -> str | None:
    """Decorators may be names, dotted names, or calls of those (all still checked)."""
    for dec in decorators:
        target = dec.func if isinstance(dec, ast.Call) else dec
        while isinstance(target, ast.Attribute):
            target = target.value
        if not isinstance(target, ast.Name):
            return "decorators must be a name like @cache or @functools.lru_cache(...)"
    return None


def _call_problem(node: ast.Call) -> str | None:
    func = node.func
    if isinstance(func, ast.Name) and func.id == "type" and len(node.args) + len(node.keywords) > 1:
        return "type() with 3 arguments is not allowed; use a class statement"
    return None


# Builtin types whose one positional class pattern matches the subject itself
# (``case str(x)``): no attribute is read.
_MATCH_SELF = frozenset(
    [
        "bool",
        "bytearray",
        "bytes",
        "dict",
        "float",
        "frozenset",
        "int",
        "list",
        "set",
        "str",
        "tuple",
    ]
)


def _match_class_problem(node: ast.MatchClass, rebound: set[str]) -> str | None:
    """``case C(x)`` reads the attribute named by ``C.__match_args__`` from the subject.

    A class built at run time (``type(type)(name, bases, {...})``, ``make_dataclass``)
    can carry any ``__match_args__`` and a metaclass whose ``__instancecheck__`` accepts
    every subject: positional class patterns would then be a ``getattr`` with a string
    made at run time, on any object. Keyword patterns name their attributes in the
    source, where the checks above see them. ``case str(x)`` stays allowed while
    ``str`` is the builtin (not rebound in this code or in the namespace).
    """
    self_match = (
        isinstance(node.cls, ast.Name)
        and node.cls.id in _MATCH_SELF
        and node.cls.id not in rebound
        and len(node.patterns) == 1
    )
    if node.patterns and not self_match:
        return (
            "positional class patterns like `case C(x)` are not allowed; "
            "use keyword patterns (`case C(name=x)`) or `case C() as x`"
        )
    return next((p for a in node.kwd_attrs if (p := _attr_problem(a))), None)


def _string_problem(text: str) -> str | None:
    if _DUNDER_IN_STRING.search(text):
        return "strings naming dunder attributes (like '__class__') are not allowed"
    if _FORMAT_PRIVATE.search(text):
        return "format fields reaching '_' attributes (like '{0._x}') are not allowed"
    return None


# --------------------------------------------------------------------------- builtins


_PROXIES: dict[str, types.ModuleType] = {}

# C code (datetime.strptime, time.strptime) imports these helpers through the
# *calling frame's* ``__import__``, i.e. ours.  Model code cannot name them: the
# guard refuses ``import _strptime`` and ``__builtins__`` is unreachable.
IMPLEMENTATION_IMPORTS: frozenset[str] = frozenset({"_strptime"})


def _denied_objects() -> list[object]:
    found: list[object] = []
    for module, names in DENIED_NAMES.items():
        real = importlib.import_module(module)
        found.extend(getattr(real, name) for name in names if hasattr(real, name))
    found.extend(getattr(builtins, name) for name in _BLOCKED_BUILTINS if hasattr(builtins, name))
    return found


def sandbox_module(name: str) -> types.ModuleType:
    """A filtered copy of allowed module ``name``: public, non-module, non-denied names.

    Allowed submodules (``collections.abc``) appear as filtered copies too.  The
    copy's ``__name__`` is not importable, so ``from json import decoder`` cannot
    fall back to ``sys.modules['json.decoder']``.
    """
    if name not in ALLOWED_MODULES:
        raise ImportError(f"import of '{name}' is not allowed; allowed: {_allowed_list()}")
    cached = _PROXIES.get(name)
    if cached is not None:
        return cached
    real = importlib.import_module(name)
    proxy = types.ModuleType(f"{name} (sandboxed)", real.__doc__)
    denied = _denied_objects()
    for attr, value in vars(real).items():
        if attr.startswith("_") or attr in DENIED_NAMES.get(name, ()):
            continue
        if isinstance(value, types.ModuleType):
            if f"{name}.{attr}" in ALLOWED_MODULES:
                setattr(proxy, attr, sandbox_module(f"{name}.{attr}"))
            continue
        if any(value is d for d in denied):
            continue
        setattr(proxy, attr, value)
    _PROXIES[name] = proxy
    return proxy


def _safe_import(
    name: str,
    globals: object = None,  # noqa: A002 - the signature of builtins.__import__
    locals: object = None,  # noqa: A002
    fromlist: tuple[str, ...] | list[str] | None = (),
    level: int = 0,
) -> types.ModuleType:
    """``__import__`` for the sandbox: allowed modules only, as filtered copies."""
    if level:
        raise ImportError("relative imports are not allowed")
    if name in IMPLEMENTATION_IMPORTS:
        return importlib.import_module(name)
    if name not in ALLOWED_MODULES:
        raise ImportError(f"import of '{name}' is not allowed; allowed: {_allowed_list()}")
    if fromlist:
        return sandbox_module(name)
    return sandbox_module(name.partition(".")[0])


def safe_builtins() -> dict[str, object]:
    """The ``__builtins__`` mapping for model code: no eval/exec/open/getattr/...

    Keeps ``print`` (the worker redirects stdout), every exception class, a
    ``__build_class__`` for class statements and an ``__import__`` limited to
    :data:`ALLOWED_MODULES`.
    """
    mapping: dict[str, object] = {}
    for name, value in vars(builtins).items():
        if name in _BUILTIN_KEEP or (
            isinstance(value, type)
            and issubclass(value, BaseException)
            and not name.startswith("_")
        ):
            mapping[name] = value
    mapping["__build_class__"] = builtins.__build_class__
    mapping["__import__"] = _safe_import
    mapping["__name__"] = "builtins"
    return mapping
