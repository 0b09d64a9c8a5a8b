"""`rlm scan`: incremental, rotation-aware triage of log files and folders (for cron)."""
