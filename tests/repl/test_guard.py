"""The language layer: known escape roads are refused, ordinary analysis code is not."""

from __future__ import annotations

import builtins
import textwrap
import types

import pytest

from rlm_cli.repl.guard import ALLOWED_MODULES, Refused, check, safe_builtins, sandbox_module

# Escape attempts collected from public Python sandbox-escape write-ups
# (pyjail CTF notes, RestrictedPython / smolagents advisories, HackTricks "bypass
# python sandboxes").  Each must be refused by check().
ESCAPES = {
    "subclasses walk": "().__class__.__base__.__subclasses__()",
    "mro walk": "''.__class__.__mro__[1].__subclasses__()",
    "catch_warnings builtins": (
        "[c for c in ().__class__.__bases__[0].__subclasses__()"
        " if c.__name__ == 'catch_warnings'][0]()._module.__builtins__"
    ),
    "func globals": "def f(): pass\nf.__globals__",
    "format attribute": "'{0.__class__}'.format(1)",
    "format_map attribute": "'{x.__globals__}'.format_map({'x': print})",
    "format private attr": "'{0._module}'.format(1)",
    "format index dunder": "'{0[__builtins__]}'.format({})",
    "generator frame": "def g():\n    yield 1\nx = g()\nx.gi_frame.f_back.f_globals",
    "generator code consts": "def g():\n    yield 1\ng().gi_code.co_consts",
    "coroutine frame": "async def f():\n    pass\nf().cr_frame",
    "async generator frame": "async def f():\n    yield 1\nf().ag_frame",
    "traceback dunder": "try:\n    1/0\nexcept Exception as e:\n    tb = e.__traceback__",
    "traceback frame": "def h(tb):\n    return tb.tb_frame.f_globals",
    "traceback next": "def h(tb):\n    return tb.tb_next",
    "frame builtins": "def h(fr):\n    return fr.f_builtins",
    "py2 func_globals": "def f(): pass\nf.func_globals",
    "builtins name": "__builtins__['eval']('1')",
    "builtins dict": "__builtins__.__dict__",
    "dunder import": "__import__('os')",
    "import os": "import os",
    "import sys": "import sys\nsys.modules['os']",
    "import pickle": "import pickle",
    "import marshal": "import marshal",
    "import codecs": "import codecs",
    "import ctypes": "import ctypes",
    "import importlib": "import importlib",
    "from importlib": "from importlib import import_module",
    "import subprocess": "import subprocess",
    "import builtins": "import builtins",
    "from os": "from os import system",
    "relative import": "from . import x",
    "json codecs road": "from json import codecs",
    "dataclasses builtins road": "from dataclasses import builtins",
    "fnmatch os road": "import fnmatch\nfnmatch.os.system('id')",
    "statistics sys road": "import statistics\nstatistics.sys.modules",
    "eval": "eval('1+1')",
    "exec": "exec('x=1')",
    "compile": "compile('1', 'a', 'eval')",
    "open": "open('/etc/passwd').read()",
    "with open": "with open('x') as f:\n    pass",
    "getattr dunder": "getattr((), '__class__')",
    "getattr plain": "getattr(print, 'x')",
    "setattr": "setattr(print, 'x', 1)",
    "delattr": "delattr(print, 'x')",
    "vars": "vars()",
    "globals": "globals()['x']",
    "locals": "locals()",
    "breakpoint": "breakpoint()",
    "input": "input()",
    "memoryview": "memoryview(b'x')",
    "help": "help()",
    "exit": "exit()",
    "type 3 args": "type('X', (), {'y': 1})",
    "print self": "print.__self__",
    "attrgetter import": "from operator import attrgetter",
    "attrgetter attribute": "import operator\noperator.attrgetter('a')",
    "methodcaller": "import operator\noperator.methodcaller('a')",
    "string Formatter": "import string\nstring.Formatter().get_field('0.a', [1], {})",
    "reduce getattr": "import functools\nfunctools.reduce(getattr, ['a'], 1)",
    "update_wrapper": "import functools\nfunctools.update_wrapper(1, 2, assigned=['a'])",
    "wraps": "from functools import wraps",
    "singledispatch": "from functools import singledispatch",
    "get_type_hints": "import typing\ntyping.get_type_hints(print)",
    "ForwardRef": "from typing import ForwardRef",
    "decorator exec": "@exec\ndef f():\n    pass",
    "decorator lambda": "@(lambda f: f)\ndef g():\n    pass",
    "decorator subscript": "@[print][0]\ndef g():\n    pass",
    "metaclass": "class M(type):\n    pass\nclass A(metaclass=M):\n    pass",
    "getattribute hook": "class A:\n    def __getattribute__(self, n):\n        pass",
    "module getattr": "def __getattr__(n):\n    pass",
    "match class dunder": "match 1:\n    case object(__class__=c):\n        pass",
    "lambda default": "(lambda f=().__class__: f)()",
    "global builtins": "def f():\n    global __builtins__",
    "del builtins": "del __builtins__",
    "dunder alias": "import re as __re",
    "dunder keyword": "print(__x=1)",
    "dunder param": "def f(__x):\n    pass",
    "dict dunder": "print.__dict__",
    "reduce_ex": "object.__reduce_ex__(1, 2)",
    "private name import": "from re import _compile",
    "except dunder name": "try:\n    pass\nexcept Exception as __e:\n    pass",
    "kwargs dunder string": "print(**{'__class__': 1})",
    "patch library class": "import json\njson.JSONEncoder.encode = print",
    "patch imported class": "from collections import Counter\nCounter.most_common = None",
    "patch aliased import": "import collections as c\nc.Counter.update = None",
    "patch builtin": "str.upper = None",
    "delete library attr": "import json\ndel json.JSONDecoder.decode",
}

