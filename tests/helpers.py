"""Test helpers: run the real CLI in a subprocess with an isolated data/config dir."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import orjson

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "sample_logs"


@dataclass
class Result:
    """What a CLI run did."""

    code: int
    stdout: str
    stderr: str

    def json(self) -> dict:
        """stdout parsed as the one JSON object it must be."""
        return orjson.loads(self.stdout)


def isolated_env(home: Path, **extra: str) -> dict[str, str]:
    """An environment whose data and config dirs are under ``home``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RLM_")}
    env.update(
        RLM_HOME=str(home / "data"),
        RLM_CONFIG_DIR=str(home / "config"),
        NO_COLOR="1",
        COLUMNS="120",
        PYTHONPATH=str(REPO) + os.pathsep + env.get("PYTHONPATH", ""),
    )
    env.update(extra)
    return env


def run_rlm(
    args: list[str],
    home: Path,
    *,
    stdin: bytes | None = b"",
    env: dict[str, str] | None = None,
    timeout: float = 120,
    cwd: Path | None = None,
) -> Result:
    """Run ``python -m rlm_cli ARGS`` the way a user's shell would."""
    proc = subprocess.run(
        [sys.executable, "-m", "rlm_cli", *args],
        input=stdin,
        capture_output=True,
        env=env or isolated_env(home),
        timeout=timeout,
        cwd=cwd or REPO,
    )
    return Result(proc.returncode, proc.stdout.decode(), proc.stderr.decode())


def write_script(path: Path, root: list[str], sub: list[str] | None = None) -> Path:
    """Write a scripted-model YAML file."""
    import yaml

    path.write_text(yaml.safe_dump({"root": root, "sub": sub or []}, sort_keys=False))
    return path
