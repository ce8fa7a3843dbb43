#!/usr/bin/env bash
# Runs the load generator against a Release server backed by a throwaway Redis and PostgreSQL, all on loopback,
# then prints the ledger's rows-per-commit figures. Arguments go to the load generator, e.g.
#   load-tests/run-local.sh --concurrency 64 --duration 15 --json load-tests/results/run.json
# The server's log is kept in load-tests/results/ (ignored by git).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

source scripts/services.sh

results="$repo/load-tests/results"
mkdir -p "$results"
server_log="$results/server-$(date +%Y%m%d-%H%M%S).log"

source load-tests/server.sh
start_loyalty_server

load_rc=0
LOYALTY_API_KEY="$api_key" dotnet load-tests/LoyaltyCore.LoadTests/bin/Release/net10.0/LoyaltyCore.LoadTests.dll \
  --target "http://127.0.0.1:$grpc_port" "$@" || load_rc=$?

# Rows still queued at the end of the run are committed after it; wait for them so the figures cover the run.
wait_for_ledger
if metrics=$(curl -fsS "http://127.0.0.1:$metrics_port/metrics"); then
  echo
  echo "Ledger group commit (http://127.0.0.1:$metrics_port/metrics):"
  grep -E '^loyalty_ledger_rows_per_commit_(sum|count)' <<<"$metrics" || echo "  (no loyalty_ledger_rows_per_commit samples)"
  rows=$(metric loyalty_ledger_rows_per_commit_sum "$metrics")
  commits=$(metric loyalty_ledger_rows_per_commit_count "$metrics")
  if [ -n "$rows" ] && [ -n "$commits" ]; then
    awk -v r="$rows" -v c="$commits" 'BEGIN { if (c > 0) printf "rows per commit (mean over the whole run, warm-up included): %.2f\n", r / c }'
  fi
  failures=$(metric loyalty_ledger_commit_failures_total "$metrics")
  [ -z "$failures" ] || [ "${failures%.*}" = "0" ] || echo "ledger commit failures: $failures"
else
  echo "Could not scrape the metrics endpoint" >&2
fi

stop_server
exit "$load_rc"
