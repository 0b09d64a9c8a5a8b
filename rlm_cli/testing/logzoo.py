"""A zoo of log formats with ground truth, for developing and measuring the log map.

:func:`generate(name, n, seed)` writes ``n`` lines of one format as operators pipe it in
(syslog, journald, nginx, Kubernetes, JSON lines, log4j, IPMI SEL in several collector
shapes, ...) and returns :class:`ZooLine` records: the line, the id of its true template,
the host it concerns (None when the line names none), its true severity and its time
(UTC epoch seconds, or seconds since boot for relative stamps). Every format draws its
variable parts from the same pools: hex and decimal ids, UUIDs, paths, URLs, ``ip:port``,
sizes and durations with units, quoted values, host names of many shapes.

:func:`fleet(fmt, seed)` writes a BMC fleet log in one of the SEL formats: healthy nodes,
one noisy healthy node with twice the lines of the failing one, and the failing node
(correctable ECC at a rising rate, then the logging limit, then an uncorrectable error).

Nothing here is tuned to the parser: the generators describe the formats, the scoring
lives in ``benchmarks/bench_zoo.py`` and ``tests/logs/test_zoo.py``.
"""

from __future__ import annotations

import json
import random
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from rlm_cli.logs.severity import Severity, finding_severity

S = Severity
T0 = datetime(2026, 11, 18, 0, 0, 0, tzinfo=UTC).timestamp()


@dataclass(frozen=True)
class ZooLine:
    """One generated line and its truth."""

    text: str
    template: str
    host: str | None
    severity: Severity
    time: float | None
    relative: bool = False


# -- variable pools ----------------------------------------------------------------------

WORDS = [
    "alpha",
    "bravo",
    "cedar",
    "delta",
    "ember",
    "falcon",
    "garnet",
    "harbor",
    "indigo",
    "jasper",
    "kestrel",
    "lumen",
    "maple",
    "nimbus",
    "onyx",
    "pepper",
    "quartz",
    "raven",
    "sierra",
    "tundra",
    "umber",
    "violet",
    "willow",
    "xenon",
    "yarrow",
    "zephyr",
    "orders",
    "billing",
    "users",
    "catalog",
    "invoices",
    "sessions",
]
USERS = [
    "root",
    "admin",
    "alice",
    "bob",
    "carol",
    "dave",
    "erin",
    "frank",
    "grace",
    "heidi",
    "ivan",
    "judy",
    "mallory",
    "oscar",
]
HOST_SHAPES: list[Callable[[random.Random], str]] = [
    lambda r: f"r{r.randint(1, 9)}n{r.randint(1, 40):02d}-bmc",
    lambda r: f"node{r.randint(1, 64):02d}",
    lambda r: f"gpu-a{r.randint(1, 30)}",
    lambda r: f"c{r.randint(401, 420)}-{r.randint(101, 132)}",
    lambda r: f"db-prod-{r.randint(1, 9)}",
    lambda r: f"kafka-{r.randint(0, 9)}",
    lambda r: f"ip-10-0-{r.randint(0, 9)}-{r.randint(2, 250)}",
    lambda r: f"web{r.randint(1, 20):02d}.example.com",
    lambda r: f"x1000c{r.randint(0, 7)}s{r.randint(0, 7)}b0n{r.randint(0, 1)}",
    lambda r: f"nid{r.randint(1, 4000):06d}",
    lambda r: f"lustre-oss{r.randint(1, 12)}",
    lambda r: f"cn{r.randint(1, 900):04d}",
]


def hosts(r: random.Random, k: int = 8) -> list[str]:
    """``k`` distinct host names of mixed shapes."""
    out: list[str] = []
    while len(out) < k:
        h = r.choice(HOST_SHAPES)(r)
        if h not in out:
            out.append(h)
    return out


def ip(r: random.Random) -> str:
    return f"10.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}"


def port(r: random.Random) -> int:
    return r.randint(1024, 65535)


def dur(r: random.Random) -> str:
    return r.choice([f"{r.randint(1, 999)}ms", f"{r.random() * 20:.3f}s", f"{r.randint(5, 900)}us"])


def size(r: random.Random) -> str:
    return r.choice(
        [f"{r.randint(1, 999)}KB", f"{r.random() * 100:.1f}MiB", f"{r.randint(1, 64)}GB"]
    )


def path(r: random.Random) -> str:
    return f"/var/lib/{r.choice(WORDS)}/{r.choice(WORDS)}-{r.randint(1, 9999)}.dat"


def url(r: random.Random) -> str:
    return f"https://{r.choice(WORDS)}.svc.local/api/v{r.randint(1, 3)}/{r.choice(WORDS)}/{r.randint(1, 99999)}"


def uid(r: random.Random) -> str:
    return str(uuid.UUID(int=r.getrandbits(128)))


def hexid(r: random.Random) -> str:
    return f"{r.getrandbits(48):012x}"


def quoted(r: random.Random) -> str:
    return '"' + r.choice(WORDS) + "-" + str(r.randint(1, 99)) + '"'


def dimm(r: random.Random) -> str:
    return f"CPU{r.randint(0, 1)} DIMM{r.choice('ABCDEFGH')}{r.randint(1, 2)}"


