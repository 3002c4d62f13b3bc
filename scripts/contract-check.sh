#!/usr/bin/env bash
# The gateway's HTTP contract, checked from outside (run by make test):
#
#   1. Redocly's `recommended` lint of the committed gateway/openapi.json
#      (errors fail, warnings are shown);
#   2. schemathesis against a running gateway and its services, with
#      the document the gateway serves at /openapi.json, with the admin key
#      and with a partner admin's key: no 5xx, only documented status codes,
#      content types, headers and response bodies. The operations that take
#      credentials away (revoke a key, deactivate a user, suspend or
#      terminate a partner) get passes of their own at the end, see below.
#
# It starts its own onboarding, dealreg, mdf, commissions, reporting and gateway on free ports, against
# fresh databases (one per service) and its own NATS namespace on the
# project's PostgreSQL and NATS
# (scripts/deps.sh, stopping only what that started), seeds them through the
# gateway, and removes all of it on exit. Logs and reports: .local/contract/.
#
#   PRM_CONTRACT_SKIP_BUILD=1       use target/debug as it is (no cargo)
#   PRM_CONTRACT_BIN_WAIT_SECS      how long to wait for the binaries (1200)
#   PRM_CONTRACT_MAX_EXAMPLES       schemathesis examples per operation (20)
#   PRM_CONTRACT_RUN_SECS           hard limit per schemathesis run (150)
#   PRM_CONTRACT_SEED               schemathesis seed (fixed, so the check cannot flicker)
#   PRM_CONTRACT_CHECKS             schemathesis checks (default below; "all" to explore)
#   PRM_CONTRACT_PHASES             schemathesis phases (examples,coverage,fuzzing)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PG_PORT="${PRM_PG_PORT:-55432}"
NATS_PORT="${PRM_NATS_PORT:-54222}"
OUT=.local/contract
MAX_EXAMPLES="${PRM_CONTRACT_MAX_EXAMPLES:-20}"
RUN_SECS="${PRM_CONTRACT_RUN_SECS:-150}"
BIN_WAIT_SECS="${PRM_CONTRACT_BIN_WAIT_SECS:-1200}"
CHECKS="${PRM_CONTRACT_CHECKS:-not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance}"
PHASES="${PRM_CONTRACT_PHASES:-examples,coverage,fuzzing}"

log() { echo "contract-check: $*" >&2; }
t0=$(date +%s)

# --- tools (pinned, project-local) -----------------------------------------
. scripts/python-tools.sh
. scripts/node-tools.sh

# --- binaries ----------------------------------------------------------------
if [ "${PRM_CONTRACT_SKIP_BUILD:-}" != 1 ]; then
  cargo build --quiet --locked --bins -p prm-onboarding -p prm-dealreg -p prm-mdf -p prm-commissions -p prm-reporting -p prm-gateway
fi
waited=0
until [ -x target/debug/prm-onboarding ] && [ -x target/debug/prm-dealreg ] && [ -x target/debug/prm-mdf ] \
  && [ -x target/debug/prm-commissions ] && [ -x target/debug/prm-reporting ] && [ -x target/debug/prm-gateway ]; do
  if [ "$waited" -ge "$BIN_WAIT_SECS" ]; then
    log "target/debug/prm-onboarding, prm-dealreg, prm-mdf, prm-commissions, prm-reporting and prm-gateway did not appear within ${BIN_WAIT_SECS}s"
    exit 1
  fi
  log "waiting for target/debug/prm-onboarding, prm-dealreg, prm-mdf, prm-commissions, prm-reporting and prm-gateway (a build in progress?); ${waited}s so far"
  sleep 30
  waited=$((waited + 30))
done
rm -rf "$OUT"
mkdir -p "$OUT/bin" "$OUT/reports"
# Private copies, so a concurrent build relinking target/debug cannot swap
# one binary under the run.
for try in 1 2 3; do
  cp target/debug/prm-onboarding target/debug/prm-dealreg target/debug/prm-mdf target/debug/prm-commissions target/debug/prm-reporting \
    target/debug/prm-gateway "$OUT/bin/" && break
  [ "$try" = 3 ] && exit 1
  sleep 5
done
BIN="$OUT/bin"

failed=()

