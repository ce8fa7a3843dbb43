#!/usr/bin/env bash
# The server's lifecycle for the load scripts, sourced after scripts/services.sh. start_loyalty_server builds the
# server and the generator (Release), starts Redis and PostgreSQL, then the built server against them on free loopback
# ports with a random API key, and waits until it serves; it sets grpc_port, metrics_port, api_key and server_pid.
# Extra VAR=value arguments are passed to the server's environment. The server is stopped before the services on exit.
# Needs server_log to be set by the caller. load and measured_run drive the generator against it.

server_pid=""

# The load generator against the started server; the caller sets members and channels.
load() {
  LOYALTY_API_KEY="$api_key" dotnet load-tests/LoyaltyCore.LoadTests/bin/Release/net10.0/LoyaltyCore.LoadTests.dll \
    --target "http://127.0.0.1:$grpc_port" --members "$members" --channels "$channels" "$@"
}

# One measured run: its name, the JSON file to write, then generator options. Samples the CPU time of the server,
# Redis and PostgreSQL and the server's counters over the window; the caller sets duration and warmup.
measured_run() {
  local name=$1 json=$2
  shift 2
  echo >&2
  echo "=== $name" >&2
  load --label "$name" --duration "$duration" --warmup "$warmup" \
    --sample-pid "server=$server_pid" --sample-pid "redis=$LOYALTY_TEST_REDIS_PID" --sample-pid "postgres=$LOYALTY_TEST_POSTGRES_PID" \
    --metrics-url "http://127.0.0.1:$metrics_port/metrics" --json "$json" "$@" >&2
  wait_for_ledger
}

group_alive() {
  ps -e -o pgid=,stat= | awk -v g="$1" '$1 == g && $2 !~ /^Z/ { found = 1 } END { exit !found }'
}

# The process itself: right after the launch it may not lead its group yet (setsid has not run), so the group can
# look empty while the server is starting.
process_alive() {
  local stat
  stat=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  [[ $stat != Z* ]]
}

server_alive() {
  group_alive "$1" || process_alive "$1"
}

stop_server() {
  [ -n "$server_pid" ] || return 0
  # The server leads its own process group (setsid): signal the group, then wait for all of it.
  kill -TERM -- "-$server_pid" 2>/dev/null || kill -TERM "$server_pid" 2>/dev/null || true
  for _ in $(seq 1 300); do
    server_alive "$server_pid" || break
    sleep 0.1
  done
  if server_alive "$server_pid"; then
    kill -KILL -- "-$server_pid" 2>/dev/null || kill -KILL "$server_pid" 2>/dev/null || true
    echo "The server did not stop within 30 s and was killed" >&2
  fi
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

metric() {
  awk -v name="$1" '$1 == name { print $2 }' <<<"$2"
}

# Rows still queued by a run are committed after it; the next run starts once the ledger queue is empty.
wait_for_ledger() {
  local metrics depth
  for _ in $(seq 1 100); do
    metrics=$(curl -fsS "http://127.0.0.1:$metrics_port/metrics") || return 0
    depth=$(metric loyalty_ledger_queue_depth "$metrics")
    { [ -z "$depth" ] || [ "${depth%.*}" = "0" ]; } && return 0
    sleep 0.1
  done
}

start_loyalty_server() {
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
  # The built server directly (not dotnet run), so that its pid is the process whose CPU time is measured.
  Server__BindAddress=127.0.0.1 \
  Server__GrpcPort="$grpc_port" \
  Server__MetricsPort="$metrics_port" \
  Server__HttpPort=0 \
  HotState__Redis="$LOYALTY_TEST_REDIS" \
  Ledger__Provider=Postgres \
  Ledger__ConnectionString="$LOYALTY_TEST_POSTGRES" \
  Security__Clients__0__Id=load \
  Security__Clients__0__Key="$api_key" \
  Security__Clients__0__Roles__0=pos \
  ASPNETCORE_ENVIRONMENT=Production \
    setsid env "$@" dotnet src/LoyaltyCore.Server/bin/Release/net10.0/LoyaltyCore.Server.dll >"$server_log" 2>&1 &
  server_pid=$!

  # The gRPC port opens only after Redis is connected, the ledger migrated and the program loaded.
  for _ in $(seq 1 600); do
    port_open "$grpc_port" && break
    if ! server_alive "$server_pid"; then
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
}