# -- message catalogues: (template key, severity, render(rng, host)) ------------------------
# A catalogue is a table, one message a row: its template key, its true severity, then the
# message (the rest of the row) with its variable parts in braces, drawn from the rng in the
# order they stand: {host} (the line's host), a pool ({uid} {url} {dur} {hexid} {path} {size}
# {ip} {port} {quoted} {dimm}, {word} and {user} from WORDS and USERS), {int A-B} (randint),
# {one abc} or {one x|y|z} (choice), {bits N} (getrandbits), {real X} (random() * X); an
# optional format spec follows a colon, as in {bits 32:08x}.

Msg = tuple[str, Severity, Callable[[random.Random, str], str]]

_POOLS: dict[str, Callable[[random.Random], object]] = {
    "uid": uid,
    "url": url,
    "dur": dur,
    "hexid": hexid,
    "path": path,
    "size": size,
    "ip": ip,
    "port": port,
    "quoted": quoted,
    "dimm": dimm,
    "word": lambda r: r.choice(WORDS),
    "user": lambda r: r.choice(USERS),
}
_PART = re.compile(r"\{(\w+)(?: ([^:}]+))?(?::([^}]+))?\}")


def _part(kind: str, arg: str | None, spec: str) -> Callable[[random.Random, str], str]:
    """One variable part of a message: (rng, host) -> its text."""
    if kind == "host":
        return lambda r, h: format(h, spec)
    if kind in _POOLS:
        draw = _POOLS[kind]
        return lambda r, h: format(draw(r), spec)
    assert arg is not None, kind
    if kind == "int":
        lo, hi = (int(x) for x in arg.split("-"))
        return lambda r, h: format(r.randint(lo, hi), spec)
    if kind == "one":
        options = arg.split("|") if "|" in arg else arg
        return lambda r, h: format(r.choice(options), spec)
    if kind == "bits":
        return lambda r, h: format(r.getrandbits(int(arg)), spec)
    if kind == "real":
        return lambda r, h: format(r.random() * float(arg), spec)
    raise ValueError(f"unknown message part {{{kind}}}")


def _message(template: str) -> Callable[[random.Random, str], str]:
    """render(rng, host) for one message template."""
    pieces = _PART.split(template)  # text, kind, arg, spec, text, ...
    texts = pieces[::4]
    parts = [_part(k, a, s or "") for k, a, s in zip(pieces[1::4], pieces[2::4], pieces[3::4])]

    def render(r: random.Random, h: str) -> str:
        out = [texts[0]]
        for part, text in zip(parts, texts[1:]):
            out += [part(r, h), text]
        return "".join(out)

    return render


def _catalogue(table: str) -> list[Msg]:
    rows = []
    for row in table.strip().splitlines():
        key, sev, template = row.split(None, 2)
        rows.append((key, Severity[sev], _message(template)))
    return rows


APP: list[Msg] = _catalogue(
    """
req_ok        INFO      request {uid} GET {url} completed in {dur}
cache_miss    DEBUG     cache miss for key {hexid}, loading from {path}
conn_refused  ERROR     connection to {ip}:{port} refused after {int 1-5} attempts
wrote         INFO      wrote {size} to {path} in {dur}
login         INFO      user {quoted} logged in from {ip}
retry         WARNING   retrying request to {url} (attempt {int 2-9} of 10) after {dur}
cfg_bad       ERROR     failed to parse config {path}: unexpected token at line {int 1-400}
job_done      INFO      job 0x{bits 32:08x} finished with status {int 0-3} on {host}
slow_query    WARNING   slow query took {dur} rows={int 1-1000000} table={word}
heap          INFO      heap usage {int 1-99}% of {size}, gc pause {dur}
panic         CRITICAL  worker {int 1-64} crashed: critical section violated at {path}
"""
)

DAEMON: list[Msg] = _catalogue(
    """
sysd_start  INFO      Started Session {int 1-99999} of user {user}.
sysd_unit   INFO      Starting {word}-sync.service - Sync {word} data...
cron        INFO      pam_unix(cron:session): session opened for user {user}(uid={int 0-2000}) by (uid=0)
nfs         WARNING   nfs: server {word}-nfs{int 1-9} not responding, timed out
oom         CRITICAL  Out of memory: Killed process {int 100-99999} (python3) total-vm:{int 100000-10000000}kB
link_down   ERROR     mlx5_core 0000:{int 1-255:02x}:00.0 ens{int 1-9}f0: Link down
dhcp        INFO      DHCPACK of {ip} from {ip} (xid=0x{bits 32:08x})
disk_full   WARNING   filesystem {path} is {int 90-99}% full, {size} left
"""
)

SSHD: list[Msg] = _catalogue(
    """
accepted      INFO      Accepted publickey for {user} from {ip} port {port} ssh2: RSA SHA256:{hexid}
failed_pw     WARNING   Failed password for {user} from {ip} port {port} ssh2
invalid_user  WARNING   Invalid user {word} from {ip} port {port}
closed        INFO      Connection closed by {ip} port {port} [preauth]
session       INFO      pam_unix(sshd:session): session opened for user {user}(uid={int 0-2000}) by (uid=0)
disconnect    INFO      Received disconnect from {ip} port {port}:11: disconnected by user
"""
)