# --- 1. Redocly lint ----------------------------------------------------------
# No redocly.yaml: the built-in `recommended` ruleset, offline (the document
# has no remote $refs). Telemetry and update notices are off (node-tools.sh).
log "redocly lint --extends=recommended gateway/openapi.json (@redocly/cli $REDOCLY_CLI_VERSION)"
# The box lines are Redocly's notice that Node.js 20 support is ending.
set +e
"$REDOCLY" lint --extends=recommended --format=codeframe gateway/openapi.json 2>&1 \
  | grep -vE '^ *(╔|║|╚)' | tee "$OUT/redocly-lint.txt"
lint_rc=${PIPESTATUS[0]}
set -e
if [ "$lint_rc" != 0 ]; then
  failed+=("redocly lint (recommended): errors in gateway/openapi.json; see $OUT/redocly-lint.txt")
fi

# --- 2. PostgreSQL, NATS, the services, the gateway ---------------------------
started="$(scripts/deps.sh up)"
rand="$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"
# One database per service, as in production.
DB="prm_contract_$rand"
DEALREG_DB="prm_contract_${rand}_dealreg"
MDF_DB="prm_contract_${rand}_mdf"
COMMISSIONS_DB="prm_contract_${rand}_commissions"
REPORTING_DB="prm_contract_${rand}_reporting"
NS="contract$rand"
PSQL=(psql -q -X -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres)
pids=()

delete_nats_streams() {
  # The streams of this run's namespace, over the plain NATS protocol (no
  # client library needed): list by subject, then delete each.
  "$VENV/bin/python" - "$NATS_PORT" "$NS" <<'EOF' || log "could not delete the NATS streams of namespace $NS"
import json, socket, sys
port, ns = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("127.0.0.1", port), timeout=5)
f = s.makefile("rb")
f.readline()  # INFO
s.sendall(b'CONNECT {"verbose":false,"pedantic":false}\r\nSUB _INBOX.contract 1\r\n')
def request(subject, payload=b""):
    s.sendall(f"PUB {subject} _INBOX.contract {len(payload)}\r\n".encode() + payload + b"\r\n")
    while True:
        line = f.readline()
        if not line:
            raise SystemExit("connection closed")
        if line.startswith(b"PING"):
            s.sendall(b"PONG\r\n")
        elif line.startswith(b"-ERR"):
            raise SystemExit(line.decode().strip())
        elif line.startswith(b"MSG"):
            size = int(line.split()[-1])
            return json.loads(f.read(size + 2)[:size] or b"{}")
names = request("$JS.API.STREAM.NAMES", json.dumps({"subject": ns + ".>"}).encode()).get("streams") or []
for name in names:
    request(f"$JS.API.STREAM.DELETE.{name}")
EOF
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  for pid in "${pids[@]:-}"; do [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 50); do
    alive=0
    for pid in "${pids[@]:-}"; do [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.2
  done
  for pid in "${pids[@]:-}"; do [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true; done
  for db in "$DB" "$DEALREG_DB" "$MDF_DB" "$COMMISSIONS_DB" "$REPORTING_DB"; do
    "${PSQL[@]}" -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 \
      || log "could not drop database $db"
  done
  delete_nats_streams
  case "$started" in *nats*) scripts/deps.sh nats-down ;; esac
  case "$started" in *postgres*) scripts/deps.sh postgres-down ;; esac
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Databases of earlier runs that died before their cleanup (a run in
# progress keeps connections open, so its database is not dropped).
for old in $("${PSQL[@]}" -At -c "SELECT datname FROM pg_database WHERE datname LIKE 'prm\_contract\_%'"); do
  "${PSQL[@]}" -c "DROP DATABASE \"$old\"" >/dev/null 2>&1 || true
done
"${PSQL[@]}" -c "CREATE DATABASE \"$DB\"" >/dev/null
"${PSQL[@]}" -c "CREATE DATABASE \"$DEALREG_DB\"" >/dev/null
"${PSQL[@]}" -c "CREATE DATABASE \"$MDF_DB\"" >/dev/null
"${PSQL[@]}" -c "CREATE DATABASE \"$COMMISSIONS_DB\"" >/dev/null
"${PSQL[@]}" -c "CREATE DATABASE \"$REPORTING_DB\"" >/dev/null

# Distinct free ports: onboarding's, dealreg's, mdf's, commissions', reporting's and the gateway's.
read -r ONBOARDING_PORT DEALREG_PORT MDF_PORT COMMISSIONS_PORT REPORTING_PORT HTTP_PORT < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(6)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))')
API="http://127.0.0.1:$HTTP_PORT"
ADMIN_KEY="prm_contract_admin_$(head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 32)"
SERVICE_TOKEN="contract-$rand"

