"""`python -m rlm_cli` runs the CLI."""

from rlm_cli.cli import main

if __name__ == "__main__":
    main()