KERNEL: list[Msg] = _catalogue(
    """
usb      INFO      usb {int 1-4}-{int 1-8}: new high-speed USB device number {int 2-99} using xhci_hcd
ext4     INFO      EXT4-fs (sd{one abcd}{int 1-4}): mounted filesystem {uid} r/w with ordered data mode
io_err   ERROR     blk_update_request: I/O error, dev sd{one abcd}, sector {int 100000-1000000000} op 0x0:(READ)
segv     ERROR     {word}[{int 100-99999}]: segfault at {bits 40:x} ip {bits 48:016x} sp {bits 48:016x} error 4
edac_ce  WARNING   EDAC MC{int 0-1}: {int 1-9} CE memory read error on CPU_SrcID#{int 0-1}_MC#0_Chan#{int 0-3}_DIMM#0 (channel:{int 0-3} slot:0 page:0x{bits 20:x} offset:0x0 grain:32 syndrome:0x0)
hung     ERROR     INFO: task {word}:{int 100-99999} blocked for more than {int 120-999} seconds.
nic_up   INFO      igb 0000:{int 1-255:02x}:00.{int 0-3} eno{int 1-4}: igb: eno{int 1-4} NIC Link is Up 1000 Mbps Full Duplex
"""
)

BMC: list[Msg] = _catalogue(
    """
sess_on   INFO      Session Audit #0xa1 | Session Activated | Asserted
sess_off  INFO      Session Audit #0xa1 | Session Deactivated | Asserted
clock     INFO      System Event #0x83 | Timestamp Clock Sync | Asserted
ce        WARNING   Memory #0x87 | Correctable ECC | {dimm} | Asserted
ce_limit  ERROR     Memory #0x87 | Correctable ECC logging limit reached | {dimm} | Asserted
ue        FATAL     Memory #0x87 | Uncorrectable ECC | {dimm} | Asserted
fan_low   CRITICAL  Fan #0x3{int 0-9} | Lower Critical going low | Asserted
fan_ok    NOTICE    Fan #0x3{int 0-9} | Lower Critical going low | Deasserted
temp_hi   CRITICAL  Temperature #0x{int 16-40:x} | Upper Critical going high | Asserted
psu_fail  CRITICAL  Power Supply #0x5{int 0-3} | Failure detected | Asserted
ierr      CRITICAL  Processor #0x0{int 1-2} | IERR | Asserted
pwr       INFO      Power Unit #0x01 | Power off/down | Asserted
"""
)


SLURM: list[Msg] = _catalogue(
    """
alloc     INFO      sched: Allocate JobId={int 100000-10000000} NodeList={host} #CPUs={one 16|32|64|128} Partition={one normal|gpu|debug|long}
complete  INFO      _job_complete: JobId={int 100000-10000000} WEXITSTATUS {int 0-2}
not_resp  ERROR     error: Nodes {host} not responding
drain     WARNING   update_node: node {host} state set to DRAINED
epilog    ERROR     error: _slurm_rpc_epilog_complete: JobId={int 100000-10000000} Node={host} epilog error
backfill  DEBUG     backfill: beginning with {int 1-5000} jobs, usec={int 100-1000000}
"""
)

STORAGE: list[Msg] = _catalogue(
    """
smart_pending    WARNING   Device: /dev/sd{one abcdefgh} [SAT], {int 1-999} Currently unreadable (pending) sectors
smart_temp       INFO      Device: /dev/sd{one abcdefgh} [SAT], SMART Usage Attribute: 194 Temperature_Celsius changed from {int 20-60} to {int 20-60}
smart_fail       CRITICAL  Device: /dev/sd{one abcdefgh} [SAT], FAILED SMART self-check. BACK UP DATA NOW!
zed_cksum        ERROR     eid={int 1-99999} class=checksum pool='{word}' vdev=sd{one abcdefgh}1 size={int 512-131072} offset=0x{bits 32:x} priority=0 err=52 flags=0x{bits 20:x}
zed_scrub        INFO      eid={int 1-99999} class=scrub_finish pool='{word}'
zed_statechange  ERROR     eid={int 1-99999} class=statechange pool='{word}' vdev=sd{one abcdefgh}1 vdev_state=FAULTED
"""
)

DB: list[Msg] = _catalogue(
    """
dup_key     ERROR     duplicate key value violates unique constraint "{word}_pkey"
checkpoint  INFO      checkpoint complete: wrote {int 1-9999} buffers ({real 10:.1f}%); write={real 30:.3f} s, sync={real 1:.3f} s
slow        INFO      duration: {real 9000:.3f} ms  statement: SELECT * FROM {word} WHERE id = {int 1-1000000}
conn_auth   INFO      connection authorized: user={user} database={word} application_name=psql
fatal_auth  FATAL     password authentication failed for user "{user}"
deadlock    ERROR     deadlock detected: Process {int 100-99999} waits for ShareLock on transaction {int 100000-100000000}
"""
)

