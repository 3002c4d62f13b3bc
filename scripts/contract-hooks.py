"""Schemathesis hooks for scripts/contract-check.sh.

The OpenAPI document states every rule a JSON Schema can state, and the
contract check fails when the API refuses data the schema allows. Some
rules a schema cannot state: they depend on today, on another field, on
who calls, or on the data already stored. The document says each of them
in words (the field's description), and this hook makes each generated
request follow them, as a client reading the document would, so that the
check still catches every rule the schema could state and does not:

- Idempotency-Key: a client sends a fresh key with each request it means
  once (the same key only to retry the same request: the API replays the
  first answer, and refuses the key with another request, 422).
- page_token: only a token a list returned (it is opaque).
- Dates relative to today: a registration's expected close date (today to
  five years ahead), `effective_from` (not in the past), a payout
  profile's `tax_form_received_on` and an activity's dates (real days;
  an activity ends on or after its start, within 366 days).
- Fields that go together: a registration's value is its product lines'
  total, in one currency, or `estimated_value` when it has none; an
  attribution model's three weights sum to 10000; a plan pays something,
  `recurring_months` goes with a recurrence in months, and volume tiers
  ascend; a discretionary allocation has an amount and no accrual rules,
  an accrual fund's tiers start at 0 and ascend; a payout profile has the
  destination of its method, and a tax form with the day it was received.
- Who calls: staff name the partner of a link or a registration, and the
  partner user of an API key or a course attempt (PRM_CONTRACT_CALLER,
  the seeded ids).
- Stored data: amounts are in the currency of the program, fund or
  request they belong to (the seed's, PRM_CONTRACT_CURRENCY; a tier's
  requirements in its program's, read from the API); a partner's new tier
  is one of its program's tiers; a tracking link's destination is on one
  of its program's allowed domains. The hook reads these through the API,
  as a client would (PRM_CONTRACT_API, PRM_CONTRACT_KEY).
"""

import calendar
import datetime as dt
import itertools
import json
import os
import urllib.parse
import urllib.request
import uuid

import schemathesis

_keys = itertools.count(1)
# Keys of public calls (applications) are shared by every pass: one run, one prefix.
RUN = uuid.uuid4().hex[:12]
TODAY = dt.date.today()
CALLER = os.environ.get("PRM_CONTRACT_CALLER", "")
PARTNER_ID = os.environ.get("PRM_CONTRACT_PARTNER_ID", "")
PROGRAM_ID = os.environ.get("PRM_CONTRACT_PROGRAM_ID", "")
SEED_LINK_DOMAIN = os.environ.get("PRM_CONTRACT_LINK_DOMAIN", "shop.example")
PARTNER_USER_ID = os.environ.get("PRM_CONTRACT_PARTNER_USER_ID", "")
CURRENCY = os.environ.get("PRM_CONTRACT_CURRENCY", "EUR")
API = os.environ.get("PRM_CONTRACT_API", "")
KEY = os.environ.get("PRM_CONTRACT_KEY", "")


def _get(path, **query):
    """GET `path` as the pass's caller: the JSON answer, or None."""
    if not API:
        return None
    url = API + path + ("?" + urllib.parse.urlencode(query) if query else "")
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {KEY}"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.load(resp)
    except (OSError, ValueError):
        return None


def _items(path, **query):
    """Every item of a list, page after page."""
    token = None
    while True:
        page = _get(path, page_size=100, **query, **({"page_token": token} if token else {}))
        if not page:
            return
        yield from page.get("items") or []
        token = page.get("next_page_token")
        if not token:
            return


def _program_currency(program_id):
    for program in _items("/v1/programs"):
        if program.get("id") == program_id:
            return program.get("currency")
    return None


def _tier_program(tier_id):
    for tier in _items("/v1/tiers"):
        if tier.get("id") == tier_id:
            return tier.get("program_id")
    return None


def _partner_program(partner_id):
    partner = _get(f"/v1/partners/{partner_id}") or {}
    return partner.get("program_id")


def _requirements(body, program_id):
    requirements = body.get("requirements")
    if isinstance(requirements, dict) and isinstance(requirements.get("min_revenue_won"), dict):
        currency = _program_currency(program_id) if program_id else None
        _amount(requirements["min_revenue_won"], currency or CURRENCY)


