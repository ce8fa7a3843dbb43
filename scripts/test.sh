#!/usr/bin/env bash
# Runs the whole test suite against a real Redis and PostgreSQL that it starts (and stops) itself.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh
start_services
dotnet test LoyaltyCore.sln -c Release "$@"