ANDROID: list[Msg] = _catalogue(
    """
start_proc  INFO      Start proc {int 100-32000}:com.example.{word}/u0a{int 10-300} for activity
gc          DEBUG     Background concurrent copying GC freed {int 1000-999999}({size}) AllocSpace objects, {int 0-99}% free, {size}/{size}, paused {dur} total {dur}
anr         ERROR     ANR in com.example.{word} (com.example.{word}/.MainActivity)
wifi        WARNING   Wifi connection to {quoted} lost, rssi=-{int 60-99}
crash       FATAL     FATAL EXCEPTION: main Process: com.example.{word}, PID: {int 100-32000}
"""
)

WEB_METHODS = ("GET", "POST", "PUT", "DELETE")


# -- time helpers --------------------------------------------------------------------------


def _dt(t: float, tz: timezone = UTC) -> datetime:
    return datetime.fromtimestamp(t, tz)


def _iso_ms(t: float) -> str:
    return _dt(t).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(t * 1000) % 1000:03d}Z"


def _syslog(t: float) -> str:
    d = _dt(t)
    return d.strftime("%b ") + f"{d.day:>2}" + d.strftime(" %H:%M:%S")


LEVEL_NAME = {
    S.TRACE: "TRACE",
    S.DEBUG: "DEBUG",
    S.INFO: "INFO",
    S.NOTICE: "INFO",
    S.WARNING: "WARN",
    S.ERROR: "ERROR",
    S.CRITICAL: "ERROR",
    S.FATAL: "FATAL",
}
"""How an application logger writes a severity (most have no NOTICE or CRITICAL)."""


def _names(words: str) -> dict[Severity, str]:
    """How a format writes the severities DEBUG to FATAL, in that order."""
    return dict(zip(_SCALE, words.split()))


_SCALE = (S.DEBUG, S.INFO, S.NOTICE, S.WARNING, S.ERROR, S.CRITICAL, S.FATAL)
_SYSLOG_PRIORITY = {sev: p for sev, p in zip(_SCALE, (7, 6, 5, 4, 3, 2, 0))}
"""Syslog's numbers for the severities (FATAL is emerg, 0; alert, 1, is not written)."""


def _written(sev: Severity) -> Severity:
    """The severity a level field states once the logger's names are applied."""
    return {S.NOTICE: S.INFO, S.CRITICAL: S.ERROR}.get(sev, sev)


# -- formats: each returns (line, host in line or None, severity it states) -----------------

Render = Callable[
    [random.Random, float, str, str, Severity, str, int], tuple[str, str | None, Severity]
]
"""(rng, time, host, message, severity, program, pid) -> (line, host, severity)."""


@dataclass(frozen=True)
class Format:
    """A format: its message catalogue and how a line is written."""

    name: str
    catalogue: list[Msg]
    render: Render
    relative: bool = False  # time is seconds since boot
    program: str = "app"


def _syslog_3164(r, t, h, m, sev, prog, pid):
    return f"{_syslog(t)} {h} {prog}[{pid}]: {m}", h, sev


def _syslog_5424(r, t, h, m, sev, prog, pid):
    pri = 8 + _SYSLOG_PRIORITY[sev]
    return f"<{pri}>1 {_iso_ms(t)} {h} {prog} {pid} - - {m}", h, sev


def _journal_iso(r, t, h, m, sev, prog, pid):
    return f"{_dt(t).strftime('%Y-%m-%dT%H:%M:%S%z')} {h} {prog}[{pid}]: {m}", h, sev


def _journal_json(r, t, h, m, sev, prog, pid):
    prio = _SYSLOG_PRIORITY[sev]
    rec = {
        "__REALTIME_TIMESTAMP": str(int(t * 1e6)),
        "_HOSTNAME": h,
        "SYSLOG_IDENTIFIER": prog,
        "_PID": str(pid),
        "PRIORITY": str(prio),
        "_BOOT_ID": hexid(r) * 2 + "abcd1234",
        "MESSAGE": m,
    }
    return json.dumps(rec), h, sev


def _dmesg_t(r, t, h, m, sev, prog, pid):
    return f"[{_dt(t).strftime('%a %b %d %H:%M:%S %Y')}] {m}", None, sev


def _kernel_secs(r, t, h, m, sev, prog, pid):
    return f"[{t:12.6f}] {m}", None, sev


def _nginx_access(r, t, h, m, sev, prog, pid):
    meth = m  # the message is the method here
    stamp = _dt(t).strftime("%d/%b/%Y:%H:%M:%S +0000")
    status = r.choice([200, 200, 200, 201, 204, 301, 304])
    ua = r.choice(["curl/8.4.0", "Mozilla/5.0 (X11; Linux x86_64)", "python-requests/2.31"])
    line = (
        f'{ip(r)} - {r.choice(["-", *USERS])} [{stamp}] "{meth} /api/v{r.randint(1, 3)}/{r.choice(WORDS)}/{r.randint(1, 99999)}'
        f'?id={uid(r)} HTTP/1.1" {status} {r.randint(0, 99999)} "-" "{ua}"'
    )
    return line, None, sev


def _nginx_error(r, t, h, m, sev, prog, pid):
    lvl = _names("debug info notice warn error crit emerg")[sev]
    return (
        f"{_dt(t).strftime('%Y/%m/%d %H:%M:%S')} [{lvl}] {pid}#{pid}: *{r.randint(1, 99999)} {m}, "
        f'client: {ip(r)}, server: {h}, request: "GET /{r.choice(WORDS)} HTTP/1.1", host: "{h}"',
        h,
        sev,
    )