def _new_tier(partner_id, body):
    program_id = _partner_program(partner_id)
    tiers = list(_items("/v1/tiers", program_id=program_id)) if program_id else []
    if tiers:
        body["tier_id"] = tiers[0]["id"]


def _keep_seed_domain(program_id, body):
    """The seed's program keeps its link destination, so that the passes
    after this one can still create links (a rule of the stored data:
    a program with no allowed domain refuses every link)."""
    domains = body.get("allowed_domains") or []
    if program_id == PROGRAM_ID and SEED_LINK_DOMAIN not in domains:
        body["allowed_domains"] = (domains + [SEED_LINK_DOMAIN])[-50:]


def _link(body):
    partner_id = body.get("partner_id") or PARTNER_ID
    program_id = _partner_program(partner_id)
    settings = _get(f"/v1/programs/{program_id}/commission-settings") if program_id else None
    domains = (settings or {}).get("allowed_domains") or []
    url = urllib.parse.urlsplit(str(body.get("destination_url", "")))
    if domains and url.hostname not in domains:
        body["destination_url"] = urllib.parse.urlunsplit(
            ("https", domains[0], url.path, url.query, url.fragment)
        )


def _date(value, low, high):
    """`value` (YYYY-MM-DD) as a real day between `low` and `high`."""
    try:
        year, month, day = (int(p) for p in str(value).split("-"))
        day = min(day, calendar.monthrange(year, month)[1])
        d = dt.date(year, month, day)
    except (TypeError, ValueError):
        d = low
    return min(max(d, low), high).isoformat()


def _amount(money, currency):
    if isinstance(money, dict):
        money["currency"] = currency
    return money


def _registration(body):
    if "expected_close_date" in body and body["expected_close_date"] is not None:
        body["expected_close_date"] = _date(
            body["expected_close_date"], TODAY, TODAY + dt.timedelta(days=365 * 5)
        )
    lines = body.get("products")
    if isinstance(lines, list) and lines:
        currency = lines[0].get("amount", {}).get("currency", CURRENCY)
        total = 0
        for line in lines:
            _amount(line.get("amount"), currency)
            total += line.get("amount", {}).get("amount_minor", 0)
        body.pop("estimated_value", None)
        if total > 10**13:
            del lines[1:]
    elif "contact" in body and body.get("estimated_value") is None:
        # A new registration has a value (an edit may leave it out).
        if "customer_company" in body:
            body["estimated_value"] = {"amount_minor": 0, "currency": CURRENCY}


def _weights(body):
    sourced = body.get("sourced_bps") or 0
    influencer = body.get("influencer_bps") or 0
    if sourced + influencer > 10000:
        body["influencer_bps"] = influencer = 10000 - sourced
    body["direct_bps"] = 10000 - sourced - influencer


def _plan(body):
    months = body.get("recurrence") == "months"
    if months and not body.get("recurring_months"):
        body["recurring_months"] = 12
    elif not months:
        body.pop("recurring_months", None)
    tiers, floor = [], 1
    for tier in sorted(body.get("volume_tiers") or [], key=lambda t: t["from_sale"]):
        if tier["from_sale"] > floor:
            tiers.append(tier)
            floor = tier["from_sale"]
    if "volume_tiers" in body:
        body["volume_tiers"] = tiers
    seen, rates = set(), []
    for rate in body.get("cpa") or []:
        if rate["event_type"].lower() not in seen:
            seen.add(rate["event_type"].lower())
            rates.append(rate)
    if "cpa" in body:
        body["cpa"] = rates
    if not (body.get("cpa") or body.get("revshare_bps") or body.get("volume_tiers")
            or body.get("reseller_margin_bps") or body.get("referral_fee_bps")):
        body["revshare_bps"] = 1000


def _allocation(body):
    if body.get("kind") == "discretionary":
        for key in ("accrual_tiers", "accrual_grace_days"):
            body.pop(key, None)
        if body.get("amount") is None:
            body["amount"] = {"amount_minor": 100000, "currency": CURRENCY}
    else:
        tiers, floor = [], -1
        for tier in sorted(body.get("accrual_tiers") or [], key=lambda t: t["from_revenue_minor"]):
            if not tiers:
                tier["from_revenue_minor"] = 0
            if tier["from_revenue_minor"] > floor:
                tiers.append(tier)
                floor = tier["from_revenue_minor"]
        if "accrual_tiers" in body:
            body["accrual_tiers"] = tiers
    _amount(body.get("amount"), CURRENCY)


