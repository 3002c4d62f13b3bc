#!/usr/bin/env bash
# `make test`: every test against real PostgreSQL and NATS. Starts the
# project's own instances where none is reachable, and stops only those it
# started.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PG_PORT="${PRM_PG_PORT:-55432}"
NATS_PORT="${PRM_NATS_PORT:-54222}"

started="$(scripts/deps.sh up)"
cleanup() {
  case "$started" in *nats*) scripts/deps.sh nats-down ;; esac
  case "$started" in *postgres*) scripts/deps.sh postgres-down ;; esac
}
trap cleanup EXIT

export PRM_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres"
export PRM_TEST_NATS_URL="nats://127.0.0.1:$NATS_PORT"
command -v nats-server >/dev/null && export PRM_NATS_SERVER_BIN="$(command -v nats-server)"

# Databases left by earlier runs (kept for inspection until now).
psql -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -At \
  -c "SELECT 'DROP DATABASE \"' || datname || '\";' FROM pg_database WHERE datname LIKE 'prm_test_%'" \
  | psql -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres >/dev/null

start=$(date +%s)
# The scenario test (tests/e2e/tests/scenario.rs) runs the binaries as
# processes: build them first.
cargo build --workspace --bins --locked --quiet
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast --status-level fail --final-status-level slow
else
  cargo test --workspace --no-fail-fast
fi
echo "tests finished in $(( $(date +%s) - start ))s"

# Contracts the tests cannot see from inside Rust.
. scripts/python-tools.sh
"$VENV/bin/openapi-spec-validator" gateway/openapi.json
scripts/check-k8s.sh
# The HTTP contract from outside: Redocly's lint of the document, and
# schemathesis against a running gateway and its services.
scripts/contract-check.sh
