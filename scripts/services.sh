#!/usr/bin/env bash
# Starts a throwaway Redis and PostgreSQL 15 on loopback, on free ports, in a temporary directory, and stops them
# again when the calling script exits. Source it, then call start_services; it exports:
#   LOYALTY_TEST_REDIS     StackExchange.Redis configuration string
#   LOYALTY_TEST_POSTGRES  Npgsql connection string (database loyalty)
#   LOYALTY_TEST_REDIS_PID, LOYALTY_TEST_POSTGRES_PID  the redis-server and postmaster processes (for CPU accounting)
#   LOYALTY_TEST_PROMETHEUS, LOYALTY_TEST_PROMTOOL  paths of prometheus and promtool (alert rule tests)
#   LOYALTY_TEST_CHROMIUM  path of chromium (headless browser for the tests that need one)
# Redis, Prometheus (with promtool) and Chromium come from apt when missing; PostgreSQL binaries are expected at
# $PG_BIN (default /usr/lib/postgresql/15/bin).

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

_services_dir=""
_services_pg_user=""

# A port nothing listens on, below the kernel's ephemeral range: a port in that range may be the local end of an
# outgoing connection (or of one in TIME_WAIT), which nothing answers on yet still makes the server's bind fail.
_free_port() {
  local port low high
  read -r low high </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || low=32768
  [ "${low:-0}" -gt 11000 ] || low=32768
  for _ in $(seq 1 200); do
    port=$((10000 + RANDOM % (low - 10000)))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  echo "no free port found" >&2
  return 1
}

_as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

_ensure_redis() {
  if command -v redis-server >/dev/null 2>&1; then return 0; fi
  echo "redis-server not found: installing it with apt" >&2
  _as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive _as_root apt-get install -y -qq redis-server >/dev/null
  # The package starts a system-wide instance we do not use.
  _as_root systemctl disable --now redis-server >/dev/null 2>&1 || true
}

# prometheus and promtool (Debian package prometheus) and chromium (package chromium), installed together when one is
# missing; exports their paths.
_ensure_test_tools() {
  local missing=() svc
  if ! command -v prometheus >/dev/null 2>&1 || ! command -v promtool >/dev/null 2>&1; then missing+=(prometheus); fi
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "${missing[*]} not found: installing with apt" >&2
    _as_root apt-get update -qq
    _as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null \
      || { echo "apt-get install ${missing[*]} failed" >&2; return 1; }
    # The prometheus package starts a system-wide Prometheus (and node exporter) we do not use.
    for svc in prometheus prometheus-node-exporter; do
      _as_root systemctl disable --now "$svc" >/dev/null 2>&1 || _as_root service "$svc" stop >/dev/null 2>&1 || true
    done
  fi
  LOYALTY_TEST_PROMETHEUS=$(command -v prometheus) || { echo "prometheus not found after install" >&2; return 1; }
  LOYALTY_TEST_PROMTOOL=$(command -v promtool) || { echo "promtool not found after install" >&2; return 1; }
  LOYALTY_TEST_CHROMIUM=$(command -v chromium) || { echo "chromium not found after install" >&2; return 1; }
  export LOYALTY_TEST_PROMETHEUS LOYALTY_TEST_PROMTOOL LOYALTY_TEST_CHROMIUM
}

_pg() {
  # initdb and postgres refuse to run as root.
  if [ -n "$_services_pg_user" ]; then runuser -u "$_services_pg_user" -- "$@"; else "$@"; fi
}

