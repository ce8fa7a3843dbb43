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
server_pid=""

group_alive() {
  # Zombies do not count: dotnet run stays one until it is waited for.
  ps -e -o pgid=,stat= | awk -v g="$1" '$1 == g && $2 !~ /^Z/ { found = 1 } END { exit !found }'
}

stop_server() {
  [ -n "$server_pid" ] || return 0
  # The server runs in its own session: signalling the group reaches both dotnet run and the app it started.
  # Wait for the whole group, not just dotnet run: the app may still be draining after its parent has gone.
  if kill -TERM -- "-$server_pid" 2>/dev/null; then
    for _ in $(seq 1 300); do
      group_alive "$server_pid" || break
      sleep 0.1
    done
    if group_alive "$server_pid"; then
      kill -KILL -- "-$server_pid" 2>/dev/null || true
      echo "The server did not stop within 30 s and was killed" >&2
    fi
  fi
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

metric() {
  # The value of an unlabelled sample, or nothing.
  awk -v name="$1" '$1 == name { print $2 }' <<<"$2"
}

echo "Building (Release)..." >&2
dotnet build src/LoyaltyCore.Server -c Release -nologo -v quiet
dotnet build load-tests/LoyaltyCore.LoadTests -c Release -nologo -v quiet

start_services
# services.sh stops Redis and PostgreSQL on EXIT; the server has to go first, so this trap replaces its own.
trap 'stop_server; stop_services' EXIT
trap 'exit 130' INT TERM

grpc_port=$(_free_port)
metrics_port=$(_free_port)
while [ "$metrics_port" = "$grpc_port" ]; do metrics_port=$(_free_port); done
api_key=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')

echo "Starting the server on 127.0.0.1:$grpc_port (metrics on $metrics_port), log in $server_log" >&2
Server__BindAddress=127.0.0.1 \
Server__GrpcPort="$grpc_port" \
Server__MetricsPort="$metrics_port" \
HotState__Redis="$LOYALTY_TEST_REDIS" \
Ledger__Provider=Postgres \
Ledger__ConnectionString="$LOYALTY_TEST_POSTGRES" \
Security__Clients__0__Id=load \
Security__Clients__0__Key="$api_key" \
Security__Clients__0__Roles__0=pos \
ASPNETCORE_ENVIRONMENT=Production \
  setsid dotnet run -c Release --project src/LoyaltyCore.Server --no-launch-profile --no-build >"$server_log" 2>&1 &
server_pid=$!

# The gRPC port opens only after Redis is connected, the ledger migrated and the program loaded.
for _ in $(seq 1 600); do
  port_open "$grpc_port" && break
  if ! group_alive "$server_pid"; then
    echo "The server exited during startup:" >&2
    tail -n 50 "$server_log" >&2
    exit 1
  fi
  sleep 0.1
done
if ! port_open "$grpc_port"; then
  echo "The server did not open port $grpc_port within 60 s:" >&2
  tail -n 50 "$server_log" >&2
  exit 1
fi

load_rc=0
LOYALTY_API_KEY="$api_key" dotnet run -c Release --project load-tests/LoyaltyCore.LoadTests --no-build -- \
  --target "http://127.0.0.1:$grpc_port" "$@" || load_rc=$?

# Rows still queued at the end of the run are committed after it; wait for them so the figures cover the run.
metrics=""
for _ in $(seq 1 100); do
  metrics=$(curl -fsS "http://127.0.0.1:$metrics_port/metrics") || { echo "Could not scrape the metrics endpoint" >&2; break; }
  depth=$(metric loyalty_ledger_queue_depth "$metrics")
  [ -z "$depth" ] || [ "${depth%.*}" = "0" ] && break
  sleep 0.1
done

if [ -n "$metrics" ]; then
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
fi

stop_server
exit "$load_rc"