def _activity(body):
    low, high = dt.date(2000, 1, 1), dt.date(2100, 12, 31)
    if "starts_on" in body:
        body["starts_on"] = _date(body["starts_on"], low, high)
        start = dt.date.fromisoformat(body["starts_on"])
        body["ends_on"] = _date(body.get("ends_on"), start, start + dt.timedelta(days=365))
    _amount(body.get("amount"), CURRENCY)


def _payout_profile(body):
    method = body.get("method")
    if method == "paypal" and not body.get("paypal_email"):
        body["paypal_email"] = "pay@acme.example"
    if method == "bank" and not body.get("bank_reference"):
        body["bank_reference"] = "NL91ABNA0417164300"
    if method == "stripe_connect" and not body.get("stripe_account_id"):
        body["stripe_account_id"] = "acct_1Nv0FGQ9RKHgCVdK"
    if body.get("tax_form") and not body.get("tax_form_received_on"):
        body["tax_form_received_on"] = TODAY.isoformat()
    if body.get("tax_form_received_on") and not body.get("tax_form"):
        body["tax_form"] = "w9"
    if body.get("tax_form_received_on"):
        body["tax_form_received_on"] = _date(
            body["tax_form_received_on"], dt.date(2000, 1, 1), TODAY
        )


def _api_key(body):
    # The schema says "date-time" and "string": an expiry must also be in
    # the future (and within a maximum lifetime of at least a day, which
    # the run may have set), and a network in CIDR notation.
    if body.get("expires_at") is not None:
        body["expires_at"] = (
            dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=12)
        ).isoformat()
    if body.get("allowed_cidrs"):
        body["allowed_cidrs"] = ["203.0.113.0/24"]


def _staff_names(path, body):
    if CALLER != "admin":
        return
    if path in ("/v1/links", "/v1/deal-registrations") and not body.get("partner_id"):
        body["partner_id"] = PARTNER_ID
    if path.endswith("/api-keys") or path.endswith("/attempts"):
        body["user_id"] = PARTNER_USER_ID


def _positive(case):
    meta = getattr(case, "meta", None)
    return meta is None or meta.generation.mode.name == "POSITIVE"


@schemathesis.hook
def before_call(context, case, kwargs):
    headers = case.headers
    if headers and "Idempotency-Key" in headers:
        headers["Idempotency-Key"] = f"contract-{RUN}-{next(_keys)}"
    if isinstance(case.query, dict):
        case.query.pop("page_token", None)
    body = case.body
    # Only data the schema allows: a negative case is refused either way.
    if not isinstance(body, dict) or not _positive(case):
        return
    path, method = case.path, case.method.upper()
    if body.get("effective_from") is not None:
        body["effective_from"] = (
            dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=5)
        ).isoformat()
    if path.startswith("/v1/deal-registrations") and method in ("POST", "PATCH"):
        _registration(body)
    elif path == "/v1/attribution-models":
        _weights(body)
    elif path == "/v1/plans":
        _plan(body)
    elif path == "/v1/mdf/allocations":
        _allocation(body)
    elif path == "/v1/mdf/requests":
        _activity(body)
    elif path.endswith("/payout-profile"):
        _payout_profile(body)
    elif path.endswith("/api-keys"):
        _api_key(body)
    elif path.endswith("/rotate") and body.get("old_key_valid_until") is not None:
        body["old_key_valid_until"] = (
            dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=5)
        ).isoformat()
    elif path.startswith("/v1/mdf/") and ("amount" in body or "proven_cost" in body):
        _amount(body.get("amount"), CURRENCY)
        _amount(body.get("proven_cost"), CURRENCY)
    elif path == "/v1/programs/{id}/tiers":
        _requirements(body, case.path_parameters.get("id"))
    elif path == "/v1/tiers/{id}":
        _requirements(body, _tier_program(case.path_parameters.get("id")))
    elif path == "/v1/partners/{id}/tier":
        _new_tier(case.path_parameters.get("id"), body)
    elif path == "/v1/programs/{id}/commission-settings":
        _keep_seed_domain(case.path_parameters.get("id"), body)
    _staff_names(path, body)
    if path == "/v1/links" and method == "POST":
        _link(body)