# Ordinary analysis code a small model writes.  Each must pass check() AND run in
# the sandboxed namespace (so safe_builtins() and the module copies suffice).
LEGIT = {
    "regex findall": "errs = [l for l in lines if re.search(r'ERROR|FATAL', l)]\nprint(len(errs))",
    "regex ip": "ips = re.findall(r'(?:\\d{1,3}\\.){3}\\d{1,3}', text)\nprint(ips[:3])",
    "counter": "c = Counter(l.split()[2] for l in lines)\nprint(c.most_common(2))",
    "sorted key lambda": "d = {'a': 3, 'b': 1}\nprint(sorted(d.items(), key=lambda kv: -kv[1]))",
    "sorted key get": "d = {'a': 3, 'b': 1}\nprint(sorted(d, key=d.get, reverse=True))",
    "comprehensions": "s = {w for l in lines for w in l.split()}\nm = {i: l for i, l in enumerate(lines, start=1)}\ng = sum(len(l) for l in lines)",
    "f-strings": "name, n = 'node1', 4\nprint(f'{name}: {n:>5} {n!r} {lines[0][:10]} {text.count(chr(10))}')",
    "f-string attribute": "m = re.search(r'node(\\d+)', text)\nprint(f'{m.group(1)} at {m.start()}')",
    "str.format plain": "print('{} {}'.format(1, 2), '{name}'.format(name='x'), '%s=%d' % ('a', 1))",
    "class with methods": (
        "class Node:\n    def __init__(self, name):\n        self.name = name\n        self.errors = 0\n"
        "    def __repr__(self):\n        return f'Node({self.name})'\n"
        "    def bump(self):\n        self.errors += 1\n        return self\n"
        "print(Node('a').bump())"
    ),
    "dataclass": (
        "from dataclasses import dataclass, field\n@dataclass\nclass Ev:\n    line: int\n"
        "    tags: list = field(default_factory=list)\nprint(Ev(3))"
    ),
    "try except": "try:\n    int('x')\nexcept ValueError as e:\n    print('bad', e)\nfinally:\n    pass",
    "functions": (
        "def parse(line, sep=' ', *rest, **opts):\n    return line.split(sep)\n"
        "def outer():\n    n = 0\n    def inner():\n        nonlocal n\n        n += 1\n"
        "        return n\n    return inner()\nprint(parse('a b'), outer())"
    ),
    "underscore loop var": "for _ in range(3):\n    pass\nprint([_x for _x in range(2)])",
    "imports": (
        "import re, json, math\nfrom collections import defaultdict, Counter, deque\n"
        "import collections.abc\nprint(json.dumps({'a': math.sqrt(4)}, indent=2))"
    ),
    "datetime": (
        "from datetime import datetime, timedelta\n"
        "t = datetime.strptime('2024-01-02 03:04:05', '%Y-%m-%d %H:%M:%S')\nprint(t + timedelta(hours=1))"
    ),
    "lru_cache decorator": "import functools\n@functools.lru_cache(maxsize=None)\ndef fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\nprint(fib(20))",
    "typing": "from typing import List, Dict, Optional\ndef f(x: List[int]) -> Optional[Dict[str, int]]:\n    return None",
    "statistics": "import statistics\nprint(statistics.mean([1, 2, 3]), statistics.median([1, 5, 2]))",
    "heapq": "import heapq\nd = {'a': 3, 'b': 1, 'c': 9}\nprint(heapq.nlargest(2, d.items(), key=lambda kv: kv[1]))",
    "groupby": "import itertools\nfor k, g in itertools.groupby(sorted(lines), key=lambda l: l[:4]):\n    print(k, len(list(g)))",
    "itemgetter": "from operator import itemgetter\nprint(sorted([(1, 'b'), (0, 'a')], key=itemgetter(1)))",
    "match statement": (
        "def f(cmd):\n    match cmd:\n        case ['go', d]:\n            return d\n"
        "        case {'k': v}:\n            return v\n        case str(x):\n            return x\n"
        "        case _:\n            return None\nprint(f(['go', 1]), f({'k': 2}), f('s'))"
    ),
    "walrus": "if (m := re.search(r'node(\\d+)', text)):\n    print(m.group(0))",
    "while break": "i = 0\nwhile True:\n    i += 1\n    if i > 3:\n        break",
    "global": "count = 0\ndef bump():\n    global count\n    count += 1\nbump()\nprint(count)",
    "assert del": "x = [1]\nassert x, 'empty'\ndel x",
    "string methods": "print([l.strip().lower() for l in lines if l.startswith('2024')][:2])",
    "difflib": "import difflib\nprint(difflib.SequenceMatcher(None, 'abc', 'abd').ratio())",
    "textwrap": "import textwrap\nprint(textwrap.shorten(text, 40))",
    "fnmatch": "import fnmatch\nprint(fnmatch.fnmatch('a.log', '*.log'))",
    "decimal context": "import decimal\nwith decimal.localcontext() as ctx:\n    ctx.prec = 5\n    print(decimal.Decimal(1) / 3)",
    "fractions random": "import fractions, random\nrandom.seed(1)\nprint(fractions.Fraction(1, 3), random.randint(1, 9))",
    "isinstance type": "print(isinstance(lines, list), type(text) is str)",
    "print sep": "print(*lines[:2], sep='\\n')",
    "defaultdict counts": "from collections import defaultdict\nby = defaultdict(int)\nfor l in lines:\n    by[l.split()[2]] += 1\nprint(dict(by))",
    "json roundtrip": "import json\nprint(json.loads(json.dumps({'k': [1, 2]}))['k'])",
    "star import": "from math import *\nprint(floor(2.5))",
    "string template": "import string\nprint(string.Template('$a-$b').substitute(a=1, b=2), string.ascii_letters[:3])",
    "bisect": "import bisect\nprint(bisect.bisect_left([1, 3, 5], 4))",
    "time": "import time\nt0 = time.monotonic()\nprint(time.monotonic() >= t0)",
    "regex quantifier braces": "print(re.findall(r'[a-z]{2,}\\.[a-z]{1,3}', 'x.log abc.txt'))",
    "json literal string": 'import json\nprint(json.loads(\'{"a": [1, {"b": 2}]}\'))',
    "nested class plain": "class A:\n    kind = 'x'\n    class B:\n        pass\nprint(A.kind, A.B)",
    "exceptions raise": "class MyErr(Exception):\n    pass\ntry:\n    raise MyErr('boom')\nexcept MyErr as e:\n    print(e.args)",
}