# Shared by every process; each service gets its port and database below.
export PRM_NATS__URL="nats://127.0.0.1:$NATS_PORT"
export PRM_NATS__NAMESPACE="$NS"
export PRM_AUTH__SERVICE_TOKEN="$SERVICE_TOKEN"
export PRM_TELEMETRY__LOG_FORMAT=json
# Nothing balances across these processes: stop without a drain delay.
export PRM_GRPC__DRAIN_DELAY_MS=0 PRM_HTTP__DRAIN_DELAY_MS=0
ONBOARDING_ENV=(PRM_GRPC__PORT="$ONBOARDING_PORT" PRM_DATABASE__URL="postgres://postgres@127.0.0.1:$PG_PORT/$DB")
# Dealreg asks this run's onboarding whether a partner may register deals.
DEALREG_ENV=(PRM_GRPC__PORT="$DEALREG_PORT" PRM_DATABASE__URL="postgres://postgres@127.0.0.1:$PG_PORT/$DEALREG_DB"
  PRM_ONBOARDING_URL="http://127.0.0.1:$ONBOARDING_PORT")
MDF_ENV=(PRM_GRPC__PORT="$MDF_PORT" PRM_DATABASE__URL="postgres://postgres@127.0.0.1:$PG_PORT/$MDF_DB")
COMMISSIONS_ENV=(PRM_GRPC__PORT="$COMMISSIONS_PORT" PRM_DATABASE__URL="postgres://postgres@127.0.0.1:$PG_PORT/$COMMISSIONS_DB")
REPORTING_ENV=(PRM_GRPC__PORT="$REPORTING_PORT" PRM_DATABASE__URL="postgres://postgres@127.0.0.1:$PG_PORT/$REPORTING_DB")
env "${ONBOARDING_ENV[@]}" "$BIN/prm-onboarding" migrate >"$OUT/onboarding-migrate.log" 2>&1 \
  || { log "migrating onboarding failed; see $OUT/onboarding-migrate.log"; exit 1; }
env "${DEALREG_ENV[@]}" "$BIN/prm-dealreg" migrate >"$OUT/dealreg-migrate.log" 2>&1 \
  || { log "migrating dealreg failed; see $OUT/dealreg-migrate.log"; exit 1; }
env "${MDF_ENV[@]}" "$BIN/prm-mdf" migrate >"$OUT/mdf-migrate.log" 2>&1 \
  || { log "migrating mdf failed; see $OUT/mdf-migrate.log"; exit 1; }
env "${COMMISSIONS_ENV[@]}" "$BIN/prm-commissions" migrate >"$OUT/commissions-migrate.log" 2>&1 \
  || { log "migrating commissions failed; see $OUT/commissions-migrate.log"; exit 1; }
env "${REPORTING_ENV[@]}" "$BIN/prm-reporting" migrate >"$OUT/reporting-migrate.log" 2>&1 \
  || { log "migrating reporting failed; see $OUT/reporting-migrate.log"; exit 1; }
