"""Deterministic log generators for the built-in bench suite, with ground truth.

Each generator takes a seed and a target size in characters and returns the log text and
a ``truth`` mapping (the answer and what a checker needs: candidate names, a regex). The
same seed and size always give the same bytes. Background noise is realistic cluster
chatter (sshd, systemd, cron, chrony, kernel, slurm, BMC) that varies by seed; the line
that decides is placed well past the start of the log, and a near miss (a similar line
naming another entity, or a busier healthy entity) sits before it, so the answer can
neither be read off the first lines nor guessed from volume.

The scenario-sized sample logs of ``sample_logs/generate.py`` are whole fixed incidents
for demos; these are parametrised per task family and sized to the model's window.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from rlm_cli.store.timestamps import MONTHS

DAY = 86400
HOUR = 3600
_USERS = ["alice", "bob", "carol", "deploy", "svc-backup", "mlops", "dave", "erin"]
_BAD_USERS = ["admin", "test", "oracle", "ubuntu", "git", "postgres", "user", "pi", "ftp"]


@dataclass
class GeneratedLog:
    """A generated log and what is true about it."""

    text: str
    truth: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Event:
    t: int
    host: str
    msg: str  # "prog[pid]: message"


def iso_time(t: int) -> str:
    """``2026-11-03 14:05:09`` (UTC), the form a ``time:`` check expects."""
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def _stamp(t: int, style: str) -> str:
    d = datetime.fromtimestamp(t, timezone.utc)
    if style == "iso":
        return d.strftime("%Y-%m-%dT%H:%M:%S+00:00")
    return f"{MONTHS[d.month - 1]} {d.day:2d} {d.strftime('%H:%M:%S')}"


def _log(
    c: _Cluster,
    chars: int,
    special: list[_Event],
    truth: dict,
    *,
    style: str | None = None,
    weights: list[float] | None = None,
) -> GeneratedLog:
    """The log: everyday noise around the ``special`` events up to about ``chars``
    characters, in ``style`` (else iso or bsd, drawn after the noise), with its truth."""
    events = c.noise(_size_left(chars, special), weights) + special
    return GeneratedLog(_render(events, style or c.rng.choice(["iso", "bsd"])), truth)


def _render(events: list[_Event], style: str) -> str:
    events.sort(key=lambda e: e.t)
    return "".join(f"{_stamp(e.t, style)} {e.host} {e.msg}\n" for e in events)


class _Cluster:
    """Hosts, a time span and a noise source sized to a target number of characters."""

    def __init__(self, rng: random.Random, chars: int, prefix: str = "cn") -> None:
        self.rng = rng
        self.chars = chars
        scale = max(chars / 16_000, 0.5)
        n_hosts = max(8, min(64, int(6 * math.sqrt(scale * 2))))
        first = rng.randrange(1, 200)
        self.hosts = [f"{prefix}{first + i:03d}" for i in range(n_hosts)]
        self.days = 2 + int(math.sqrt(scale))
        self.start = int(datetime(2026, 9, 1, tzinfo=timezone.utc).timestamp())
        self.start += rng.randrange(60) * DAY + rng.randrange(DAY)
        self.span = self.days * DAY
        self.pids = {h: rng.randrange(800, 30000) for h in self.hosts}
        self.jobs = rng.randrange(100_000, 900_000)
        self.weights = [rng.uniform(0.6, 1.4) for _ in self.hosts]

    def at(self, frac: float) -> int:
        """The time at fraction ``frac`` of the span."""
        return self.start + int(frac * self.span)

    def pid(self, host: str) -> int:
        self.pids[host] += self.rng.randrange(1, 40)
        return self.pids[host]

    def noise_msg(self, host: str) -> str:
        """One line of everyday chatter on ``host`` (without time and host)."""
        r, pid = self.rng, self.pid(host)
        k = r.random()
        ip = f"10.{r.choice([1, 2, 3])}.{r.randrange(256)}.{r.randrange(1, 255)}"
        if k < 0.10:
            u = r.choice(_USERS)
            return f"sshd[{pid}]: Accepted publickey for {u} from {ip} port {r.randrange(30000, 65000)} ssh2: ED25519 SHA256:{r.randrange(16**10):010x}"
        if k < 0.18:
            u = r.choice(_USERS)
            return f"sshd[{pid}]: pam_unix(sshd:session): session {'opened' if r.random() < 0.5 else 'closed'} for user {u}"
        if k < 0.24:
            ext = f"198.51.100.{r.randrange(2, 250)}"
            return f"sshd[{pid}]: Invalid user {r.choice(_BAD_USERS)} from {ext} port {r.randrange(30000, 65000)}"
        if k < 0.32:
            return f"systemd[1]: Started session-{r.randrange(1, 9999)}.scope - Session {r.randrange(1, 9999)} of User {r.choice(_USERS)}."
        if k < 0.38:
            return f"systemd-logind[{700 + len(host)}]: Removed session {r.randrange(1, 9999)}."
        if k < 0.45:
            return f"CRON[{pid}]: (root) CMD (/usr/lib/sysstat/sa1 1 1)"
        if k < 0.49:
            return f"chronyd[{610 + len(host)}]: Selected source 192.0.2.{r.choice([10, 11, 12])} (ntp.internal)"
        if k < 0.62:
            self.jobs += r.randrange(1, 5)
            j = self.jobs
            return r.choice(
                [
                    f"slurmd[{1200 + len(host)}]: launch task StepId={j}.0 request from UID:{1000 + r.randrange(40)} GID:{1000 + r.randrange(40)} HOST:10.1.0.2 PORT:{r.randrange(30000, 65000)}",
                    f"slurmd[{1200 + len(host)}]: _run_prolog: run job script took usec={r.randrange(4000, 90000)}",
                    f"slurmstepd[{pid}]: [{j}.batch] done with job",
                    f"slurmd[{1200 + len(host)}]: Launching batch job {j} for UID {1000 + r.randrange(40)}",
                ]
            )
        if k < 0.72:
            return r.choice(
                [
                    f"kernel: [{r.randrange(1000, 900000)}.{r.randrange(10**6):06d}] perf: interrupt took too long ({r.randrange(2500, 9000)} > {r.randrange(2000, 2500)}), lowering kernel.perf_event_max_sample_rate to {r.randrange(20000, 80000)}",
                    f'kernel: [{r.randrange(1000, 900000)}.{r.randrange(10**6):06d}] audit: type=1400 audit({r.randrange(10**9, 2 * 10**9)}.{r.randrange(1000):03d}:{r.randrange(9999)}): apparmor="ALLOWED" operation="open" profile="slurmd" name="/proc/{pid}/status"',
                    f"kernel: [{r.randrange(1000, 900000)}.{r.randrange(10**6):06d}] IPv6: ADDRCONF(NETDEV_CHANGE): ib0: link becomes ready",
                    f"kernel: [{r.randrange(1000, 900000)}.{r.randrange(10**6):06d}] EXT4-fs (nvme0n1p2): re-mounted. Quota mode: none.",
                ]
            )
        if k < 0.80:
            return f"ipmiseld[{900 + len(host)}]: {host}-bmc SEL: Session Audit #0xa1 | Session {'Activated' if r.random() < 0.5 else 'Deactivated'} | Asserted"
        if k < 0.86:
            return f'node_exporter[{1500 + len(host)}]: ts={r.randrange(10**9)} level=info collector=textfile msg="scraped" duration_seconds=0.{r.randrange(10**4):04d}'
        if k < 0.93:
            return f"rsyslogd[{520 + len(host)}]: imjournal: {r.randrange(100, 9000)} messages lost due to rate-limiting (20000 allowed within 600 seconds)"
        return f"systemd[1]: {r.choice(['logrotate', 'man-db', 'fstrim', 'apt-daily'])}.service: Deactivated successfully."

    def noise(self, chars: int, host_weights: list[float] | None = None) -> list[_Event]:
        """Noise events spread over the span until about ``chars`` characters of log."""
        out: list[_Event] = []
        weights = host_weights or self.weights
        used = 0
        while used < chars:
            host = self.rng.choices(self.hosts, weights)[0]
            msg = self.noise_msg(host)
            used += len(msg) + len(host) + 28
            out.append(_Event(0, host, msg))
        times = sorted(self.rng.randrange(self.span) for _ in out)
        for e, t in zip(out, times):
            e.t = self.start + t
        return out


def _size_left(chars: int, special: list[_Event]) -> int:
    return max(0, chars - sum(len(e.msg) + len(e.host) + 28 for e in special))


# ---------------------------------------------------------------------------
# Families
# ---------------------------------------------------------------------------

_NEEDLES = [
    (
        "Which host reported that its RAID controller battery (BBU) failed and must be replaced?",
        "kernel: megaraid_sas 0000:{bus}:00.0: BBU failed: battery needs replacement, write cache disabled",
        "kernel: megaraid_sas 0000:{bus}:00.0: BBU learn cycle completed, battery OK",
    ),
    (
        "Which host has a disk whose SMART self-assessment predicts imminent failure?",
        "smartd[{pid}]: Device: /dev/sdc [SAT], FAILED SMART self-check. BACK UP DATA NOW!",
        "smartd[{pid}]: Device: /dev/sdc [SAT], SMART Usage Attribute: 194 Temperature_Celsius changed from 34 to 36",
    ),
    (
        "Which host had a GPU fall off the bus?",
        "kernel: NVRM: Xid (PCI:0000:{bus}:00): 79, pid={pid}, name=python3, GPU has fallen off the bus.",
        "kernel: NVRM: Xid (PCI:0000:{bus}:00): 13, pid={pid}, name=python3, Graphics SM Warp Exception on (GPC 0, TPC 1, SM 0)",
    ),
]


def needle(seed: int, chars: int) -> GeneratedLog:
    """One line decides: which host logged a unique failure (a near miss elsewhere, earlier)."""
    rng = random.Random(f"needle:{seed}:{chars}")
    c = _Cluster(rng, chars)
    question, hit, miss = _NEEDLES[seed % len(_NEEDLES)]
    host, decoy = rng.sample(c.hosts, 2)
    special = [
        _Event(
            c.at(rng.uniform(0.4, 0.95)),
            host,
            hit.format(bus=f"{rng.randrange(16, 250):02x}", pid=c.pid(host)),
        ),
        _Event(
            c.at(rng.uniform(0.02, 0.3)),
            decoy,
            miss.format(bus=f"{rng.randrange(16, 250):02x}", pid=c.pid(decoy)),
        ),
    ]
    return _log(
        c, chars, special, {"question": question, "host": host, "decoy": decoy, "hosts": c.hosts}
    )


def oom_count(seed: int, chars: int) -> GeneratedLog:
    """Aggregation: how many processes the kernel OOM killer killed, over the whole log."""
    rng = random.Random(f"oom:{seed}:{chars}")
    c = _Cluster(rng, chars)
    n = min(rng.randrange(6, 24), max(4, int(0.3 * chars / 450)))  # kills: at most ~30% of the log
    special: list[_Event] = []
    for _ in range(n):
        host = rng.choice(c.hosts)
        t = c.at(rng.uniform(0.15, 1.0))
        pid, comm = c.pid(host), rng.choice(["python3", "java", "gmx_mpi", "R", "julia"])
        special += [
            _Event(
                t,
                host,
                f"kernel: {comm} invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0, oom_score_adj=0",
            ),
            _Event(
                t,
                host,
                f"kernel: Out of memory: Killed process {pid} ({comm}) total-vm:{rng.randrange(10**6, 10**8)}kB, anon-rss:{rng.randrange(10**6, 10**8)}kB, file-rss:0kB, shmem-rss:0kB, UID:{1000 + rng.randrange(40)} pgtables:{rng.randrange(1000, 90000)}kB oom_score_adj:0",
            ),
            _Event(
                t + 1,
                host,
                f"kernel: oom_reaper: reaped process {pid} ({comm}), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB",
            ),
        ]
        if rng.random() < 0.5:  # slurm reports the same kill again: counting it double is wrong
            c.jobs += 1
            special.append(
                _Event(
                    t + 2,
                    host,
                    f"slurmstepd[{c.pid(host)}]: error: Detected 1 oom_kill event in StepId={c.jobs}.batch. Some of the step tasks have been OOM Killed.",
                )
            )
    return _log(
        c,
        chars,
        special,
        {
            "question": "How many processes did the kernel OOM killer kill in this log? Answer with the number.",
            "count": n,
        },
    )


def ssh_topk(seed: int, chars: int) -> GeneratedLog:
    """Aggregation: the host with the most failed SSH password attempts over the whole log.

    The runner-up's attempts come early and the leader's late, so the first part of the
    log points at the wrong host; a third host is the busiest overall (most lines, most
    ``Invalid user`` probes) without leading on failed passwords.
    """
    rng = random.Random(f"topk:{seed}:{chars}")
    c = _Cluster(rng, chars)
    top, second, busy = rng.sample(c.hosts, 3)
    base = max(4, int(chars / 4_000))
    counts = {top: base * 2, second: int(base * 1.4)}
    for h in c.hosts:
        if h not in counts:
            counts[h] = rng.randrange(0, max(1, base // 2))
    special: list[_Event] = []
    for h, k in counts.items():
        lo, hi = (0.45, 1.0) if h == top else (0.0, 0.45) if h == second else (0.0, 1.0)
        for _ in range(k):
            ip = f"203.0.113.{rng.randrange(2, 250)}"
            u = rng.choice(["root", *_USERS[:3]])
            special.append(
                _Event(
                    c.at(rng.uniform(lo, hi)),
                    h,
                    f"sshd[{c.pid(h)}]: Failed password for {u} from {ip} port {rng.randrange(30000, 65000)} ssh2",
                )
            )
    for _ in range(base * 3):  # the busy host: many probes of another kind
        ip = f"198.51.100.{rng.randrange(2, 250)}"
        special.append(
            _Event(
                c.at(rng.random()),
                busy,
                f"sshd[{c.pid(busy)}]: Connection closed by invalid user {rng.choice(_BAD_USERS)} {ip} port {rng.randrange(30000, 65000)} [preauth]",
            )
        )
    weights = [w * (4.0 if h == busy else 1.0) for h, w in zip(c.hosts, c.weights)]
    return _log(
        c,
        chars,
        special,
        {
            "question": "Which host had the most failed SSH password attempts ('Failed password') in this log?",
            "host": top,
            "runner_up": second,
            "busy": busy,
            "hosts": c.hosts,
            "counts": counts,
        },
        weights=weights,
    )


def nfs_timeline(seed: int, chars: int, which: str = "first") -> GeneratedLog:
    """Timeline: the first (or last) time an NFS server stopped responding.

    Episodes of ``nas01`` sit between 40% and 95% of the span; a near miss (``nas02``)
    comes before the first one (``first``) or after the last one (``last``).
    """
    if which not in ("first", "last"):
        raise ValueError(f"which={which!r}: expected first or last")
    rng = random.Random(f"nfs:{seed}:{chars}:{which}")
    c = _Cluster(rng, chars)
    special: list[_Event] = []
    times = sorted(c.at(rng.uniform(0.4, 0.95)) for _ in range(rng.randrange(3, 7)))
    for t in times:
        for h in rng.sample(c.hosts, rng.randrange(1, 4)):
            tt = t + rng.randrange(0, 5) if t != times[0] or which == "last" else t
            special.append(_Event(tt, h, "kernel: nfs: server nas01 not responding, still trying"))
            special.append(_Event(tt + rng.randrange(30, 900), h, "kernel: nfs: server nas01 OK"))
    # The exact first / last instant, on one host, with nothing tied at that second.
    first, last = times[0], max(e.t for e in special if "not responding" in e.msg)
    answer = first if which == "first" else last
    decoy_t = (
        c.at(rng.uniform(0.05, 0.3)) if which == "first" else last + rng.randrange(HOUR, 6 * HOUR)
    )
    decoy_host = rng.choice(c.hosts)
    special += [
        _Event(decoy_t, decoy_host, "kernel: nfs: server nas02 not responding, still trying"),
        _Event(decoy_t + rng.randrange(30, 600), decoy_host, "kernel: nfs: server nas02 OK"),
    ]
    verb = "first" if which == "first" else "last"
    return _log(
        c,
        chars,
        special,
        {
            "question": f"When did the NFS server nas01 {verb} stop responding (the {verb} 'nfs: server nas01 not responding' line)? Give the date and time.",
            "time": iso_time(answer),
            "decoy_time": iso_time(decoy_t),
        },
        style="iso",
    )


def panic_bmc_ip(seed: int, chars: int) -> GeneratedLog:
    """Multi-hop: find the host that had a kernel panic, then the IP its BMC leased.

    The head node's DHCP server leases an address to every host's OS interface and to its
    BMC (``cnNNN-bmc``), again and again over the span; the OS address is the near miss,
    and a soft lockup on another host is the near-miss event.
    """
    rng = random.Random(f"panic:{seed}:{chars}")
    c = _Cluster(rng, chars)
    host, decoy = rng.sample(c.hosts, 2)
    used: set[str] = set()

    def fresh(prefix: str) -> str:
        while True:
            ip = f"{prefix}.{rng.randrange(1, 60)}.{rng.randrange(2, 254)}"
            if ip not in used:
                used.add(ip)
                return ip

    bmc = {h: fresh("10.20") for h in c.hosts}
    osip = {h: fresh("10.10") for h in c.hosts}
    macs = {h: ":".join(f"{rng.randrange(256):02x}" for _ in range(6)) for h in c.hosts}
    special: list[_Event] = []
    rounds = max(2, int(0.2 * chars / (len(c.hosts) * 4 * 80)))  # leases: ~20% of the log
    for h in c.hosts:
        for _ in range(rounds):
            for name, ip, mac in (
                (f"{h}-bmc", bmc[h], "3c:ec:ef" + macs[h][8:]),
                (h, osip[h], macs[h]),
            ):
                t = c.at(rng.random())
                special.append(
                    _Event(
                        t,
                        "mgmt01",
                        f"dhcpd[2231]: DHCPREQUEST for {ip} from {mac} ({name}) via eno2",
                    )
                )
                special.append(
                    _Event(
                        t,
                        "mgmt01",
                        f"dhcpd[2231]: DHCPACK on {ip} to {mac} ({name}) via eno2",
                    )
                )
    t = c.at(rng.uniform(0.4, 0.9))
    addr = f"ffff{rng.randrange(16**12):012x}"
    special += [
        _Event(
            t,
            host,
            f"kernel: [{rng.randrange(10**5, 10**6)}.{rng.randrange(10**6):06d}] BUG: unable to handle page fault for address: {addr}",
        ),
        _Event(t, host, "kernel: RIP: 0010:mlx5e_poll_rx_cq+0x3b1/0x9a0 [mlx5_core]"),
        _Event(t + 1, host, "kernel: Kernel panic - not syncing: Fatal exception in interrupt"),
        _Event(
            c.at(rng.uniform(0.05, 0.35)),
            decoy,
            f"kernel: watchdog: BUG: soft lockup - CPU#{rng.randrange(64)} stuck for 22s! [kworker/{rng.randrange(64)}:1:{rng.randrange(100, 9999)}]",
        ),
    ]
    return _log(
        c,
        chars,
        special,
        {
            "question": "One host had a kernel panic. What is the IP address of that host's BMC (its -bmc DHCP lease)?",
            "host": host,
            "bmc_ip": bmc[host],
            "bmc_ip_re": r"(?<![\d.])" + re.escape(bmc[host]) + r"(?![\d])",
            "os_ip": osip[host],
        },
    )


# ---------------------------------------------------------------------------
# BMC fleet: which node fails
# ---------------------------------------------------------------------------

_DIMMS = [f"CPU{c}_DIMM_{b}{s}" for c in (1, 2) for b in "ABCD" for s in (1, 2)]


@dataclass
class _Sel:
    t: int
    node: str
    sensor: str
    event: str
    state: str = "Asserted"
    extra: str = ""


def _sel_routine(rng: random.Random, node: str, t: int) -> list[_Sel]:
    """One routine SEL episode on a healthy node (most clear themselves)."""
    k = rng.random()
    if k < 0.45:
        return [
            _Sel(t, node, "Session Audit #0xa1", "Session Activated"),
            _Sel(t + rng.randrange(40, 1800), node, "Session Audit #0xa1", "Session Deactivated"),
        ]
    if k < 0.6:
        fan = f"FAN{rng.randint(1, 6)}"
        return [
            _Sel(
                t,
                node,
                f"Fan {fan}",
                "Lower Critical going low",
                "Asserted",
                f"Reading {rng.choice([0, 240, 360])} < Threshold 600 RPM",
            ),
            _Sel(
                t + rng.randrange(3, 240),
                node,
                f"Fan {fan}",
                "Lower Critical going low",
                "Deasserted",
                f"Reading {rng.randrange(5200, 9000, 120)} > Threshold 600 RPM",
            ),
        ]
    if k < 0.75:
        return [
            _Sel(
                t,
                node,
                "Temperature Inlet Temp",
                "Upper Non-critical going high",
                "Asserted",
                f"Reading {rng.randint(38, 40)} > Threshold 37 degrees C",
            ),
            _Sel(
                t + rng.randrange(900, 5400),
                node,
                "Temperature Inlet Temp",
                "Upper Non-critical going high",
                "Deasserted",
                "Reading 35 < Threshold 37 degrees C",
            ),
        ]
    if k < 0.85:
        gap = rng.randrange(4, 50)
        return [
            _Sel(t, node, "Power Supply PS2 Status", "Power Supply AC lost"),
            _Sel(t + 1, node, "Power Unit PSU Redundancy", "Redundancy Lost"),
            _Sel(t + gap, node, "Power Supply PS2 Status", "Power Supply AC lost", "Deasserted"),
            _Sel(t + gap + 2, node, "Power Unit PSU Redundancy", "Fully Redundant"),
        ]
    if k < 0.93:
        return [_Sel(t, node, "Session Audit #0xa1", "Invalid username or password")]
    return [
        _Sel(t, node, "Mgmt Health #0xd2", "Sensor access degraded or unavailable"),
        _Sel(
            t + rng.randrange(20, 400),
            node,
            "Mgmt Health #0xd2",
            "Sensor access degraded or unavailable",
            "Deasserted",
        ),
    ]


def _mem_sensor(dimm: str) -> str:
    return "Memory #0x87" if dimm.startswith("CPU1") else "Memory #0x88"


def _sel_failure(rng: random.Random, node: str, kind: str, c: _Cluster) -> list[_Sel]:
    """The failing node's records: a rising trend from 30% of the span, then the failure."""
    out: list[_Sel] = []
    end = c.at(rng.uniform(0.85, 0.95))
    onset = c.at(0.3)
    if kind == "ecc":
        dimm = rng.choice(_DIMMS)
        sensor = _mem_sensor(dimm)
        n = rng.randrange(10, 18)
        for i in range(n):  # ever closer together: a rising rate
            frac = 1 - (1 - (i + rng.random()) / n) ** 2
            out.append(
                _Sel(
                    onset + int(frac * (end - onset)),
                    node,
                    sensor,
                    "Correctable ECC",
                    "Asserted",
                    dimm,
                )
            )
        out += [
            _Sel(end, node, sensor, "Correctable ECC logging limit reached", "Asserted", dimm),
            _Sel(
                end + rng.randrange(2 * HOUR, 9 * HOUR),
                node,
                sensor,
                "Uncorrectable ECC",
                "Asserted",
                dimm,
            ),
        ]
        out.append(
            _Sel(
                out[-1].t + 1,
                node,
                "Processor CPU2 Status",
                "Uncorrectable machine check exception",
            )
        )
    elif kind == "fan":
        fan = f"FAN{rng.randint(1, 6)}"
        n = rng.randrange(8, 14)
        for i in range(n):
            rpm = 4800 - int(3600 * (i + 1) / n)
            t = onset + int((i + rng.random()) / n * (end - onset))
            out.append(
                _Sel(
                    t,
                    node,
                    f"Fan {fan}",
                    "Lower Non-critical going low",
                    "Asserted",
                    f"Reading {rpm} < Threshold 4900 RPM",
                )
            )
        out += [
            _Sel(
                end,
                node,
                f"Fan {fan}",
                "Lower Critical going low",
                "Asserted",
                "Reading 0 < Threshold 600 RPM",
            ),
            _Sel(end + 2, node, "Fan Redundancy #0x5b", "Redundancy Lost"),
            _Sel(
                end + rng.randrange(600, 3600),
                node,
                "Temperature CPU1 Temp",
                "Upper Critical going high",
                "Asserted",
                "Reading 97 > Threshold 95 degrees C",
            ),
        ]
    else:  # psu
        n = rng.randrange(6, 11)
        for i in range(n):
            t = onset + int((i + rng.random()) / n * (end - onset))
            out.append(
                _Sel(
                    t,
                    node,
                    "Power Supply PS1 Status",
                    "Predictive failure",
                    "Asserted",
                    f"Output current {rng.randrange(41, 48)}.{rng.randrange(10)} A",
                )
            )
        out += [
            _Sel(end, node, "Power Supply PS1 Status", "Power Supply Failure detected"),
            _Sel(end + 1, node, "Power Unit PSU Redundancy", "Redundancy Lost"),
        ]
    return out


