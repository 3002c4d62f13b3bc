#!/usr/bin/env bash
# Project-owned PostgreSQL and NATS (JetStream) for `make up` and `make test`.
#
#   scripts/deps.sh up     start whichever is not reachable; print what was started
#   scripts/deps.sh down   stop the instances this project owns
#
# Data lives under .local/ in the repository; ports are the project's own
# (PostgreSQL 55432, NATS 54222; override with PRM_PG_PORT / PRM_NATS_PORT),
# so nothing collides with a system-wide server. Missing servers are
# installed from the OS packages.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOCAL="$ROOT/.local"
PG_PORT="${PRM_PG_PORT:-55432}"
NATS_PORT="${PRM_NATS_PORT:-54222}"
PG_DIR="$LOCAL/postgres"
NATS_DIR="$LOCAL/nats"

log() { echo "deps: $*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

apt_install() {
  log "installing $* from the OS packages"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq >/dev/null || true
  as_root apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pg_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  done
  return 1
}

pg_as_owner() {
  # initdb and postgres refuse to run as root; run them as `postgres` then.
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

postgres_up() {
  if port_open "$PG_PORT"; then
    log "PostgreSQL already listening on 127.0.0.1:$PG_PORT"
    return 0
  fi
  local bin
  bin="$(pg_bin)" || { apt_install postgresql; bin="$(pg_bin)"; }
  mkdir -p "$LOCAL"
  if [ ! -f "$PG_DIR/PG_VERSION" ]; then
    if [ "$(id -u)" = 0 ]; then install -d -o postgres -m 700 "$PG_DIR"; else mkdir -p -m 700 "$PG_DIR"; fi
    pg_as_owner "$bin/initdb" -D "$PG_DIR" -A trust -U postgres --no-sync >/dev/null
  fi
  # The log stays inside the data folder, which the postgres user owns.
  pg_as_owner "$bin/pg_ctl" -D "$PG_DIR" -l "$PG_DIR/server.log" -w -t 30 \
    -o "-p $PG_PORT -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=400 -c fsync=off -c synchronous_commit=off" \
    start >/dev/null
  log "started PostgreSQL on 127.0.0.1:$PG_PORT (data in $PG_DIR)"
  echo "postgres"
}

postgres_down() {
  local bin
  bin="$(pg_bin)" || return 0
  if [ -f "$PG_DIR/postmaster.pid" ]; then
    pg_as_owner "$bin/pg_ctl" -D "$PG_DIR" -m fast -w stop >/dev/null && log "stopped PostgreSQL"
  fi
}

nats_up() {
  if port_open "$NATS_PORT"; then
    log "NATS already listening on 127.0.0.1:$NATS_PORT"
    return 0
  fi
  command -v nats-server >/dev/null || apt_install nats-server
  mkdir -p "$NATS_DIR"
  rm -f "$LOCAL/nats.pid"
  # -a keeps it on loopback; without it NATS listens on every interface.
  setsid nohup nats-server -js -a 127.0.0.1 -p "$NATS_PORT" -sd "$NATS_DIR" \
    -P "$LOCAL/nats.pid" -l "$LOCAL/nats.log" >/dev/null 2>&1 < /dev/null &
  # A store that many test runs have filled (each leaves its namespace's
  # streams) takes a while to restore before NATS listens: wait for as
  # long as the server is alive, up to two minutes.
  local i pid
  for i in $(seq 1 1200); do
    port_open "$NATS_PORT" && break
    pid="$(cat "$LOCAL/nats.pid" 2>/dev/null || true)"
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then break; fi
    sleep 0.1
  done
  port_open "$NATS_PORT" || { log "NATS did not start; see $LOCAL/nats.log"; exit 1; }
  log "started NATS with JetStream on 127.0.0.1:$NATS_PORT (store in $NATS_DIR)"
  echo "nats"
}

nats_down() {
  if [ -f "$LOCAL/nats.pid" ]; then
    local pid
    pid="$(cat "$LOCAL/nats.pid")"
    if kill "$pid" 2>/dev/null; then
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      log "stopped NATS"
    fi
    rm -f "$LOCAL/nats.pid"
  fi
}

case "${1:-up}" in
  up) postgres_up; nats_up ;;
  down) nats_down; postgres_down ;;
  postgres-down) postgres_down ;;
  nats-down) nats_down ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
