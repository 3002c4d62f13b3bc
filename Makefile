# The two commands a newcomer needs, plus the checks CI runs.
.PHONY: up test bench openapi lint fmt build deps-up deps-down clean-local

# Run the platform locally: PostgreSQL and NATS (installed and started where
# missing), migrations, then every service as its own process. Ctrl-C stops it.
up:
	@scripts/up.sh

# Every test, against real PostgreSQL and NATS (started the same way).
test: lint
	@scripts/test.sh

# Gateway throughput and latency against direct gRPC, and process memory,
# measured in one run; figures in target/bench/results.json.
bench:
	@scripts/bench.sh

# Regenerates the committed OpenAPI document from the gateway's code.
openapi:
	cargo run --quiet --locked -p prm-gateway -- openapi > gateway/openapi.json

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --locked -- -D warnings

fmt:
	cargo fmt --all

build:
	cargo build --workspace --bins --locked

deps-up:
	@scripts/deps.sh up >/dev/null

deps-down:
	@scripts/deps.sh down

# Removes the project-owned PostgreSQL and NATS data.
clean-local: deps-down
	rm -rf .local