LINES = [
    "2024-01-02 03:04:05 node1 ERROR disk full",
    "2024-01-02 03:04:06 node2 INFO ok",
    "2024-01-02 03:04:07 node1 FATAL kernel panic 10.0.0.12",
]


def _sandbox_namespace() -> dict[str, object]:
    ns: dict[str, object] = {"__builtins__": safe_builtins()}
    exec("import re\nfrom collections import Counter", ns)  # the worker's usual preamble
    ns["lines"] = list(LINES)
    ns["text"] = "\n".join(LINES)
    return ns


@pytest.mark.parametrize("source", list(ESCAPES.values()), ids=list(ESCAPES))
def test_escape_refused(source: str) -> None:
    with pytest.raises(Refused) as info:
        check(source)
    assert info.value.reason.startswith("line ")


@pytest.mark.parametrize("source", list(LEGIT.values()), ids=list(LEGIT))
def test_legit_code_accepted_and_runs(source: str, capsys: pytest.CaptureFixture[str]) -> None:
    check(source)
    exec(compile(source, "<model>", "exec"), _sandbox_namespace())


def test_library_names_from_earlier_steps() -> None:
    """A class imported in an earlier step is still a library object in this one."""
    from rlm_cli.repl.guard import library_names

    ns = _sandbox_namespace()
    ns["__name__"] = "__sandbox__"
    exec("from collections import Counter as C\nclass Mine:\n    pass\nm = Mine()", ns)
    known = library_names(ns)
    assert "C" in known and "re" in known and "Mine" not in known and "m" not in known
    with pytest.raises(Refused, match="library object 'C'"):
        check("C.most_common = None", library_names=known)
    check("Mine.kind = 1\nm.count = 2", library_names=known)