env "${ONBOARDING_ENV[@]}" PRM_BOOTSTRAP_ADMIN_KEY="$ADMIN_KEY" "$BIN/prm-onboarding" serve >"$OUT/onboarding.log" 2>&1 &
pids+=($!)
env "${DEALREG_ENV[@]}" "$BIN/prm-dealreg" serve >"$OUT/dealreg.log" 2>&1 &
pids+=($!)
env "${MDF_ENV[@]}" "$BIN/prm-mdf" serve >"$OUT/mdf.log" 2>&1 &
pids+=($!)
env "${COMMISSIONS_ENV[@]}" "$BIN/prm-commissions" serve >"$OUT/commissions.log" 2>&1 &
pids+=($!)
env "${REPORTING_ENV[@]}" "$BIN/prm-reporting" serve >"$OUT/reporting.log" 2>&1 &
pids+=($!)
# /readyz answers 200 only once every upstream is serving.
PRM_HTTP__PORT="$HTTP_PORT" \
PRM_UPSTREAMS__ONBOARDING="http://127.0.0.1:$ONBOARDING_PORT" \
PRM_UPSTREAMS__DEALREG="http://127.0.0.1:$DEALREG_PORT" \
PRM_UPSTREAMS__MDF="http://127.0.0.1:$MDF_PORT" \
PRM_UPSTREAMS__COMMISSIONS="http://127.0.0.1:$COMMISSIONS_PORT" \
PRM_UPSTREAMS__REPORTING="http://127.0.0.1:$REPORTING_PORT" \
PRM_TRACKING__NATS_URL="nats://127.0.0.1:$NATS_PORT" \
PRM_TRACKING__NATS_NAMESPACE="$NS" \
PRM_RATE_LIMIT__PER_KEY_PER_SECOND=100000 \
PRM_RATE_LIMIT__PER_KEY_BURST=100000 \
PRM_RATE_LIMIT__PUBLIC_PER_MINUTE=100000 \
PRM_RATE_LIMIT__POSTBACKS_PER_ADDRESS_PER_SECOND=100000 \
PRM_RATE_LIMIT__POSTBACKS_PER_PROGRAM_PER_SECOND=100000 \
PRM_RATE_LIMIT__REDIRECTS_PER_ADDRESS_PER_MINUTE=1000000 \
PRM_AUTH__FAILURE_BURST=100000 \
  "$BIN/prm-gateway" serve >"$OUT/gateway.log" 2>&1 &
pids+=($!)

for _ in $(seq 1 120); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$API/readyz")" = 200 ] && break
  for pid in "${pids[@]}"; do
    kill -0 "$pid" 2>/dev/null || { log "a service exited; see $OUT/onboarding.log, $OUT/dealreg.log, $OUT/mdf.log, $OUT/commissions.log, $OUT/reporting.log and $OUT/gateway.log"; exit 1; }
  done
  sleep 0.5
done
[ "$(curl -s -o /dev/null -w '%{http_code}' "$API/readyz")" = 200 ] \
  || { log "the gateway did not become ready; see $OUT/gateway.log, $OUT/onboarding.log, $OUT/dealreg.log, $OUT/mdf.log, $OUT/commissions.log and $OUT/reporting.log"; exit 1; }
log "onboarding on grpc 127.0.0.1:$ONBOARDING_PORT, dealreg on 127.0.0.1:$DEALREG_PORT, mdf on 127.0.0.1:$MDF_PORT, commissions on 127.0.0.1:$COMMISSIONS_PORT, reporting on 127.0.0.1:$REPORTING_PORT and gateway on $API are ready (databases $DB, $DEALREG_DB, $MDF_DB, $COMMISSIONS_DB and $REPORTING_DB, NATS namespace $NS)"

# --- 3. seed data through the gateway ----------------------------------------
# call METHOD PATH KEY [JSON] [IDEMPOTENCY-KEY]: the body on 2xx, else fail.
call() {
  local method="$1" path="$2" key="$3" body="${4:-}" idem="${5:-}" args=() code
  [ -n "$key" ] && args+=(-H "Authorization: Bearer $key")
  [ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
  [ -n "$idem" ] && args+=(-H "Idempotency-Key: $idem")
  code="$(curl -sS -o "$OUT/seed-response.json" -w '%{http_code}' -X "$method" "${args[@]}" "$API$path")"
  if [ "${code:0:1}" != 2 ]; then
    log "seeding failed: $method $path answered $code: $(cat "$OUT/seed-response.json")"
    exit 1
  fi
  cat "$OUT/seed-response.json"
}
field() { jq -er "$1"; }

program="$(call POST /v1/programs "$ADMIN_KEY" \
  '{"name": "Contract Channel", "currency": "EUR", "description": "schemathesis"}' | field .id)"
call POST "/v1/programs/$program/tiers" "$ADMIN_KEY" '{"name": "registered", "rank": 0}' >/dev/null
gold="$(call POST "/v1/programs/$program/tiers" "$ADMIN_KEY" \
  '{"name": "gold", "rank": 1, "requirements": {"min_deals_won": 2, "min_certified_people": 1,
    "min_revenue_won": {"amount_minor": 500000, "currency": "EUR"}}}' | field .id)"