def _apache_error(r, t, h, m, sev, prog, pid):
    lvl = _names("debug info notice warn error crit emerg")[sev]
    d = _dt(t)
    stamp = d.strftime("%a %b %d %H:%M:%S.") + f"{d.microsecond:06d}" + d.strftime(" %Y")
    return (
        f"[{stamp}] [{r.choice(['core', 'proxy', 'ssl', 'mpm_event'])}:{lvl}] [pid {pid}:tid {r.randint(10**5, 10**6)}] "
        f"[client {ip(r)}:{port(r)}] AH0{r.randint(1000, 9999)}: {m}",
        None,
        sev,
    )


def _glog(t: float, sev: Severity, pid: int) -> str:
    d = _dt(t)
    letter = _names("I I I W E E F")[sev]
    return f"{letter}{d.strftime('%m%d %H:%M:%S')}.{d.microsecond:06d} {pid:>7} {r_file(pid)}]"


def r_file(pid: int) -> str:
    return ["controller.go:123", "reconciler.go:88", "server.go:412", "watch.go:57"][pid % 4]


def _k8s_cri(r, t, h, m, sev, prog, pid):
    d = _dt(t)
    stamp = d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond:06d}123Z"
    stream = "stderr" if sev >= S.WARNING else "stdout"
    return f"{stamp} {stream} F {_glog(t, sev, pid)} {m} node={h}", h, _written_glog(sev)


def _written_glog(sev: Severity) -> Severity:
    return {S.DEBUG: S.INFO, S.NOTICE: S.INFO, S.CRITICAL: S.ERROR}.get(sev, sev)


def _docker_json(r, t, h, m, sev, prog, pid):
    d = _dt(t)
    stamp = d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond:06d}000Z"
    inner = f"{LEVEL_NAME[sev]} {m}"
    return json.dumps({"log": inner + "\n", "stream": "stdout", "time": stamp}), None, _written(sev)


def _logfmt(r, t, h, m, sev, prog, pid):
    lvl = LEVEL_NAME[sev].lower()
    return f'time={_iso_ms(t)} level={lvl} host={h} msg="{m}" trace_id={hexid(r)}', h, _written(sev)


def _json_lines(r, t, h, m, sev, prog, pid):
    rec = {
        "ts": _iso_ms(t),
        "level": LEVEL_NAME[sev].lower(),
        "hostname": h,
        "logger": f"{prog}.{r.choice(['api', 'db', 'worker'])}",
        "msg": m,
        "req_id": uid(r),
    }
    return json.dumps(rec), h, _written(sev)


def _log4j(r, t, h, m, sev, prog, pid):
    d = _dt(t)
    stamp = d.strftime("%Y-%m-%d %H:%M:%S,") + f"{d.microsecond // 1000:03d}"
    cls = r.choice(
        ["com.example.api.OrderService", "com.example.db.Pool", "org.eclipse.jetty.server.Server"]
    )
    thread = r.choice(
        [
            "main",
            f"pool-{r.randint(1, 9)}-thread-{r.randint(1, 40)}",
            f"http-nio-8080-exec-{r.randint(1, 20)}",
        ]
    )
    return f"{stamp} {LEVEL_NAME[sev]:<5} [{thread}] {cls} - {m}", None, _written(sev)


def _logback(r, t, h, m, sev, prog, pid):
    d = _dt(t)
    stamp = d.strftime("%Y-%m-%d %H:%M:%S.") + f"{d.microsecond // 1000:03d}"
    lvl = LEVEL_NAME[sev]
    return (
        f"{stamp} {h} [{r.choice(['main', 'scheduler-1', 'kafka-consumer-3'])}] {lvl:<5} c.e.s.{r.choice(['Orders', 'Billing'])}Service - {m}",
        h,
        _written(sev),
    )


def _python(r, t, h, m, sev, prog, pid):
    d = _dt(t)
    stamp = d.strftime("%Y-%m-%d %H:%M:%S,") + f"{d.microsecond // 1000:03d}"
    name = {
        S.WARNING: "WARNING",
        S.CRITICAL: "CRITICAL",
        S.FATAL: "CRITICAL",
        S.NOTICE: "INFO",
    }.get(sev, LEVEL_NAME[sev])
    written = {S.FATAL: S.CRITICAL, S.NOTICE: S.INFO}.get(sev, sev)
    return (
        f"{stamp} {name} {prog}.{r.choice(['worker', 'tasks', 'http'])}: {m} [host={h}]",
        h,
        written,
    )


def _zap_json(r, t, h, m, sev, prog, pid):
    lvl = _names("debug info info warn error dpanic fatal")[sev]
    written = {S.NOTICE: S.INFO}.get(sev, sev)
    rec = {
        "level": lvl,
        "ts": round(t, 3),
        "caller": r_file(pid),
        "msg": m,
        "host": h,
        "attempt": r.randint(1, 5),
    }
    return json.dumps(rec), h, written


def _zap_console(r, t, h, m, sev, prog, pid):
    lvl = LEVEL_NAME[sev]
    extra = json.dumps({"host": h, "latency": dur(r)})
    return f"{_iso_ms(t)}\t{lvl}\t{r_file(pid)}\t{m}\t{extra}", h, _written(sev)


