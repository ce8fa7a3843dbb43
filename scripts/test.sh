#!/usr/bin/env bash
# Runs the whole test suite against a real Redis and PostgreSQL that it starts (and stops) itself.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh
start_services
start_redis_cluster
start_fault_postgres

log=$(mktemp)
trap 'rm -f "$log"; stop_services' EXIT
set +e
dotnet test LoyaltyCore.sln -c Release "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

passed=$(grep -oE 'Passed: +[0-9]+' "$log" | awk '{ total += $2 } END { print total + 0 }')
failed=$(grep -oE 'Failed: +[0-9]+' "$log" | awk '{ total += $2 } END { print total + 0 }')
echo "$passed passed, $failed failed"
if [ "$status" -eq 0 ] && [ "$passed" -eq 0 ]; then
  echo "no test ran" >&2
  exit 1
fi
exit "$status"
