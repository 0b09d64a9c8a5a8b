"""Entities named in a log line: hosts, IPs, rack positions and hardware parts.

``extract(text)`` returns :class:`Entity` objects (kind, name as written, span), sorted by
position, with overlaps resolved in favour of the longer match (``CPU1_DIMM_C0`` is one
dimm, not a cpu and a dimm). ``Entity.key`` is a canonical form for grouping: case folded,
separators normalised (``DIMM B2``, ``dimm_b2`` and ``DIMM#B2`` share ``DIMM_B2``; ``PS2`` and
``PSU 2`` share ``PSU2``), IPMI ``Type #0xNN`` names kept with a lower-cased key.

Kinds: ``host`` (cluster node names such as ``node017``, ``cn-0412``, ``compute-3-12``,
``gpu07``; FQDNs with a known top-level domain; ``host=``/``rhost=``/``NodeList=`` values and
JSON keys such as ``"hostname": "x"``; a name with a digit after ``node``/``host``; the host
field of syslog RFC 3164/5424 headers; the log map adds the host column of a learned header), ``ip`` (IPv4), ``rack`` (Blue Gene positions such as
``R02-M1-N0-C:J12-U11``; ``rack 12``, ``chassis3``, ``slot 4``), ``dimm``, ``cpu``, ``psu``,
``fan``, ``sensor`` (other IPMI ``Temp #0x01`` style sensors), ``device`` (``sda``,
``nvme0n1``, ``eth0``, ``ib0``, ``mlx5_0``...). Each family's regex runs only when a cheap
pre-check passes (a substring, a literal-led hint regex, or a word of the line's lower-cased
alphabetic runs in the family's trigger set), so most lines cost one tokenisation and a few
set tests. A bare ``slot 4`` is not a rack position (Apache says "scoreboard slot 10");
``rack 3 slot 4`` and ``chassis 2`` are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rlm_cli.store.timestamps import MONTHS


@dataclass(frozen=True, slots=True)
class Entity:
    """One entity mention: ``name`` as written, ``start``/``end`` its span in the text."""

    kind: str
    name: str
    start: int
    end: int

    @property
    def key(self) -> str:
        """Canonical name for grouping mentions of the same thing."""
        return canonical(self.kind, self.name)


_SEP_BEFORE_ID = re.compile(r"[\s_#-]+(?=\d)")
_DIMM_SEP = re.compile(r"DIMM[\s_#-]*")
_SPACES = re.compile(r"\s+")
_POWER_SUPPLY = re.compile(r"POWER[\s_]*SUPPLY|PWS|PSU|PS", re.I)


def canonical(kind: str, name: str) -> str:
    """The grouping key of an entity name of a given kind."""
    if "#0x" in name or "#0X" in name:
        return _SPACES.sub(" ", name).lower().replace(" #", "#")
    if kind in ("host", "device"):
        return name.lower().rstrip(".")
    if kind == "ip":
        return name
    up = name.upper()
    if kind == "dimm":
        return _DIMM_SEP.sub("DIMM_", _SPACES.sub("_", up))
    if kind == "psu":
        up = _POWER_SUPPLY.sub("PSU", up, count=1)
    if kind in ("cpu", "psu", "fan"):
        return _SEP_BEFORE_ID.sub("", up).replace("PROCESSOR", "CPU")
    return _SPACES.sub(" ", up)


# --------------------------------------------------------------------------- patterns
_MON = "(?:" + "|".join(MONTHS) + ")"
_RE_SYSLOG_HOST = re.compile(
    r"^\s*(?:<\d{1,3}>)?(?:" + _MON + r" [ \d]\d \d\d:\d\d:\d\d(?:\.\d+)?"
    r"|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?)"
    r"\s+(?P<host>[A-Za-z0-9][\w.-]*)\s+[\w./()@-]+(?:\[\d+\])?:"
)
_RE_5424_HOST = re.compile(r"^\s*<\d{1,3}>\d{1,2} \S+ (?P<host>[A-Za-z0-9][\w.-]*) ")
_RE_HOST_KV = re.compile(
    r"(?i)(?<![\w-])[\"']?(?:r?host|_?host_?name|node|node_?name|nodelist|server|instance)[\"']?"
    r"\s*[=:]\s*[\"']?(?P<host>[A-Za-z][\w.-]*\w)"
)
# "node c401-104 not responding", "Nodes db-prod-3", "on host web01": a name with a digit
_RE_HOST_WORD = re.compile(
    r"(?i)\b(?:nodes?|hosts?)\s+(?P<host>[A-Za-z][\w.-]*\d[\w.-]*)(?![\w.-])"
)
_NODE_PREFIX = (
    r"node|nid|compute|comp|login|head|mgmt|master|worker|storage|stor|oss|mds|mgs|osd"
    r"|db|web|app|srv|server|host|hpc|bmc"
)
_SHORT_NODE = frozenset({"gpu", "cn", "gn", "ln", "fe"})
_NODE_TAIL = re.compile(r"[-_]?\d{1,6}(?:-\d{1,4}){0,3}(?![\w-])")
_SHORT_NODE_TAIL = re.compile(r"(?:-?\d{2,6}|-\d{1,6})(?:-\d{1,4}){0,3}(?![\w-])")
_TLDS = (
    r"com|net|org|edu|gov|mil|int|io|local|lan|internal|intra|corp|cluster|localdomain|ai|dev"
    r"|cloud|de|uk|fr|jp|cn|ru|nl|ch|se|fi|it|es|pl|br|in|au|ca|us|eu|kr|tw|hk|sg"
)
_RE_TLD_HINT = re.compile(r"(?i)\.(?:" + _TLDS + r")\b")
_FQDN_BODY = re.compile(r"(?i)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.){1,8}(?:" + _TLDS + r")")
_LABEL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-")
_OCT = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_RE_IP = re.compile(r"(?<![\w.])" + _OCT + r"(?:\." + _OCT + r"){3}(?![\w]|\.\d)")
_RE_IP_FAST = re.compile(r"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}")
_RE_BGL_RACK = re.compile(r"R\d\d-M\d(?:-[A-Z0-9]{1,3}(?::J\d\d)?)*(?![\w-])")  # literal lead: fast
_RACK_N = r"[ _#-]?(?:0x[0-9a-f]+|\d{1,4})\b"
_RE_RACK = re.compile(
    r"(?i)\b(?:rack|chassis|enclosure|cabinet|shelf|frame)"
    + _RACK_N
    + r"(?:[ ,/_-]{0,2}(?:chassis|enclosure|shelf|slot|bay|blade|node|u)"
    + _RACK_N
    + r")*"
)
_RE_DIMM = re.compile(
    r"(?i)\b(?:(?:CPU|P)\d{1,2}[_ -])?DIMM[ _#-]?(?:[A-P]\d{1,2}|\d{1,2}[A-P]?)(?!\w)"
)
_RE_CPU = re.compile(r"(?i)\b(?:CPU|Processor|Socket)[ _#-]?\d{1,3}(?![\w%.])")
_RE_PSU = re.compile(
    r"(?i:\b(?:PSU|PWS)[ _#-]?\d{1,2}\b|\bPower[ _]Supply[ _]?\d{1,2}\b)|\bPS[ _]?\d{1,2}\b"
)
_RE_FAN = re.compile(r"(?i)\b(?:(?:sys|cpu|chassis|system)_?)?fan[ _#-]?\d{1,2}[a-z]?(?!\w)")
_RE_SENSOR = re.compile(
    r"(?<![\w])(?P<type>(?:[A-Z][A-Za-z-]*(?: / | )){0,3}[A-Z][A-Za-z-]*\d?) ?#0x[0-9A-Fa-f]{1,4}\b"
)
_RE_DEVICE = re.compile(
    r"(?<![\w.-])(?:sd[a-z]\d{0,2}|sd[a-z]{2}\d{1,2}|hd[a-h]\d{0,2}|x?vd[a-z]\d{0,2}"
    r"|nvme\d+(?:n\d+(?:p\d+)?)?|mmcblk\d+(?:p\d+)?|md\d{1,3}|dm-\d+|loop\d+"
    r"|eth\d+(?:\.\d+)?|en[op]\d+(?:s\d+)?(?:f\d+)?(?:np\d+)?|ens\d+(?:f\d+)?|em\d+|bond\d+"
    r"|ib\d+|mlx\d_\d+|hfi\d_\d+|qib\d+|wlan\d+|wlp\d+s\d+|ttyS\d+|nvidia\d+)(?![\w-])"
)
_DEVICE_STOP = frozenset({"sdk", "sdl", "sdr", "sdp", "sds", "sdn", "hdd"})
_LEVEL_WORDS = frozenset(
    [
        "TRACE",
        "DEBUG",
        "INFO",
        "NOTICE",
        "WARN",
        "WARNING",
        "ERROR",
        "ERR",
        "SEVERE",
        "CRIT",
        "CRITICAL",
        "FATAL",
        "ALERT",
        "EMERG",
    ]
)
_DEVICE_HINTS = ("sd", "hd", "vd", "nvme", "mmc", "md", "dm-", "loop", "eth", "en", "em", "bond",
                 "ib", "mlx", "hfi", "qib", "wl", "tty", "nvidia")  # fmt: skip
_RACK_WORDS = frozenset({"rack", "chassis", "enclosure", "cabinet", "shelf", "frame"})
_NODE_WORDS = frozenset(_NODE_PREFIX.split("|")) | {"gpu", "cn", "gn", "ln", "fe"}
_DEVICE_WORDS = frozenset(
    [f"{p}{c}" for p in ("sd", "vd", "xvd") for c in "abcdefghijklmnopqrstuvwxyz"]
    + [f"sd{c}{d}" for c in "abcdefghijklmnopqrstuvwxyz" for d in "abcdefghijklmnopqrstuvwxyz"]
    + [f"hd{c}" for c in "abcdefgh"]
    + [
        "nvme",
        "n",
        "p",
        "mmcblk",
        "md",
        "dm",
        "loop",
        "eth",
        "enp",
        "eno",
        "ens",
        "em",
        "bond",
        "ib",
        "mlx",
        "hfi",
        "qib",
        "wlan",
        "wlp",
        "ttys",
        "nvidia",
    ]
) - {"n", "p"}
_ALPHA = re.compile(r"[a-z]+")
# Dotted names starting like a Java/Android package are packages, not hosts.
_REVERSE_DNS = frozenset({"com", "org", "net", "edu", "gov", "io", "java", "javax", "android"})
_IP_HINT = re.compile(r"\.\d{1,3}\.\d{1,3}\.\d")


def _sensor_kind(type_name: str) -> str:
    t = type_name.lower()
    if t.startswith(("power supply", "psu", "ps")):
        return "psu"
    if t.startswith("fan"):
        return "fan"
    if t.startswith(("processor", "cpu")):
        return "cpu"
    if t.startswith("dimm"):
        return "dimm"
    return "sensor"


def _plausible_host(name: str) -> bool:
    return (
        not name.replace(".", "").isdigit()
        and name.upper() not in _LEVEL_WORDS
        and any(c.isalpha() for c in name)
    )


# Families gated by the words of the line: (trigger words, regex, kind, priority).
_WORD_FAMILIES: list[tuple[frozenset[str], re.Pattern[str], str, int]] = [
    (_RACK_WORDS, _RE_RACK, "rack", 2),
    (frozenset({"dimm"}), _RE_DIMM, "dimm", 1),
    (frozenset({"cpu", "processor", "socket"}), _RE_CPU, "cpu", 3),
    (frozenset({"ps", "psu", "pws", "power"}), _RE_PSU, "psu", 3),
    (frozenset({"fan"}), _RE_FAN, "fan", 3),
]


def extract(text: str) -> list[Entity]:
    """Entities mentioned in ``text`` (one log line), by position, overlaps resolved."""
    found: list[tuple[int, int, str, int]] = []  # (start, end, kind, priority)
    low = text.lower()
    # host field of a syslog header
    m = _RE_SYSLOG_HOST.match(text) or _RE_5424_HOST.match(text)
    if m is not None and _plausible_host(m.group("host")):
        s, e = m.span("host")
        kind = "ip" if _RE_IP.fullmatch(m.group("host")) else "host"
        found.append((s, e, kind, 0))
    words = set(_ALPHA.findall(low))
    if "#0x" in low:
        for m in _RE_SENSOR.finditer(text):
            found.append((m.start(), m.end(), _sensor_kind(m.group("type")), 1))
    if "-M" in text:
        for m in _RE_BGL_RACK.finditer(text):
            a = m.start()
            if not a or not (text[a - 1].isalnum() or text[a - 1] in "_-"):
                found.append((a, m.end(), "rack", 1))
    for gate, rx, kind, prio in _WORD_FAMILIES:
        if not gate.isdisjoint(words):
            for m in rx.finditer(text):
                found.append((m.start(), m.end(), kind, prio))
    if _IP_HINT.search(text):
        _add_ips(text, low, found)
    if "." in text:
        _add_fqdns(text, found)
    node_words = _NODE_WORDS.intersection(words)
    if node_words:
        _add_nodes(text, low, node_words, found)
    if "host" in low or "node" in low or "server" in low or "instance" in low:
        if "node" in words or "nodes" in words or "host" in words or "hosts" in words:
            for m in _RE_HOST_WORD.finditer(text):
                s, e = m.span("host")
                found.append((s, e, "host", 3))
        for m in _RE_HOST_KV.finditer(text):
            if _plausible_host(m.group("host")):
                s, e = m.span("host")
                kind = "ip" if _RE_IP.fullmatch(m.group("host")) else "host"
                found.append((s, e, kind, 3))
    if not _DEVICE_WORDS.isdisjoint(words):
        for m in _RE_DEVICE.finditer(text):
            if m.group() not in _DEVICE_STOP:
                found.append((m.start(), m.end(), "device", 5))
    if not found:
        return []
    if len(found) > 1:
        found = _resolve_overlaps(found)
    return [Entity(kind, text[s:e], s, e) for s, e, kind, _ in found]


def _add_ips(text: str, low: str, found: list) -> None:
    for m in _RE_IP_FAST.finditer(text):
        a, b = m.span()
        if a and (text[a - 1].isalnum() or text[a - 1] in "._"):
            continue
        if b < len(text) and (text[b].isalnum() or text[b] == "_"):
            continue
        if text.startswith(".", b) and text[b + 1 : b + 2].isdigit():
            continue  # a fifth dotted number: not an address
        if any(len(o) > 1 and (o[0] == "0" or int(o) > 255) for o in m.group().split(".")):
            continue
        before = low[max(0, a - 9) : a]
        if before.endswith("v") or "version" in before:
            continue  # v1.2.3.4 / version 1.2.3.4 is a version, not an address
        found.append((a, b, "ip", 2))


def _add_nodes(text: str, low: str, prefixes: set[str], found: list) -> None:
    """Cluster node names: a known prefix word at a name boundary, then a numeric tail."""
    for w in prefixes:
        tail = _SHORT_NODE_TAIL if w in _SHORT_NODE else _NODE_TAIL
        i = low.find(w)
        while i != -1:
            if not i or not (low[i - 1].isalnum() or low[i - 1] in "._-"):
                m = tail.match(low, i + len(w))
                if m is not None:
                    found.append((i, m.end(), "host", 5))
            i = low.find(w, i + 1)


def _add_fqdns(text: str, found: list) -> None:
    """Dotted host names ending in a known top-level domain (grown left from the TLD)."""
    for h in _RE_TLD_HINT.finditer(text):
        end = h.end()
        if end < len(text) and (
            text[end].isalnum()
            or text[end] in "_-"
            or (text[end] == "." and text[end + 1 : end + 2].isalnum())
        ):
            continue  # not the last label (a Java package, "example.com.cn" has a later TLD)
        start = h.start()
        while start and text[start - 1] in _LABEL_CHARS:
            start -= 1
        while start < h.start() and text[start] in ".-":
            start += 1
        if start and (text[start - 1] == "@" or text[start - 1] == "_"):
            continue  # an e-mail address or part of an identifier
        cand = text[start:end]
        if cand.split(".", 1)[0].lower() in _REVERSE_DNS:
            continue
        m = _FQDN_BODY.fullmatch(cand)
        if m is not None:
            found.append((start, end, "host", 4))


def _resolve_overlaps(found: list) -> list:
    """Sorted by start; where spans overlap the longer (then higher-priority) one wins."""
    found.sort()
    if all(found[i][1] <= found[i + 1][0] for i in range(len(found) - 1)):
        return found
    found.sort(key=lambda f: (f[0] - f[1], f[3], f[0]))
    kept: list = []
    for f in found:
        if all(f[1] <= k[0] or k[1] <= f[0] for k in kept):
            kept.append(f)
    kept.sort()
    return kept
