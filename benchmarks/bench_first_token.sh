#!/usr/bin/env bash
# Time to first root token of `rlm ask`, cold and warm, and `--timeout 20` wall time.
# usage: benchmarks/bench_first_token.sh MODEL.gguf   (run from the repository root)
# Each line reads usage.first_root_token_s of one run in a fresh data dir (RLM_HOME), so the
# first run is cold; later runs find the system head (same kind of question) and the log head
# (same log) in the prompt cache.
set -euo pipefail
model=${1:?usage: $0 MODEL.gguf}
export RLM_HOME
RLM_HOME=$(mktemp -d)
trap 'rm -rf "$RLM_HOME"' EXIT
rlm=${RLM_BIN:-rlm}
ttft() {
  "$rlm" ask "$1" "$2" -m "$model" --max-iterations 1 --root-max-tokens 24 --json --no-log \
    2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin); u = d["usage"]; t = d["trajectory"][0]["usage"]
print(f"{sys.argv[1]:<48} first token {u[\"first_root_token_s\"]:6.1f} s  "
      f"cached {t.get(\"prompt_tokens_cached\") or 0:>5} of {t[\"prompt_tokens\"]:>5} tokens")' "$3"
}
uptime
ttft "which node will fail" sample_logs/bmc_cluster.log "cold (empty cache)"
ttft "which node is failing, and why" sample_logs/bmc_cluster.log "same log, another question of that kind"
ttft "which node will fail" sample_logs/syslog_kernel.log "another log, same kind of question"
ttft "how many critical events are there" sample_logs/bmc_cluster.log "same log, another kind of question"
for i in 1 2; do
  start=$(date +%s.%N)
  set +e
  "$rlm" ask "which node will fail" sample_logs/bmc_cluster.log -m "$model" --timeout 20 --quiet >/dev/null
  status=$?
  set -e
  echo "--timeout 20: $(python3 -c "import time,sys; print(f'{time.time()-float(sys.argv[1]):.1f}')" "$start") s wall, exit $status"
done
uptime
