"""The worker's environment: secrets stay in the parent, the worker can still import rlm_cli."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from rlm_cli.repl.environment import BASE_ENV, python_argv, scrubbed_env

PARENT = {
    "SECRET_TOKEN": "s3cr3t",
    "OPENAI_API_KEY": "sk-x",
    "HF_TOKEN": "hf_x",
    "AWS_SECRET_ACCESS_KEY": "aws",
    "DB_PASSWORD": "pw",
    "PYTHONPATH": "/evil",
    "PYTHONSTARTUP": "/evil/start.py",
    "LD_PRELOAD": "/evil.so",
    "HOME": "/root",
    "PATH": "/evil/bin:/usr/bin",
    "HTTPS_PROXY": "http://user:pw@proxy",
    "LANG": "en_US.UTF-8",
    "LC_ALL": "$(touch /tmp/x)",
    "TZ": "Europe/Paris",
}


def test_scrubbed_env_keeps_only_the_allowlist() -> None:
    env = scrubbed_env(PARENT)
    assert env == {**BASE_ENV, "LANG": "en_US.UTF-8", "TZ": "Europe/Paris"}
    assert env["PATH"] == "/usr/bin:/bin"
    assert not any("s3cr3t" in v or "pw" in v for v in env.values())


def test_odd_tz_and_locale_values_dropped() -> None:
    env = scrubbed_env({"TZ": "../../etc/passwd", "LANG": "a b", "LC_CTYPE": "C.UTF-8"})
    assert "TZ" not in env and "LANG" not in env and env["LC_CTYPE"] == "C.UTF-8"


def _run_probe(env: dict[str, str], argv: list[str]) -> dict[str, object]:
    out = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60, check=True)
    return json.loads(out.stdout)


def test_child_started_like_the_worker_sees_no_secret() -> None:
    parent = {**os.environ, **PARENT}
    # Positive control: a child given the parent's environment does see the secret.
    plain = [sys.executable, "-m", "rlm_cli.repl.environment"]
    leaked = _run_probe({**parent, "PYTHONPATH": os.pathsep.join(sys.path)}, plain)
    assert leaked["env"]["SECRET_TOKEN"] == "s3cr3t"

    seen = _run_probe(scrubbed_env(parent), python_argv("rlm_cli.repl.environment"))
    assert "SECRET_TOKEN" not in seen["env"] and "OPENAI_API_KEY" not in seen["env"]
    assert seen["isolated"] and seen["no_site"] and not seen["site_loaded"]
    assert "/evil" not in seen["path"]
    assert not any("site-packages" in p for p in seen["path"][1:])


def test_python_argv_rejects_odd_module_names() -> None:
    import pytest

    with pytest.raises(ValueError):
        python_argv("x; import os")
