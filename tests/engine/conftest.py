"""Run `rlm ask` (in this process, through tests/helpers.py) over small logs with scripted models."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from helpers import InProcess

REPO = Path(__file__).resolve().parents[2]


def sample_log(n_nodes: int = 4, rounds: int = 10) -> str:
    """A small BMC-style log: node02 has ECC errors, node03 one warning."""
    lines = []
    for r in range(rounds):
        for i in range(1, n_nodes + 1):
            t = f"2024-05-01T10:{r:02d}:{i:02d}"
            if i == 2 and r % 3 == 0:
                lines.append(f"{t} node0{i} kernel: EDAC MC0: 1 CE ECC error on DIMM_B2")
            elif i == 3 and r == 5:
                lines.append(f"{t} node0{i} bmc: WARNING fan2 speed low")
            else:
                lines.append(f"{t} node0{i} systemd: heartbeat ok")
    return "\n".join(lines) + "\n"


@dataclass
class Ran:
    rc: int
    stdout: str
    stderr: str

    @property
    def json(self) -> dict:
        return json.loads(self.stdout)


class Rlm:
    """Runs the CLI with its own data and config dirs under a temp folder."""

    def __init__(self, tmp: Path, run: InProcess) -> None:
        self._run = run
        self.tmp = tmp
        self.home = tmp / "home"
        self.config = tmp / "config"
        self.log = tmp / "bmc.log"
        self.log.write_text(sample_log())
        self._n = 0

    def script(self, root: list, sub: list | None = None, **extra) -> str:
        """Write a script file; returns the --model spec."""
        self._n += 1
        path = self.tmp / f"script{self._n}.yaml"
        data = {"root": root, **({"sub": sub} if sub is not None else {}), **extra}
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        return f"script:{path}"

    def settings(self, **values: object) -> None:
        """Write these settings to the run's config.yaml."""
        self.config.mkdir(parents=True, exist_ok=True)
        (self.config / "config.yaml").write_text(yaml.safe_dump(values))

    def __call__(self, *args: str, stdin: str | None = None) -> Ran:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "RLM_HOME": str(self.home),
            "RLM_CONFIG_DIR": str(self.config),
            "PYTHONPATH": str(REPO),
            "LANG": "C.UTF-8",
        }
        r = self._run(list(args), self.home, stdin=(stdin or "").encode(), env=env, cwd=self.tmp)
        return Ran(r.code, r.stdout, r.stderr)

    def ask(self, model: str, *extra: str, question: str = "which node will fail") -> Ran:
        """`rlm ask QUESTION bmc.log --model MODEL --json --no-log EXTRA...`."""
        return self("ask", question, str(self.log), "--model", model, "--json", "--no-log", *extra)

    @staticmethod
    def code(body: str, reasoning: str = "Let me look.") -> str:
        """A root reply: reasoning and one ```repl block."""
        return f"{reasoning}\n```repl\n{body.strip()}\n```\n"


@pytest.fixture
def rlm(tmp_path: Path, rlm_here: InProcess) -> Rlm:
    return Rlm(tmp_path, rlm_here)