def _sel_lines(records: list[_Sel], fmt: str, rng: random.Random) -> str:
    records.sort(key=lambda r: r.t)
    rid: dict[str, int] = {}
    out = []
    for r in records:
        rid[r.node] = rid.get(r.node, rng.randrange(0x40, 0x600)) + 1
        d = datetime.fromtimestamp(r.t, timezone.utc)
        date, clock = d.strftime("%m/%d/%Y"), d.strftime("%H:%M:%S")
        tail = f"{r.sensor} | {r.event} | {r.state}" + (f" | {r.extra}" if r.extra else "")
        if fmt == "pipe":
            out.append(f"{r.node} | {rid[r.node]:4x} | {date} | {clock} | {tail}")
        elif fmt == "colon":
            out.append(f"{r.node}: {rid[r.node]:4x} | {date} | {clock} | {tail}")
        else:  # syslog-wrapped: the BMC forwards its SEL to a collector
            detail = f' detail="{r.extra}"' if r.extra else ""
            out.append(
                f"{d.strftime('%Y-%m-%dT%H:%M:%S+00:00')} {r.node}-bmc ipmi-sel[{700 + len(r.node)}]: "
                f'id=0x{rid[r.node]:04x} sensor="{r.sensor}" event="{r.event}" state={r.state}{detail}'
            )
    return "".join(line + "\n" for line in out)