def _slog_text(r, t, h, m, sev, prog, pid):
    return (
        f'time={_iso_ms(t)} level={LEVEL_NAME[sev]} source={r_file(pid)} msg="{m}" node={h}',
        h,
        _written(sev),
    )


def _slurmctld(r, t, h, m, sev, prog, pid):
    d = _dt(t)
    return f"[{d.strftime('%Y-%m-%dT%H:%M:%S.')}{d.microsecond // 1000:03d}] {m}", h, sev


def _slurmd(r, t, h, m, sev, prog, pid):
    d = _dt(t)
    job = r.randint(10**5, 10**7)
    return (
        f"[{d.strftime('%Y-%m-%dT%H:%M:%S.')}{d.microsecond // 1000:03d}] [{job}.batch] {m}",
        h,
        sev,
    )


def _sel_fields(r: random.Random, t: float, m: str, hexid_: bool, rec: int) -> str:
    rid = f"{rec:x}" if hexid_ else str(rec)
    d = _dt(t)
    return f"{rid:>4} | {d.strftime('%m/%d/%Y')} | {d.strftime('%H:%M:%S')} | {m}"


def _sel_elist(r, t, h, m, sev, prog, pid):
    return _sel_fields(r, t, m, True, pid), None, sev


def _sel_list(r, t, h, m, sev, prog, pid):
    return _sel_fields(r, t, m, False, pid), None, sev


def _sel_host_colon(r, t, h, m, sev, prog, pid):
    return f"{h}: {_sel_fields(r, t, m, False, pid)}", h, sev


def _sel_host_pipe(r, t, h, m, sev, prog, pid):
    return f"{h} | {_sel_fields(r, t, m, True, pid)}", h, sev


def _sel_host_bracket(r, t, h, m, sev, prog, pid):
    return f"[{h}] {_sel_fields(r, t, m, True, pid).lstrip()}", h, sev


def _sel_in_syslog(r, t, h, m, sev, prog, pid):
    return f"{_syslog(t)} {h} ipmiseld[812]: {_sel_fields(r, t - 30, m, True, pid)}", h, sev


def _sel_tsv(r, t, h, m, sev, prog, pid):
    d = _dt(t)
    cells = m.replace(" | ", "\t")
    return f"{h}\t{pid:x}\t{d.strftime('%Y-%m-%dT%H:%M:%SZ')}\t{cells}", h, sev


def _redfish(r, t, h, m, sev, prog, pid):
    parts = m.split(" | ")
    rf = _names("OK OK OK Warning Warning Critical Critical")[sev]
    written = {S.NOTICE: S.INFO, S.ERROR: S.WARNING, S.FATAL: S.CRITICAL}.get(sev, sev)
    rec = {
        "@odata.id": f"/redfish/v1/Systems/1/LogServices/SEL/Entries/{pid}",
        "Id": str(pid),
        "Created": _dt(t).strftime("%Y-%m-%dT%H:%M:%S+00:00"),
        "EntryType": "SEL",
        "Severity": rf,
        "SensorType": parts[0].split(" #")[0],
        "Message": " ".join(parts[1:]),
        "Hostname": h,
    }
    return json.dumps(rec), h, written


def _mcelog(r, t, h, m, sev, prog, pid):
    d = _dt(t)
    stamp = d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond:06d}+00:00"
    return f"{stamp} {h} {prog}[{pid}]: {m}", h, sev


def _postgres(r, t, h, m, sev, prog, pid):
    d = _dt(t)
    lvl = _names("DEBUG LOG LOG WARNING ERROR FATAL FATAL")[sev]
    written = {S.NOTICE: S.INFO, S.CRITICAL: S.FATAL}.get(sev, sev)
    user = f"{r.choice(USERS)}@{r.choice(WORDS)}"
    return (
        f"{d.strftime('%Y-%m-%d %H:%M:%S.')}{d.microsecond // 1000:03d} UTC [{pid}] {user} {lvl}:  {m}",
        None,
        written,
    )


def _logcat(r, t, h, m, sev, prog, pid):
    d = _dt(t)
    letter = _names("D I I W E E F")[sev]
    written = {S.NOTICE: S.INFO, S.CRITICAL: S.ERROR}.get(sev, sev)
    tag = r.choice(["ActivityManager", "WifiService", "art", "AndroidRuntime"])
    return (
        f"{d.strftime('%m-%d %H:%M:%S.')}{d.microsecond // 1000:03d} {pid:>5} {pid + r.randint(0, 40):>5} {letter} {tag}: {m}",
        None,
        written,
    )


def _macos(r, t, h, m, sev, prog, pid):
    tz = timezone(timedelta(hours=-8))
    d = _dt(t, tz)
    kind = _names("Debug Default Default Default Error Fault Fault")[sev]
    written = {S.NOTICE: S.INFO, S.FATAL: S.CRITICAL}.get(sev, sev)
    if sev == S.WARNING:
        written = S.WARNING
    stamp = d.strftime("%Y-%m-%d %H:%M:%S.") + f"{d.microsecond:06d}" + d.strftime("%z")
    return (
        f"{stamp} 0x{r.getrandbits(24):x}    {kind:<11} 0x0                  {pid:<6} 0    {prog}: ({prog.capitalize()}Kit) {m}",
        None,
        written,
    )


