"""Prompt templates (YAML), shipped inside the package as rlm_cli.prompts."""
