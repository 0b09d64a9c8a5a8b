"""rlm: log triage with Recursive Language Models on local models."""

__version__ = "0.1.0"