application="$(call POST /v1/applications "" '{"company_name": "Acme GmbH", "domain": "acme.example",
  "country": "DE", "partner_type": "reseller", "contact_name": "Jane Doe",
  "contact_email": "jane@acme.example"}' | field .id)"
approval="$(call POST "/v1/applications/$application/approve" "$ADMIN_KEY" \
  "{\"program_id\": \"$program\"}" "contract-approve-$rand")"
partner="$(field .partner.id <<<"$approval")"
PARTNER_KEY="$(field .admin_api_key.secret <<<"$approval")"
# One application left pending, one rejected.
call POST /v1/applications "" '{"company_name": "Globex SA", "domain": "globex.example",
  "country": "FR", "partner_type": "si", "contact_name": "Hank Scorpio",
  "contact_email": "hank@globex.example"}' >/dev/null
rejected="$(call POST /v1/applications "" '{"company_name": "Initech Ltd", "domain": "initech.example",
  "country": "GB", "partner_type": "referral", "contact_name": "Bill Lumbergh",
  "contact_email": "bill@initech.example"}' | field .id)"
call POST "/v1/applications/$rejected/reject" "$ADMIN_KEY" '{"reason": "out of territory"}' >/dev/null
call POST /v1/terms "$ADMIN_KEY" '{"kind": "partner_agreement", "version": "2026-01",
  "title": "Partner agreement", "body": "The partner agrees."}' >/dev/null
call POST /v1/content "$ADMIN_KEY" '{"title": "Competitive battlecard", "kind": "battlecard",
  "url": "https://content.example/battlecard.pdf"}' >/dev/null
call POST /v1/content "$ADMIN_KEY" '{"title": "Gold deck", "kind": "deck",
  "url": "https://content.example/gold.pdf", "visibility": {"min_tier_rank": 1, "partner_types": ["reseller"]}}' >/dev/null
course="$(call POST /v1/courses "$ADMIN_KEY" '{"title": "Selling PRM", "description": "Basics",
  "pass_mark_percent": 70, "certification_valid_days": 365, "required_for_onboarding": true}' | field .id)"
# The partner's own activity: terms accepted, a certification, a user, a key.
call POST /v1/terms/2026-01/accept "$PARTNER_KEY" '{"kind": "partner_agreement"}' >/dev/null
call POST "/v1/courses/$course/attempts" "$PARTNER_KEY" '{"score_percent": 90}' >/dev/null
partner_user="$(call POST "/v1/partners/$partner/users" "$PARTNER_KEY" \
  '{"email": "sam@acme.example", "display_name": "Sam Seller", "roles": ["partner_user"]}' | field .id)"
call POST "/v1/partners/$partner/api-keys" "$PARTNER_KEY" '{"name": "CRM sync"}' >/dev/null
call POST "/v1/partners/$partner/tier" "$ADMIN_KEY" "{\"tier_id\": \"$gold\", \"reason\": \"contract seed\"}" >/dev/null
# A second partner, suspended, so that reactivating one reaches its logic.
second="$(call POST /v1/applications "" '{"company_name": "Umbrella AG", "domain": "umbrella.example",
  "country": "CH", "partner_type": "technology", "contact_name": "Alice Abernathy",
  "contact_email": "alice@umbrella.example"}' | field .id)"
second="$(call POST "/v1/applications/$second/approve" "$ADMIN_KEY" "{\"program_id\": \"$program\"}" | field .partner.id)"
call POST "/v1/partners/$second/suspend" "$ADMIN_KEY" '{"reason": "contract seed"}' >/dev/null
# MDF: a budget, the partner's fund, a request approved and claimed, and
# one awaiting a decision.
budget="$(call POST /v1/mdf/budgets "$ADMIN_KEY" "{\"program_id\": \"$program\", \"name\": \"Contract MDF\",
  \"period\": \"2030-Q1\", \"amount\": {\"amount_minor\": 100000000, \"currency\": \"EUR\"}}" | field .id)"