stop_services() {
  [ -n "$_services_dir" ] || return 0
  local pidfile
  for pidfile in "$_services_dir"/cluster-*.pid; do
    if [ -f "$pidfile" ]; then kill -9 "$(cat "$pidfile")" 2>/dev/null || true; fi
  done
  if [ -f "$_services_dir/redis.pid" ]; then kill "$(cat "$_services_dir/redis.pid")" 2>/dev/null || true; fi
  if [ -d "$_services_dir/pg" ]; then _pg "$PG_BIN/pg_ctl" -D "$_services_dir/pg" -m fast -w stop >/dev/null 2>&1 || true; fi
  if [ -d "$_services_dir/fault-pg" ]; then _pg "$PG_BIN/pg_ctl" -D "$_services_dir/fault-pg/data" -m fast -w stop >/dev/null 2>&1 || true; fi
  rm -rf "$_services_dir"
  _services_dir=""
}

start_services() {
  _ensure_redis
  _ensure_test_tools || return 1
  if [ ! -x "$PG_BIN/initdb" ]; then
    echo "PostgreSQL binaries not found in $PG_BIN (set PG_BIN)" >&2
    return 1
  fi

  _services_dir=$(mktemp -d /tmp/loyaltycore-services.XXXXXX)
  chmod 755 "$_services_dir"
  trap stop_services EXIT

  local redis_port pg_port
  redis_port=$(_free_port)
  redis-server --bind 127.0.0.1 --port "$redis_port" --dir "$_services_dir" --save "" --appendonly no \
    --daemonize yes --pidfile "$_services_dir/redis.pid" --logfile "$_services_dir/redis.log"
  for _ in $(seq 1 50); do
    redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  redis-cli -p "$redis_port" ping >/dev/null || { echo "Redis did not start" >&2; cat "$_services_dir/redis.log" >&2; return 1; }

  if [ "$(id -u)" -eq 0 ]; then
    _services_pg_user=postgres
    id -u "$_services_pg_user" >/dev/null 2>&1 || useradd --system --no-create-home "$_services_pg_user"
  fi
  mkdir -p "$_services_dir/pg" "$_services_dir/pgsock"
  [ -n "$_services_pg_user" ] && chown "$_services_pg_user" "$_services_dir/pg" "$_services_dir/pgsock"
  pg_port=$(_free_port)
  _pg "$PG_BIN/initdb" -D "$_services_dir/pg" -U postgres --auth=trust -E UTF8 >"$_services_dir/initdb.log" 2>&1 \
    || { cat "$_services_dir/initdb.log" >&2; return 1; }
  _pg "$PG_BIN/pg_ctl" -D "$_services_dir/pg" -l "$_services_dir/pgsock/pg.log" -w \
    -o "-p $pg_port -k $_services_dir/pgsock -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null \
    || { cat "$_services_dir/pgsock/pg.log" >&2; return 1; }
  _pg "$PG_BIN/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres loyalty

  export LOYALTY_TEST_REDIS="127.0.0.1:$redis_port"
  export LOYALTY_TEST_POSTGRES="Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=loyalty;Maximum Pool Size=50"
  LOYALTY_TEST_REDIS_PID=$(cat "$_services_dir/redis.pid")
  LOYALTY_TEST_POSTGRES_PID=$(head -n 1 "$_services_dir/pg/postmaster.pid")
  export LOYALTY_TEST_REDIS_PID LOYALTY_TEST_POSTGRES_PID
  echo "Redis on 127.0.0.1:$redis_port, PostgreSQL on 127.0.0.1:$pg_port ($_services_dir)" >&2
}