def _formats(catalogue: list[Msg], renders: dict[str, Render]) -> list[Format]:
    """Formats that write one catalogue with the default program, each its own way."""
    return [Format(name, catalogue, render) for name, render in renders.items()]


FORMATS: dict[str, Format] = {
    f.name: f
    for f in [
        Format("syslog-rfc3164", DAEMON, _syslog_3164, program="systemd"),
        Format("syslog-rfc5424", APP, _syslog_5424, program="orders"),
        Format("journald-short-iso", DAEMON, _journal_iso, program="kernel"),
        Format("journald-json", DAEMON, _journal_json, program="systemd"),
        Format("dmesg-T", KERNEL, _dmesg_t),
        Format("kernel-seconds", KERNEL, _kernel_secs, relative=True),
        Format(
            "nginx-access",
            [(m, S.INFO, (lambda mm: lambda r, h: mm)(m)) for m in WEB_METHODS],
            _nginx_access,
        ),
        *_formats(
            APP,
            {
                "nginx-error": _nginx_error,
                "apache-error": _apache_error,
                "k8s-cri": _k8s_cri,
                "docker-json": _docker_json,
                "logfmt": _logfmt,
                "log4j": _log4j,
                "logback": _logback,
                "go-zap-json": _zap_json,
                "go-zap-console": _zap_console,
                "go-slog-text": _slog_text,
            },
        ),
        Format("json-lines", APP, _json_lines, program="checkout"),
        Format("python-logging", APP, _python, program="celery"),
        *_formats(SLURM, {"slurmctld": _slurmctld, "slurmd": _slurmd}),
        Format("sshd", SSHD, _syslog_3164, program="sshd"),
        *_formats(
            BMC,
            {
                "ipmi-sel-elist": _sel_elist,
                "ipmi-sel-list": _sel_list,
                "sel-host-colon": _sel_host_colon,
                "sel-host-pipe": _sel_host_pipe,
                "sel-host-bracket": _sel_host_bracket,
                "sel-in-syslog": _sel_in_syslog,
                "sel-tsv": _sel_tsv,
                "redfish-sel-json": _redfish,
            },
        ),
        Format("rasdaemon-edac", KERNEL[4:5] + KERNEL[2:3] + DAEMON[:2], _mcelog, program="kernel"),
        Format("smartd", STORAGE[:3], _syslog_3164, program="smartd"),
        Format("zfs-zed", STORAGE[3:], _syslog_3164, program="zed"),
        Format("postgresql", DB, _postgres),
        Format("android-logcat", ANDROID, _logcat),
        Format("macos-unified", APP, _macos, program="kernel"),
    ]
}

BMC_FORMATS = tuple(n for n, f in FORMATS.items() if f.catalogue is BMC)
"""The SEL formats (every shape a fleet's collector writes)."""
HOSTED_BMC_FORMATS = tuple(n for n in BMC_FORMATS if n not in ("ipmi-sel-elist", "ipmi-sel-list"))
"""SEL formats whose lines name their host (a fleet can be told apart)."""


def generate(name: str, n: int = 1000, seed: int = 0) -> list[ZooLine]:
    """``n`` lines of format ``name`` with their truth (deterministic for a seed)."""
    fmt = FORMATS[name]
    r = random.Random(f"{name}:{seed}")
    pool = hosts(r)
    weights = [r.uniform(0.2, 3.0) for _ in fmt.catalogue]
    t = 3.0 + r.random() * 5 if fmt.relative else T0 + r.randint(0, 86400)
    pids = {h: r.randint(100, 4000) for h in pool}
    out: list[ZooLine] = []
    for _ in range(n):
        t = round(t + r.random() * (2.0 if fmt.relative else 40.0), 3)
        key, sev, make = r.choices(fmt.catalogue, weights)[0]
        h = r.choice(pool)
        pids[h] += 1
        pid = pids[h] if fmt.catalogue is BMC else r.randint(100, 65000)
        line, host, stated = fmt.render(r, t, h, make(r, h), sev, fmt.program, pid)
        if host is not None and host not in line:
            host = None  # the line does not name it (a message without the host)
        out.append(ZooLine(line, key, host, stated, t, fmt.relative))
    return out


