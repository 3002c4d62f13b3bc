#!/usr/bin/env bash
# `make bench`: release binaries, project-owned PostgreSQL and NATS, real load.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PG_PORT="${PRM_PG_PORT:-55432}"
NATS_PORT="${PRM_NATS_PORT:-54222}"
cargo build --release --locked -p prm-onboarding -p prm-dealreg -p prm-mdf -p prm-commissions -p prm-reporting -p prm-gateway -p prm-bench
started="$(scripts/deps.sh up)"
cleanup() {
  case "$started" in *nats*) scripts/deps.sh nats-down ;; esac
  case "$started" in *postgres*) scripts/deps.sh postgres-down ;; esac
}
trap cleanup EXIT
export PRM_BENCH_DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres"
export PRM_BENCH_NATS_URL="nats://127.0.0.1:$NATS_PORT"
# The reference for write benchmarks: pgbench from the PostgreSQL install.
PRM_BENCH_PGBENCH="$(command -v pgbench || ls /usr/lib/postgresql/*/bin/pgbench 2>/dev/null | head -1)"
export PRM_BENCH_PGBENCH
target/release/prm-bench