# A Redis Cluster on loopback beside the single node (call after start_services): 3 masters with a replica each, made
# with redis-server --cluster-enabled and redis-cli --cluster create, and a short node timeout so that a killed master's
# replica takes over within seconds. Exports LOYALTY_TEST_REDIS_CLUSTER (the six nodes, a StackExchange.Redis
# configuration string). Each node's cluster bus listens on its port + 10000: ports are picked below 22000.
start_redis_cluster() {
  local ports=() port node nodes=""
  while [ "${#ports[@]}" -lt 6 ]; do
    port=$((12000 + RANDOM % 9000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && ! (exec 3<>"/dev/tcp/127.0.0.1/$((port + 10000))") 2>/dev/null \
      && [[ " ${ports[*]} " != *" $port "* ]]; then
      ports+=("$port")
    fi
  done
  for port in "${ports[@]}"; do
    mkdir -p "$_services_dir/cluster-$port"
    redis-server --bind 127.0.0.1 --port "$port" --dir "$_services_dir/cluster-$port" --save "" --appendonly no \
      --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 1000 --enable-debug-command local \
      --daemonize yes --pidfile "$_services_dir/cluster-$port.pid" --logfile "$_services_dir/cluster-$port/redis.log"
  done
  for port in "${ports[@]}"; do
    for _ in $(seq 1 50); do
      redis-cli -p "$port" ping >/dev/null 2>&1 && break
      sleep 0.1
    done
    nodes="$nodes 127.0.0.1:$port"
  done
  # shellcheck disable=SC2086
  redis-cli --cluster create $nodes --cluster-replicas 1 --cluster-yes >"$_services_dir/cluster-create.log" 2>&1 \
    || { echo "redis-cli --cluster create failed" >&2; cat "$_services_dir/cluster-create.log" >&2; return 1; }
  for _ in $(seq 1 100); do
    local ok=1
    for port in "${ports[@]}"; do
      redis-cli -p "$port" cluster info 2>/dev/null | grep -q "cluster_state:ok" || ok=0
    done
    # Every replica has finished its first sync with its master.
    for port in "${ports[@]}"; do
      if redis-cli -p "$port" info replication 2>/dev/null | grep -q "role:slave"; then
        redis-cli -p "$port" info replication | grep -q "master_link_status:up" || ok=0
      fi
    done
    [ "$ok" -eq 1 ] && break
    sleep 0.2
  done
  [ "$ok" -eq 1 ] || { echo "Redis Cluster did not come up" >&2; return 1; }
  LOYALTY_TEST_REDIS_CLUSTER=$(printf '127.0.0.1:%s,' "${ports[@]}")
  export LOYALTY_TEST_REDIS_CLUSTER="${LOYALTY_TEST_REDIS_CLUSTER%,}"
  echo "Redis Cluster on ${LOYALTY_TEST_REDIS_CLUSTER}" >&2
}

# A PostgreSQL of its own for the fault test, which stops it with -m immediate (a crash) and starts it again; the
# other tests keep theirs. Exports LOYALTY_TEST_FAULT_POSTGRES (connection string) and LOYALTY_TEST_FAULT_PG_CTL (a
# script taking stop or start).
start_fault_postgres() {
  local dir="$_services_dir/fault-pg" port
  mkdir -p "$dir/data" "$dir/sock"
  [ -n "$_services_pg_user" ] && chown -R "$_services_pg_user" "$dir"
  port=$(_free_port)
  _pg "$PG_BIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; return 1; }
  cat >"$dir/ctl.sh" <<CTL
#!/usr/bin/env bash
# stop: an immediate shutdown (no checkpoint, as a crash); start: back on the same port and data.
set -euo pipefail
run() { if [ -n "$_services_pg_user" ]; then runuser -u "$_services_pg_user" -- "\$@"; else "\$@"; fi; }
case "\$1" in
  stop) run "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null ;;
  start) run "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/sock/pg.log" -w \
    -o "-p $port -k $dir/sock -c listen_addresses=127.0.0.1 -c max_connections=100" start >/dev/null ;;
esac
CTL
  chmod 755 "$dir/ctl.sh"
  "$dir/ctl.sh" start || { cat "$dir/sock/pg.log" >&2; return 1; }
  _pg "$PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U postgres loyalty
  export LOYALTY_TEST_FAULT_POSTGRES="Host=127.0.0.1;Port=$port;Username=postgres;Database=loyalty;Maximum Pool Size=20"
  export LOYALTY_TEST_FAULT_PG_CTL="$dir/ctl.sh"
}