def test_tables_are_big_enough() -> None:
    assert len(ESCAPES) >= 40 and len(LEGIT) >= 40


@pytest.mark.parametrize(
    "source",
    [
        "x = ().__class__.__base__.__subclasses__()",
        "def g():\n    yield 1\nit = g()\nnext(it)\nx = it.gi_frame.f_globals",
        "import os\nx = os",
        "from json import codecs\nx = codecs.open",
        "import operator\nx = operator.attrgetter('__class__')(1)",
    ],
)
def test_escapes_work_without_the_guard(source: str) -> None:
    """Positive control: these really do reach something dangerous in plain Python."""
    ns: dict[str, object] = {"__builtins__": builtins}
    exec(source, ns)
    assert ns["x"] is not None


def test_refusal_message_is_actionable() -> None:
    with pytest.raises(Refused) as info:
        check("x = 1\ny = 2\nimport os")
    assert info.value.reason.startswith(
        "line 3: import of 'os' is not an allowed module (allowed modules: "
    )
    assert "re" in info.value.reason and "json" in info.value.reason
    with pytest.raises(Refused) as info:
        check("class A:\n    def f(self):\n        self._n = 1")
    assert "self.count" in info.value.reason


def test_several_problems_reported_briefly() -> None:
    with pytest.raises(Refused) as info:
        check("import os\nimport sys\neval('1')\nexec('2')\nopen('x')")
    assert info.value.reason.count("line ") == 3
    assert len(info.value.reason) < 400


def test_syntax_error_propagates_as_python_would() -> None:
    with pytest.raises(SyntaxError):
        check("def f(:\n")


def test_deep_nesting_is_refused_not_crashing() -> None:
    with pytest.raises((Refused, SyntaxError)):
        check("(" * 200_000 + ")" * 200_000)


def test_safe_builtins_lacks_the_dangerous_ones() -> None:
    b = safe_builtins()
    for name in (
        "eval",
        "exec",
        "compile",
        "open",
        "getattr",
        "setattr",
        "delattr",
        "globals",
        "locals",
        "vars",
        "breakpoint",
        "input",
        "memoryview",
        "help",
        "exit",
        "quit",
    ):
        assert name not in b, name
    for name in (
        "print",
        "len",
        "sorted",
        "ValueError",
        "KeyError",
        "Exception",
        "__build_class__",
    ):
        assert name in b, name
    assert b["__import__"] is not builtins.__import__