def fleet(name: str, seed: int = 0, healthy: int = 6) -> tuple[list[str], str, str]:
    """A fleet's SEL in format ``name``: (lines in time order, failing host, noisy host).

    Healthy nodes log sessions, clock syncs and the odd fan blip that clears; the noisy
    healthy node logs twice as many lines as the failing one (sessions, blips that clear,
    one early correctable ECC); the failing node logs correctable ECC at a rising rate on
    one DIMM, the logging limit, then an uncorrectable ECC.
    """
    fmt = FORMATS[name]
    r = random.Random(f"fleet:{name}:{seed}")
    names = hosts(r, healthy + 2)
    failing, noisy = names[0], names[1]
    by_key = {k: make for k, _, make in BMC}
    sev_of = {k: s for k, s, _ in BMC}
    events: list[tuple[float, str, str]] = []  # (time, host, key)
    span = 3 * 86400.0

    def add(h: str, key: str, t: float) -> None:
        events.append((T0 + t, h, key))

    for h in names[2:]:
        for _ in range(r.randint(25, 35)):
            add(h, r.choice(["sess_on", "sess_off", "clock"]), r.random() * span)
        if r.random() < 0.5:
            t = r.random() * span
            add(h, "fan_low", t)
            add(h, "fan_ok", t + 20)
    # the failing node: correctable ECC rising, limit, uncorrectable
    fail_events = 0
    for i in range(14):
        add(failing, "ce", span * (0.3 + 0.65 * (i / 14) ** 0.5))
        fail_events += 1
    add(failing, "ce_limit", span * 0.96)
    add(failing, "ue", span * 0.985)
    for _ in range(14):
        add(failing, r.choice(["sess_on", "sess_off", "clock"]), r.random() * span)
    fail_events += 16
    # the noisy healthy node: twice the failing node's lines
    noise = 2 * fail_events
    add(noisy, "ce", span * 0.1)
    for _ in range(3):
        t = r.random() * span
        add(noisy, "fan_low", t)
        add(noisy, "fan_ok", t + 15)
    for _ in range(noise - 7):
        add(noisy, r.choice(["sess_on", "sess_off", "clock", "pwr"]), r.random() * span)
    events.sort()
    recs = {h: r.randint(1, 3000) for h in names}
    dimm_of = {
        h: f"CPU{r.randint(0, 1)} DIMM{r.choice('ABCDEFGH')}{r.randint(1, 2)}" for h in names
    }
    lines = []
    for t, h, key in events:
        recs[h] += 1
        msg = by_key[key](r, h)
        if "DIMM" in msg:  # one failing DIMM per node
            msg = msg.rsplit(" | ", 2)[0] + f" | {dimm_of[h]} | Asserted"
        line, _, _ = fmt.render(r, t, h, msg, sev_of[key], fmt.program, recs[h])
        lines.append(line)
    return lines, failing, noisy


# -- scoring ---------------------------------------------------------------------------------


def grouping_accuracy(pred: list, truth: list) -> float:
    """Loghub GA: a line is right when its predicted group equals its true group."""
    true_groups: dict = {}
    pred_groups: dict = {}
    for i, (p, t) in enumerate(zip(pred, truth, strict=True)):
        true_groups.setdefault(t, []).append(i)
        pred_groups.setdefault(p, []).append(i)
    ok = 0
    for idx in pred_groups.values():
        labels = {truth[i] for i in idx}
        if len(labels) == 1 and len(true_groups[truth[idx[0]]]) == len(idx):
            ok += len(idx)
    return ok / len(truth) if truth else 0.0


@dataclass
class Score:
    """Per-format figures: GA, host recall, timestamp parse rate, severity agreement."""

    name: str
    lines: int
    ga: float
    host_recall: float | None  # None: the format names no host
    time_rate: float
    severity: float
    templates: int
    true_templates: int
    misses: dict


def score(name: str, zoo: list[ZooLine]) -> Score:
    """Run the log map's line parsers over ``zoo`` as the map builder does, and score them.

    Severity agreement is judged on the finding scale (info / warning / error / critical):
    loggers disagree on NOTICE and on names beyond ERROR. A time counts when it is within
    a second of the truth (relative stamps: seconds since boot).
    """
    from rlm_cli.logs.logmap import HEADER_SAMPLE, learn_header, scan_line
    from rlm_cli.logs.templates import TemplateMiner
    from rlm_cli.store.timestamps import TimestampParser

    texts = [z.text for z in zoo]
    header = learn_header(texts[:HEADER_SAMPLE], user=False)
    miner = TemplateMiner(header)
    miner.add_many(texts)
    pred = list(miner.assignments())
    ga = grouping_accuracy(pred, [z.template for z in zoo])
    caches: tuple[dict, dict] = ({}, {})
    parser = TimestampParser(default_year=2026)
    host_n = host_ok = time_ok = sev_ok = 0
    misses: dict[str, list[str]] = {"host": [], "time": [], "severity": []}
    for z in zoo:
        sev, ents = scan_line(z.text, header, caches)
        if finding_severity(sev.name) == finding_severity(z.severity.name):
            sev_ok += 1
        elif len(misses["severity"]) < 3:
            misses["severity"].append(f"{sev.name} != {z.severity.name}: {z.text[:160]}")
        if z.host is not None:
            host_n += 1
            if any(e.kind in ("host", "ip") and e.key == z.host.lower() for e in ents):
                host_ok += 1
            elif len(misses["host"]) < 3:
                misses["host"].append(f"{z.host} not in {[e.name for e in ents]}: {z.text[:160]}")
        m = parser.parse(z.text)
        got = None if m is None else (m.relative if z.relative else m.epoch)
        if got is not None and z.time is not None and abs(got - z.time) < 1.0:
            time_ok += 1
        elif len(misses["time"]) < 3:
            misses["time"].append(f"{got} != {z.time}: {z.text[:160]}")
    n = len(zoo)
    return Score(
        name,
        n,
        ga,
        host_ok / host_n if host_n else None,
        time_ok / n,
        sev_ok / n,
        len(set(pred)),
        len({z.template for z in zoo}),
        {k: v for k, v in misses.items() if v},
    )
