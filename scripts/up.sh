#!/usr/bin/env bash
# `make up`: the platform on this machine, one process per service (the same
# binaries Kubernetes runs). Ctrl-C stops the services, and the PostgreSQL
# and NATS instances this script started.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PG_PORT="${PRM_PG_PORT:-55432}"
NATS_PORT="${PRM_NATS_PORT:-54222}"
LOCAL="$ROOT/.local"
LOGS="$LOCAL/logs"
# Services in start order, with their gRPC ports (DESIGN.md port table).
# Onboarding first: dealreg calls it.
SERVICES=(onboarding:50051 dealreg:50052 mdf:50053 commissions:50054 reporting:50055)

# The local address of a service in SERVICES.
address_of() {
  local entry
  for entry in "${SERVICES[@]}"; do
    [ "${entry%%:*}" = "$1" ] && { echo "http://127.0.0.1:${entry##*:}"; return 0; }
  done
  echo "up.sh: $1 is not in SERVICES" >&2
  return 1
}
# Settings a service needs beyond its port, database and NATS: the
# addresses of the services it calls, one VAR=value a line.
service_env() {
  case "$1" in
    dealreg) echo "PRM_ONBOARDING_URL=$(address_of onboarding)" ;;
  esac
}

started="$(scripts/deps.sh up)"
pids=()
stop_all() {
  trap - INT TERM EXIT
  echo
  echo "stopping..."
  for pid in "${pids[@]:-}"; do [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]:-}"; do [ -n "$pid" ] && wait "$pid" 2>/dev/null || true; done
  case "$started" in *nats*) scripts/deps.sh nats-down ;; esac
  case "$started" in *postgres*) scripts/deps.sh postgres-down ;; esac
  echo "stopped."
}
trap stop_all INT TERM EXIT

profile="${PRM_PROFILE:-dev}"
target_dir="debug"; [ "$profile" = release ] && target_dir="release"
echo "building ($profile)..."
cargo build --workspace --bins --locked --profile "$profile"
BIN="$ROOT/target/$target_dir"

# The local admin key: PRM_BOOTSTRAP_ADMIN_KEY if set, else one generated
# once and kept in .local/admin-key.
mkdir -p "$LOGS"
if [ -z "${PRM_BOOTSTRAP_ADMIN_KEY:-}" ]; then
  if [ ! -s "$LOCAL/admin-key" ]; then
    umask 077
    echo "prm_local_$(head -c 64 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 36)" > "$LOCAL/admin-key"
  fi
  PRM_BOOTSTRAP_ADMIN_KEY="$(cat "$LOCAL/admin-key")"
fi
export PRM_BOOTSTRAP_ADMIN_KEY
export PRM_TELEMETRY__LOG_FORMAT="${PRM_TELEMETRY__LOG_FORMAT:-pretty}"
# Nothing balances across these processes: Ctrl-C need not wait for a drain.
export PRM_GRPC__DRAIN_DELAY_MS="${PRM_GRPC__DRAIN_DELAY_MS:-0}"
export PRM_HTTP__DRAIN_DELAY_MS="${PRM_HTTP__DRAIN_DELAY_MS:-0}"

for entry in "${SERVICES[@]}"; do
  name="${entry%%:*}"
  psql -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = 'prm_$name'" | grep -q 1 \
    || psql -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -c "CREATE DATABASE prm_$name" >/dev/null
  PRM_DATABASE__URL="postgres://postgres@127.0.0.1:$PG_PORT/prm_$name" "$BIN/prm-$name" migrate >"$LOGS/$name-migrate.log" 2>&1 \
    || { echo "migrating $name failed; see $LOGS/$name-migrate.log"; exit 1; }
done

for entry in "${SERVICES[@]}"; do
  name="${entry%%:*}"; port="${entry##*:}"
  extra="$(service_env "$name")"
  # shellcheck disable=SC2086 # one VAR=value a word
  env $extra \
  PRM_GRPC__PORT="$port" \
  PRM_DATABASE__URL="postgres://postgres@127.0.0.1:$PG_PORT/prm_$name" \
  PRM_NATS__URL="nats://127.0.0.1:$NATS_PORT" \
    "$BIN/prm-$name" serve >"$LOGS/$name.log" 2>&1 &
  pids+=($!)
done

GATEWAY_PORT="${PRM_GATEWAY_PORT:-8080}"
# The gateway calls every service at its address above.
upstreams=()
for entry in "${SERVICES[@]}"; do
  name="${entry%%:*}"; port="${entry##*:}"
  upstreams+=("PRM_UPSTREAMS__${name^^}=http://127.0.0.1:$port")
done
# Tracking-link redirects hear of link changes on NATS.
env PRM_HTTP__PORT="$GATEWAY_PORT" "${upstreams[@]}" \
  PRM_TRACKING__NATS_URL="nats://127.0.0.1:$NATS_PORT" \
  "$BIN/prm-gateway" >"$LOGS/gateway.log" 2>&1 &
pids+=($!)

for entry in "${SERVICES[@]}"; do
  name="${entry%%:*}"; port="${entry##*:}"
  for _ in $(seq 1 120); do
    PRM_GRPC__PORT="$port" "$BIN/prm-$name" healthcheck >/dev/null 2>&1 && break
    sleep 0.5
  done
  PRM_GRPC__PORT="$port" "$BIN/prm-$name" healthcheck >/dev/null 2>&1 || { echo "$name did not become healthy; see $LOGS/$name.log"; exit 1; }
done

for _ in $(seq 1 60); do
  curl -fsS "http://127.0.0.1:$GATEWAY_PORT/readyz" >/dev/null 2>&1 && break
  sleep 0.5
done
curl -fsS "http://127.0.0.1:$GATEWAY_PORT/readyz" >/dev/null 2>&1 || { echo "the gateway did not become ready; see $LOGS/gateway.log"; exit 1; }

echo
echo "PRM platform is up."
echo
printf '  %-12s %-28s %s\n' "process" "listens on" "log"
printf '  %-12s %-28s %s\n' "postgres" "127.0.0.1:$PG_PORT" "$LOCAL/postgres/server.log"
printf '  %-12s %-28s %s\n' "nats" "nats://127.0.0.1:$NATS_PORT" "$LOCAL/nats.log"
for entry in "${SERVICES[@]}"; do
  name="${entry%%:*}"; port="${entry##*:}"
  printf '  %-12s %-28s %s\n' "$name" "grpc://127.0.0.1:$port" "$LOGS/$name.log"
done
printf '  %-12s %-28s %s\n' "gateway" "http://127.0.0.1:$GATEWAY_PORT" "$LOGS/gateway.log"
echo
echo "  REST API:      http://127.0.0.1:$GATEWAY_PORT/v1   docs: http://127.0.0.1:$GATEWAY_PORT/docs"
echo "  admin API key: $PRM_BOOTSTRAP_ADMIN_KEY"
echo "  (from PRM_BOOTSTRAP_ADMIN_KEY, or generated once into .local/admin-key)"
echo "  try:           curl -H 'Authorization: Bearer $PRM_BOOTSTRAP_ADMIN_KEY' http://127.0.0.1:$GATEWAY_PORT/v1/me"
echo "  service credential for direct gRPC calls: x-prm-service-token: ${PRM_AUTH__SERVICE_TOKEN:-local-dev-service-token}"
echo
echo "Ctrl-C stops everything."
wait -n "${pids[@]}" || true
echo "a service stopped; shutting the rest down (logs in $LOGS)"
