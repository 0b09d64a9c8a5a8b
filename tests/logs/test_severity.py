import pytest

from rlm_cli.engine.findings import normalise_severity
from rlm_cli.logs.severity import (
    RULES,
    Severity,
    classify,
    finding_severity,
    header_level,
    level_of,
)

S = Severity


def test_scale_is_ordered():
    order = [S.TRACE, S.DEBUG, S.INFO, S.NOTICE, S.WARNING, S.ERROR, S.CRITICAL, S.FATAL]
    assert order == sorted(order)
    assert S.WARNING < S.ERROR < S.FATAL


@pytest.mark.parametrize(
    "name, sev",
    [
        ("warn", S.WARNING),
        ("WARNING", S.WARNING),
        ("err", S.ERROR),
        ("Error", S.ERROR),
        ("SEVERE", S.ERROR),
        ("crit", S.CRITICAL),
        ("alert", S.CRITICAL),
        ("emerg", S.FATAL),
        ("panic", S.FATAL),
        ("FATAL", S.FATAL),
        ("notice", S.NOTICE),
        ("[info]", S.INFO),
        ("debug", S.DEBUG),
        ("TRACE", S.TRACE),
        ("E", S.ERROR),
        ("W", S.WARNING),
        ("I", S.INFO),
        ("3", S.ERROR),
    ],
)
def test_parse_spellings(name, sev):
    assert Severity.parse(name) is sev


@pytest.mark.parametrize("name", ["", "combo", "banana", "8", "errors"])
def test_parse_rejects(name):
    with pytest.raises(ValueError):
        Severity.parse(name)
    assert level_of(name) is None


def test_level_field_wins_over_keywords():
    assert classify("instruction cache parity error corrected", "INFO") is S.INFO
    assert classify("all good", "E") is S.ERROR
    # an unreadable level field is ignored, the body decides
    assert classify("disk failed", "combo") is S.ERROR


def test_level_token_in_body():
    assert classify("RAS KERNEL FATAL data TLB error interrupt") is S.FATAL
    assert classify("RAS KERNEL INFO instruction cache parity error corrected") is S.INFO
    assert classify("[notice] jk2_init() Found child 6725") is S.NOTICE
    assert classify("[error] mod_jk child workerEnv in error state 6") is S.ERROR
    # single letters in a body are not levels
    assert classify("E coli sample W started I think") is S.INFO


SEL = "  1a | 11/23/2026 | 04:12:55 | {} | {} | {}"


@pytest.mark.parametrize(
    "sensor, event, state, sev",
    [
        ("Memory #0x87", "Correctable ECC", "Asserted", S.WARNING),
        ("Memory #0x87", "Correctable ECC logging limit reached", "Asserted", S.ERROR),
        ("Memory #0x87", "Uncorrectable ECC logging limit reached", "Asserted", S.FATAL),
        ("Memory #0x87", "Uncorrectable ECC", "Asserted", S.FATAL),
        ("Processor #0x01", "Machine Check", "Asserted", S.CRITICAL),
        ("Temperature #0x30", "Upper Critical going high", "Asserted", S.CRITICAL),
        ("Temperature #0x30", "Upper Critical going high", "Deasserted", S.NOTICE),
        ("Temperature #0x30", "Upper Non-critical going high", "Asserted", S.WARNING),
        ("Temperature #0x30", "Upper Non-recoverable going high", "Asserted", S.FATAL),
        ("Fan #0x30", "Lower Critical going low", "Asserted", S.CRITICAL),
        ("Power Supply #0x51", "Failure detected", "Asserted", S.CRITICAL),
        ("Power Supply #0x51", "Power Supply AC lost", "Asserted", S.CRITICAL),
        ("Power Supply #0x51", "Presence detected", "Asserted", S.INFO),
        ("Power Supply #0x51", "Presence detected", "Deasserted", S.INFO),
        ("Drive Slot #0x01", "Drive Fault", "Asserted", S.ERROR),
    ],
)
def test_ipmi_sel(sensor, event, state, sev):
    assert classify(SEL.format(sensor, event, state)) is sev