def test_runtime_import_refuses_what_the_guard_would() -> None:
    """Dynamic routes past check() still meet the import wall at run time."""
    imp = safe_builtins()["__import__"]
    with pytest.raises(ImportError, match="not allowed"):
        imp("os")
    with pytest.raises(ImportError):
        imp("re", None, None, ("x",), 1)
    assert isinstance(imp("collections.abc"), types.ModuleType)
    assert imp("collections.abc", None, None, ("Mapping",)).Mapping is not None


@pytest.mark.parametrize("name", sorted(ALLOWED_MODULES))
def test_module_copies_hold_no_roads(name: str) -> None:
    mod = sandbox_module(name)
    for attr in dir(mod):
        if attr.startswith("_"):
            continue
        value = vars(mod)[attr]
        if isinstance(value, types.ModuleType):
            assert value.__name__.endswith("(sandboxed)"), (name, attr)
        assert value is not builtins.open and value is not builtins.getattr
    with pytest.raises(ImportError):
        exec(f"from {name} import os", {"__builtins__": safe_builtins()})


def test_module_copies_drop_denied_functions() -> None:
    assert not hasattr(sandbox_module("operator"), "attrgetter")
    assert not hasattr(sandbox_module("string"), "Formatter")
    assert not hasattr(sandbox_module("typing"), "get_type_hints")
    assert not hasattr(sandbox_module("json"), "codecs")
    assert not hasattr(sandbox_module("fnmatch"), "os")
    assert hasattr(sandbox_module("operator"), "itemgetter")


def test_dynamic_dunder_string_cannot_reach_objects() -> None:
    """A dunder built at run time passes check(); the sandbox still hands back no object."""
    src = textwrap.dedent(
        """
        name = '_' * 2 + 'class' + '_' * 2
        out = ('{0.' + name + '}').format(1)
        """
    )
    check(src)
    ns = _sandbox_namespace()
    exec(src, ns)
    assert isinstance(ns["out"], str)  # format only ever yields text


def _public_walk(roots: dict[str, object], depth: int) -> list[str]:
    """Follow public attribute names (those check() lets through) from ``roots``.

    Returns paths that reach a real module, a frame/code/traceback object or one
    of the builtins the sandbox withholds.
    """
    from rlm_cli.repl import guard

    withheld = {id(getattr(builtins, n)) for n in guard._BLOCKED_BUILTINS if hasattr(builtins, n)}
    withheld.add(id(builtins.__import__))
    skip = guard._INTERNAL_ATTRS | guard._DENIED_ANYWHERE | guard._MODULE_ATTRS
    seen: set[int] = set()
    found: list[str] = []
    frontier = list(roots.items())
    for _ in range(depth):
        nxt = []
        for path, obj in frontier:
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            if isinstance(obj, types.ModuleType) and not obj.__name__.endswith("(sandboxed)"):
                found.append(path)
                continue
            if isinstance(obj, (types.FrameType, types.CodeType, types.TracebackType)):
                found.append(path)
                continue
            if id(obj) in withheld:
                found.append(path)
                continue
            for name in dir(obj):
                if name.startswith("_") or name in skip or name in ("io", "re"):
                    continue  # typing.io/typing.re: deprecated aliases that warn on access
                try:
                    nxt.append((f"{path}.{name}", getattr(obj, name)))
                except Exception:
                    continue
        frontier = nxt
    return found


def test_no_public_attribute_path_leads_out() -> None:
    roots: dict[str, object] = {k: v for k, v in safe_builtins().items() if k[0] != "_"}
    roots.update({m: sandbox_module(m) for m in ALLOWED_MODULES})
    assert _public_walk(roots, depth=3) == []


def test_public_walk_finds_roads_in_the_real_modules() -> None:
    """Control: the same walk over the unfiltered modules does find modules and open()."""
    import importlib

    roots = {}
    for m in ("json", "fnmatch"):
        real = importlib.import_module(m)
        roots.update({f"{m}.{n}": getattr(real, n) for n in dir(real) if n[0] != "_"})
    found = _public_walk(roots, depth=2)
    assert "json.decoder" in found and "fnmatch.functools" in found
