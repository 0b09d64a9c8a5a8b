"""`python -m rlm_cli` and the `rlm` script: plain grep/ingest lines start fast, the rest via Typer."""

from __future__ import annotations

import sys


def main() -> None:
    """Entry point: the quick path for pipeline commands, else the full Typer app."""
    from rlm_cli.commands.fast import run_fast

    code = run_fast(sys.argv[1:])
    if code is not None:
        sys.stdout.flush()
        sys.exit(code)
    from rlm_cli.cli import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()