@pytest.mark.parametrize(
    "body, sev",
    [
        ("Out of memory: Kill process 4242 (java) score 901", S.CRITICAL),
        ("java[4242]: segfault at 0 ip 00007f sp 00007ff error 4", S.ERROR),
        ("Kernel panic - not syncing: Fatal exception", S.FATAL),
        ("end_request: I/O error, dev sda, sector 12345", S.ERROR),
        ("mlx5_core 0000:3b:00.0: ib0: Link down", S.ERROR),
        ("connection to 10.0.0.2 timed out", S.WARNING),
        ("Mounting /scratch failed", S.ERROR),
        ("mce: [Hardware Error]: Machine check events logged", S.ERROR),
        # a corrected error, as SEL "Correctable ECC" (the kernel logs CE at KERN_WARNING)
        ("EDAC MC0: 1 CE memory read error on CPU_SrcID#0", S.WARNING),
        ("EDAC MC0: 1 UE memory read error on CPU_SrcID#0", S.ERROR),
        ("/dev/sdc [SAT], 8 Currently unreadable (pending) sectors", S.WARNING),
        ("Device: /dev/sda [SAT], FAILED SMART self-check. BACK UP DATA NOW!", S.CRITICAL),
        ("filesystem /var is 97% full", S.WARNING),
        ("NIC Link is Up 1000 Mbps Full Duplex", S.INFO),
        ("slow query took 3.2s", S.WARNING),
        ("vdev=sdb1 vdev_state=FAULTED", S.ERROR),
        ("update_node: node c401-104 state set to DRAINED", S.WARNING),
        ("Accepted publickey for root from 10.0.0.1", S.INFO),
        ("Received connection request /10.10.34.11:45307", S.INFO),
        ("authentication failure; logname= uid=0", S.WARNING),
        ("Invalid user webmaster from 173.234.31.186", S.WARNING),
        ("System is shutting down", S.NOTICE),
        ("", S.INFO),
    ],
)
def test_keywords(body, sev):
    assert classify(body) is sev


@pytest.mark.parametrize(
    "body",
    [
        "scrub completed with no errors",
        "0 failures, 12 passed",
        "zfs scrub: error=0 repaired=0",
        "errors: 0",
        "error count: 0",
        "Errors: 000",
        "memory test finished without errors",
        "checked 12 disks, no new errors",
        "failed=0 ok=12",
        "error-free transfer",
    ],
)
def test_negations_are_not_errors(body):
    assert classify(body) < S.WARNING


def test_negation_does_not_hide_a_real_error_elsewhere():
    assert classify("no errors on eth0; sda: I/O error") is S.ERROR
    assert classify("errors: 3") is S.ERROR


def test_words_that_contain_keywords_are_not_matches():
    assert classify("handleError registered; failover configured; errorlog path set") is S.INFO
    assert classify("using /var/log/error_log") is S.INFO


def test_rules_compile_and_are_a_table():
    assert len(RULES) > 20
    assert all(isinstance(frag, str) and trig for _, trig, frag in RULES)


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("WARN", "warning"),
        ("err", "error"),
        ("crit", "critical"),
        ("fatal", "critical"),
        ("emerg", "critical"),
        ("high", "critical"),
        ("medium", "warning"),
        ("low", "info"),
        ("notice", "info"),
        ("debug", "info"),
        ("Error", "error"),
        ("bogus", "warning"),
        ("", "warning"),
    ],
)
def test_finding_scale_is_a_cut_of_the_one_scale(word, expected):
    assert finding_severity(word) == expected
    assert normalise_severity(word) == expected  # findings use the same function


@pytest.mark.parametrize(
    ("head", "sev"),
    [
        ("<11>1 2026-11-18T10:03:27Z web05 orders 123 - - ", S.ERROR),  # syslog PRI 11 % 8 = 3
        ("<30>Nov 18 10:03:27 web05 sshd[1]: ", S.INFO),
        ('{"ts": "x", "level": "warn", ', S.WARNING),
        ('{"__REALTIME_TIMESTAMP": "1", "PRIORITY": "2", ', S.CRITICAL),
        ('{"Created": "x", "Severity": "Warning", ', S.WARNING),
        ("time=2026-11-18T10:03:27Z level=error ", S.ERROR),
        ("2026-11-18T10:03:27.1Z stderr F E1118 10:03:27.123456   1 server.go:12] ", S.ERROR),
        ("11-18 10:03:27.123  1234  1240 W ", S.WARNING),
        ("2026-11-18 10:03:27,123 [main] ", None),
    ],
)
def test_header_level_reads_every_common_way_of_stating_it(head, sev):
    assert header_level(head) == sev