fund="$(call POST /v1/mdf/allocations "$ADMIN_KEY" "{\"budget_id\": \"$budget\", \"partner_id\": \"$partner\",
  \"kind\": \"discretionary\", \"amount\": {\"amount_minor\": 10000000, \"currency\": \"EUR\"}}" | field .id)"
mdf_request() {
  call POST /v1/mdf/requests "$PARTNER_KEY" "{\"fund_id\": \"$fund\", \"activity_type\": \"webinar\",
    \"description\": \"$1\", \"starts_on\": \"$(date -u -d '-9 days' +%F)\", \"ends_on\": \"$(date -u -d '-8 days' +%F)\",
    \"campaign_code\": \"CONTRACT-1\", \"amount\": {\"amount_minor\": 500000, \"currency\": \"EUR\"}}" | field .id
}
claimed="$(mdf_request "Contract webinar")"
call POST "/v1/mdf/requests/$claimed/approve" "$ADMIN_KEY" '{}' >/dev/null
call POST "/v1/mdf/requests/$claimed/claims" "$PARTNER_KEY" '{"proven_cost": {"amount_minor": 400000, "currency": "EUR"},
  "invoice_number": "CONTRACT-INV-1", "documents": [{"name": "invoice.pdf", "content_type": "application/pdf",
  "size_bytes": 1000, "checksum": "sha256:0000000000000000000000000000000000000000000000000000000000000000",
  "location": "s3://proofs/contract.pdf"}]}' >/dev/null
mdf_request "Contract roadshow" >/dev/null
# Commissions: settings and a plan (payable at once), the partner's link
# (once the commissions service has heard of the partner), a click through
# the redirect, a converting postback, a payout profile with its tax form,
# and a pending payout batch.
TOKEN="contract-postback-token-$rand"
call PUT "/v1/programs/$program/commission-settings" "$ADMIN_KEY" "{\"allowed_domains\": [\"shop.example\"],
  \"min_seconds_to_convert\": 0, \"min_payout_minor\": 100, \"postback_token\": \"$TOKEN\"}" >/dev/null
call POST /v1/plans "$ADMIN_KEY" "{\"program_id\": \"$program\", \"name\": \"Contract plan\", \"currency\": \"EUR\",
  \"revshare_bps\": 2000, \"reseller_margin_bps\": 500, \"hold_days\": 0}" >/dev/null
link=""
for _ in $(seq 1 40); do
  code="$(curl -sS -o "$OUT/seed-response.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $PARTNER_KEY" \
    -H 'Content-Type: application/json' --data-binary '{"destination_url": "https://shop.example/contract"}' "$API/v1/links")"
  [ "$code" = 201 ] && { link="$(cat "$OUT/seed-response.json")"; break; }
  sleep 0.5
done
[ -n "$link" ] || { log "seeding failed: the partner could not create a link: $(cat "$OUT/seed-response.json")"; exit 1; }
link_code="$(field .code <<<"$link")"
location="$(curl -sS -o /dev/null -w '%{redirect_url}' -A 'Mozilla/5.0 (contract check)' "$API/t/$link_code?sub1=contract")"
click_id="${location##*prm_click_id=}"
sleep 1.5 # the gateway hands clicks over at least every second
call GET "/v1/postbacks?program_id=$program&token=$TOKEN&click_id=$click_id&transaction_id=CONTRACT-T-1&amount=120000&currency=EUR" "" >/dev/null
call PUT "/v1/partners/$partner/payout-profile" "$ADMIN_KEY" '{"method": "paypal", "paypal_email": "pay@acme.example",
  "payee_name": "Acme GmbH", "tax_form": "w9", "tax_form_received_on": "2026-11-01"}' >/dev/null
call POST /v1/payouts "$ADMIN_KEY" "{\"program_id\": \"$program\", \"currency\": \"EUR\"}" >/dev/null
# Reporting: an attribution model, and a deal the partner registered and
# won, which reporting credits (its scorecard then has figures).
call POST /v1/attribution-models "$ADMIN_KEY" '{"name": "Contract 70/30", "sourced_bps": 7000,
  "influencer_bps": 3000, "window_days": 90}' >/dev/null
