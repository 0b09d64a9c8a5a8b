"""Threads from physical cores (sysfs topology), and the speed fields of completions and usage."""

from __future__ import annotations

from pathlib import Path

from rlm_cli.engine.records import Usage
from rlm_cli.llm.base import Completion
from rlm_cli.llm.machine import choose, physical_cores


def _sysfs(root: Path, topo: dict[int, tuple[int, int]]) -> Path:
    for cpu, (pkg, core) in topo.items():
        d = root / f"cpu{cpu}" / "topology"
        d.mkdir(parents=True)
        (d / "physical_package_id").write_text(f"{pkg}\n")
        (d / "core_id").write_text(f"{core}\n")
    return root


def test_smt_siblings_count_once(tmp_path: Path) -> None:
    # 2 sockets x 2 cores x 2 threads
    topo = {i: (i // 4, (i // 2) % 2) for i in range(8)}
    sysfs = _sysfs(tmp_path, topo)
    assert physical_cores(list(range(8)), sysfs) == 4
    assert physical_cores([0, 1], sysfs) == 1  # affinity narrowed to one core's two threads
    assert physical_cores([0, 2, 4], sysfs) == 3


def test_no_topology_falls_back_to_the_cpu_count(tmp_path: Path) -> None:
    assert physical_cores([0, 1, 2], tmp_path) == 3


def test_choose_keeps_what_was_set() -> None:
    t = choose(3, 256)
    assert (t.threads, t.threads_batch, t.n_batch, t.n_ubatch) == (3, 3, 256, 256)
    assert "set to 3" in t.describe()
    auto = choose(None, None, load=0.0)
    assert auto.threads == physical_cores() and auto.n_batch == 512
    assert choose(None, None, n_gpu_layers=99).n_batch == 2048


def test_usage_adds_speed_per_run() -> None:
    u = Usage()
    u.add(
        Completion(
            "a",
            prompt_tokens=900,
            completion_tokens=11,
            prompt_tokens_reused=800,
            prompt_tokens_cached=800,
            first_token_s=1.5,
            gen_tokens_per_s=10.0,
        ),
        root=True,
    )
    u.add(
        Completion(
            "b",
            prompt_tokens=1000,
            completion_tokens=21,
            prompt_tokens_reused=950,
            first_token_s=0.5,
            gen_tokens_per_s=20.0,
        ),
        root=True,
    )
    u.add(Completion("s", prompt_tokens=50, completion_tokens=5, gen_tokens_per_s=99.0), root=False)
    d = u.to_json()
    assert d["first_root_token_s"] == 1.5  # the first root call's
    assert d["prompt_tokens_cached"] == 800
    assert d["prompt_tokens_evaluated"] == 100 + 50 + 50
    assert d["root_gen_s"] == 2.0  # 10 tokens at 10/s + 20 at 20/s
    assert d["root_gen_tokens_per_s"] == 15.0  # sub-calls not included


def test_speed_lists_only_what_was_measured() -> None:
    assert Completion("x").speed() == {}
    c = Completion("x", prompt_tokens_cached=5, first_token_s=0.12345, gen_tokens_per_s=7.777)
    assert c.speed() == {
        "prompt_tokens_cached": 5,
        "first_token_s": 0.123,
        "gen_tokens_per_s": 7.78,
    }


def test_busy_cores_are_left_alone(monkeypatch) -> None:
    import rlm_cli.llm.machine as machine

    monkeypatch.setattr(machine, "physical_cores", lambda *a, **k: 8)
    assert choose(None, None, load=0.2).threads == 8
    assert choose(None, None, load=2.6).threads == 5
    assert choose(None, None, load=11.0).threads == 1  # never below one
    assert choose(4, None, load=11.0).threads == 4  # a set count is kept
    assert "load 11.0" in choose(None, None, load=11.0).describe()


def test_busy_cores_are_what_others_run_now_not_a_minute_ago(tmp_path, monkeypatch) -> None:
    """A minute after a bench the load average read 1.5 on the idle 2-core machine, and
    `rlm ask` chose one thread: half the speed."""
    import rlm_cli.llm.machine as machine

    stat = tmp_path / "stat"

    def write(ticks: dict[int, tuple[int, int]]) -> None:  # cpu: (busy user ticks, idle ticks)
        lines = ["cpu  1 2 3 4 5 6 7 8 0 0"]
        lines += [f"cpu{c} {u} 0 0 {i} 0 0 0 0 0 0" for c, (u, i) in ticks.items()]
        stat.write_text("\n".join(lines) + "\nintr 1 2\n")

    write({0: (100, 1000), 1: (100, 1000)})
    before = machine.cpu_times([0, 1], stat)
    write({0: (200, 1000), 1: (100, 1100)})  # cpu0 fully busy, cpu1 idle
    after = machine.cpu_times([0, 1], stat)
    assert machine.cpu_times([0], tmp_path / "missing") is None
    readings = iter([before, after])
    monkeypatch.setattr(machine, "cpu_times", lambda cpus: next(readings))
    monkeypatch.setattr(machine, "usable_cpus", lambda: [0, 1])
    monkeypatch.setattr(machine.time, "sleep", lambda s: None)
    assert machine.busy_cores() == 1.0  # one of two CPUs busy over the sample
    # where /proc/stat cannot be read: the load average
    monkeypatch.setattr(machine, "cpu_times", lambda cpus: None)
    (tmp_path / "loadavg").write_text("1.52 1.70 1.80 1/80 2540\n")
    monkeypatch.setattr(machine, "LOADAVG", tmp_path / "loadavg")
    assert machine.busy_cores() == 1.52