BMC_FORMATS = ("pipe", "colon", "syslog")
FAILURE_KINDS = ("ecc", "fan", "psu")


def bmc_fleet(
    seed: int, chars: int, fmt: str | None = None, failure: str | None = None
) -> GeneratedLog:
    """Which entity fails: a BMC SEL fleet dump, one node drifting to failure.

    Healthy nodes have routine episodes that clear (fan blips, warm-aisle temperatures,
    PSU AC flaps, sessions), a few single correctable ECC records, and one of them (the
    busiest) has at least twice the failing node's lines.
    """
    rng = random.Random(f"bmc:{seed}:{chars}:{fmt}:{failure}")
    fmt = fmt or BMC_FORMATS[seed % len(BMC_FORMATS)]
    failure = failure or FAILURE_KINDS[(seed // len(BMC_FORMATS)) % len(FAILURE_KINDS)]
    if fmt not in BMC_FORMATS:
        raise ValueError(f"fmt={fmt!r}: expected one of {', '.join(BMC_FORMATS)}")
    if failure not in FAILURE_KINDS:
        raise ValueError(f"failure={failure!r}: expected one of {', '.join(FAILURE_KINDS)}")
    c = _Cluster(rng, chars, prefix="node")
    failing, busy, near = rng.sample(c.hosts, 3)
    records = _sel_failure(rng, failing, failure, c)
    # Near misses: a single correctable ECC early on a healthy node (and a cleared CPU scare).
    dimm = rng.choice(_DIMMS)
    records.append(
        _Sel(
            c.at(rng.uniform(0.01, 0.2)),
            near,
            _mem_sensor(dimm),
            "Correctable ECC",
            "Asserted",
            dimm,
        )
    )
    records += [
        _Sel(
            c.at(0.12),
            busy,
            "Temperature CPU1 Temp",
            "Upper Critical going high",
            "Asserted",
            "Reading 96 > Threshold 95 degrees C",
        ),
        _Sel(
            c.at(0.12) + rng.randrange(30, 150),
            busy,
            "Temperature CPU1 Temp",
            "Upper Critical going high",
            "Deasserted",
            "Reading 81 < Threshold 95 degrees C",
        ),
    ]
    overhead = {"pipe": 41, "colon": 40, "syslog": 100}[fmt]

    def size(r: _Sel) -> int:
        return overhead + len(r.sensor) + len(r.event) + len(r.state) + len(r.extra)

    used = sum(size(r) for r in records)
    per_node = {h: 0 for h in c.hosts}
    for r in records:
        per_node[r.node] += 1
    weights = {h: w * (3.0 if h == busy else 1.0) for h, w in zip(c.hosts, c.weights)}
    hosts, ws = list(weights), list(weights.values())
    while used < chars or per_node[busy] < 2 * per_node[failing]:
        node = busy if per_node[busy] < 2 * per_node[failing] else rng.choices(hosts, ws)[0]
        for r in _sel_routine(rng, node, c.at(rng.random())):
            records.append(r)
            per_node[node] += 1
            used += size(r)
    return GeneratedLog(
        _sel_lines(records, fmt, rng),
        {
            "question": "Which node in this BMC event log is failing or about to fail? Name the node.",
            "node": failing,
            "busy": busy,
            "near_miss": near,
            "format": fmt,
            "failure": failure,
            "nodes": c.hosts,
            "lines_failing": per_node[failing],
            "lines_busy": per_node[busy],
        },
    )


GENERATORS: dict[str, Callable[..., GeneratedLog]] = {
    "needle": needle,
    "oom_count": oom_count,
    "ssh_topk": ssh_topk,
    "nfs_timeline": nfs_timeline,
    "panic_bmc_ip": panic_bmc_ip,
    "bmc_fleet": bmc_fleet,
}