deal="$(call POST /v1/deal-registrations "$PARTNER_KEY" "{\"customer_company\": \"Contract Buyer\",
  \"customer_domain\": \"contract-buyer.example\", \"contact\": {\"name\": \"Bo\", \"email\": \"bo@contract-buyer.example\"},
  \"estimated_value\": {\"amount_minor\": 250000, \"currency\": \"EUR\"},
  \"expected_close_date\": \"$(date -u -d '+30 days' +%F)\"}" | field .id)"
call POST "/v1/deal-registrations/$deal/approve" "$ADMIN_KEY" '{}' >/dev/null
call POST "/v1/deal-registrations/$deal/win" "$ADMIN_KEY" \
  '{"amount": {"amount_minor": 200000, "currency": "EUR"}}' >/dev/null
log "seeded program $program, partner $partner (and its admin key), a suspended partner, applications, terms, content, a course, a certification, an MDF budget, fund, requests and a claim, commission settings, a plan, a link, a click, a conversion and a payout batch, an attribution model and a won deal"

# --- 4. schemathesis, as the admin and as a partner --------------------------
# --url: requests go to this run's gateway whatever `servers` says.
# The fuzzer feeds the ids it reads back into other operations, so left
# alone it suspends and terminates the seeded partner, deactivates its users
# and revokes its keys (its own among them) early in the run, and every later
# request is a 401. So the operations that take credentials away run last,
# in passes of their own with the GETs that show them ids: admin, partner,
# then partner and admin again for those.
DESTRUCTIVE='revoke_api_key|deactivate_user|suspend_partner|terminate_partner'
# Every other operation that changes something, from the served document.
MUTATING="$(curl -sS "$API/openapi.json" | jq -r --arg d "^($DESTRUCTIVE)\$" '
  [.paths[] | to_entries[] | select(.key != "get" and (.value | type) == "object")
   | .value.operationId // empty | select(test($d) | not)] | join("|")')"
# No cache of ids from earlier runs (schemathesis keeps one by default).
# The check fails when the API refuses data the document allows: every
# rule the validation enforces is in the schema, or (where a schema cannot
# say it) in words the hooks follow (scripts/contract-hooks.py).
printf '[cache]\nenabled = false\n\n[warnings]\nfail-on = ["validation_mismatch"]\n' > "$OUT/schemathesis.toml"
export HYPOTHESIS_STORAGE_DIRECTORY="$ROOT/$OUT/hypothesis"
# A fresh Idempotency-Key per request, as clients send them (see the file).
export SCHEMATHESIS_HOOKS="$ROOT/scripts/contract-hooks.py"
# What the hooks need of the seed: its partner, a partner user, its currency.
export PRM_CONTRACT_PARTNER_ID="$partner" PRM_CONTRACT_PARTNER_USER_ID="$partner_user" PRM_CONTRACT_CURRENCY=EUR
export PRM_CONTRACT_API="$API" PRM_CONTRACT_PROGRAM_ID="$program" PRM_CONTRACT_LINK_DOMAIN=shop.example
SCHEMATHESIS="$(cd "$VENV/bin" && pwd)/schemathesis"
seed_args=(--seed "${PRM_CONTRACT_SEED:-20261206}")
SCHEMATHESIS_ARGS=(
  --checks "$CHECKS"
  --phases "$PHASES"
  --max-examples "$MAX_EXAMPLES"
  # One worker: with two threads, CPython 3.11's ast module can raise
  # "SystemError: AST constructor recursion depth mismatch" inside
  # Hypothesis (python/cpython#106905), failing a pass on no response of
  # ours; it did so in two of three runs once the document grew.
  --workers 1
  --request-timeout 15
  --generation-database none
  --suppress-health-check all
  --output-truncate false
  # The keys die with this run's database; unsanitised output keeps the
  # curl reproductions complete (the sanitiser also blanks page_token).
  --output-sanitize false
)
# One line per failing (check, operation, status) of a pass, from its report.
summarise_failures() {
  "$VENV/bin/python" - "$OUT/reports/$1" <<'EOF' || true
import base64, collections, glob, json, sys
seen = collections.Counter()
example = {}
for path in glob.glob(sys.argv[1] + "/ndjson-*.ndjson"):
    for line in open(path, encoding="utf-8"):
        event = json.loads(line).get("ScenarioFinished")
        if not event:
            continue
        rec = event["recorder"]
        for cid, checks in rec.get("checks", {}).items():
            for check in checks:
                if check["status"] == "success":
                    continue
                case = rec["cases"][cid]["value"]
                response = (rec["interactions"].get(cid) or {}).get("response") or {}
                key = (check["name"], f'{case["method"]} {case["path"]}', response.get("status_code"))
                seen[key] += 1
                if key not in example:
                    try:
                        body = base64.b64decode(response["content"]["$base64"]).decode("utf-8", "replace")
                    except (KeyError, TypeError, ValueError):
                        body = ""
                    example[key] = " ".join(body.split())[:160]
for (check, operation, status), n in sorted(seen.items()):
    print(f"      {n:4d} x {check}: {operation} -> {status}  {example[(check, operation, status)]}")
EOF
}
fuzz() {
  local pass="$1" key="$2" rc
  shift 2
  echo
  log "schemathesis pass '$pass' (at most ${RUN_SECS}s):"
  # The command line, to rerun by hand with KEY set (and $API up).
  {
    printf '  (cd %s && %s' "$OUT" "$SCHEMATHESIS"
    for a in --config-file schemathesis.toml --no-color run "$API/openapi.json" --url "$API" \
      --header "Authorization: Bearer \$KEY" "${SCHEMATHESIS_ARGS[@]}" "$@" "${seed_args[@]}" \
      --report junit,ndjson --report-dir "reports/$pass"; do
      case "$a" in
        *[!A-Za-z0-9_,./:=@%+-]*) printf ' "%s"' "$a" ;;
        *) printf ' %s' "$a" ;;
      esac
    done
    printf ')\n'
  } >&2
  # From $OUT, where schemathesis and hypothesis keep their files.
  (cd "$OUT" && PRM_CONTRACT_CALLER="${pass%%-*}" PRM_CONTRACT_KEY="$key" timeout --foreground --kill-after=5 "$RUN_SECS" "$SCHEMATHESIS" \
    --config-file schemathesis.toml --no-color run "$API/openapi.json" --url "$API" \
    --header "Authorization: Bearer $key" \
    "${SCHEMATHESIS_ARGS[@]}" "$@" "${seed_args[@]}" \
    --report junit,ndjson --report-dir "reports/$pass") 2>&1 | tee "$OUT/schemathesis-$pass.txt"
  rc=${PIPESTATUS[0]}
  case "$rc" in
    0) ;;
    130|143) exit "$rc" ;;  # interrupted: stop here (the cleanup runs)
    124|137) failed+=("schemathesis pass '$pass': did not finish within ${RUN_SECS}s; see $OUT/schemathesis-$pass.txt") ;;
    *)
      failed+=("schemathesis pass '$pass': failures (exit $rc); see $OUT/schemathesis-$pass.txt")
      failed+=("$(summarise_failures "$pass")")
      ;;
  esac
}
set +e
fuzz admin "$ADMIN_KEY" --exclude-operation-id-regex "^($DESTRUCTIVE)\$"
fuzz partner "$PARTNER_KEY" --exclude-operation-id-regex "^($DESTRUCTIVE)\$"
fuzz partner-destructive "$PARTNER_KEY" --exclude-operation-id-regex "^($MUTATING)\$"
fuzz admin-destructive "$ADMIN_KEY" --exclude-operation-id-regex "^($MUTATING)\$"
set -e

# --- result ------------------------------------------------------------------
echo
if [ "${#failed[@]}" -gt 0 ]; then
  echo "contract-check: FAILED after $(( $(date +%s) - t0 ))s:"
  for f in "${failed[@]}"; do
    case "$f" in " "*) echo "$f" ;; ?*) echo "  - $f" ;; esac
  done
  echo "  logs: $OUT/onboarding.log, $OUT/dealreg.log, $OUT/mdf.log, $OUT/commissions.log, $OUT/reporting.log, $OUT/gateway.log; reports: $OUT/reports/"
  exit 1
fi
echo "contract-check: passed in $(( $(date +%s) - t0 ))s (redocly lint; schemathesis as admin and as partner)"
