-- The commissions service's tables. Money is bigint minor units beside a
-- currency; states are text with a CHECK; ids are UUIDv7 from the code.

-- Which program and tier each partner is in, from onboarding's events.
CREATE TABLE partners (
    partner_id   uuid PRIMARY KEY,
    program_id   uuid NOT NULL,
    tier_id      uuid,
    partner_type text NOT NULL,
    company_name text NOT NULL DEFAULT '',
    domain       text NOT NULL DEFAULT '',
    status       text NOT NULL CHECK (status IN ('active', 'suspended', 'terminated')),
    updated_at   timestamptz NOT NULL
);

CREATE TABLE program_settings (
    program_id                 uuid PRIMARY KEY,
    allowed_domains            text[] NOT NULL DEFAULT '{}',
    attribution_model          text NOT NULL CHECK (attribution_model IN ('last_click', 'first_click')),
    attribution_window_days    integer NOT NULL CHECK (attribution_window_days BETWEEN 1 AND 365),
    min_seconds_to_convert     integer NOT NULL CHECK (min_seconds_to_convert BETWEEN 0 AND 86400),
    max_clicks_per_source_hour integer NOT NULL CHECK (max_clicks_per_source_hour >= 1),
    min_payout_minor           bigint NOT NULL CHECK (min_payout_minor >= 0),
    -- sha256 of the token: it is compared, never shown.
    postback_token_sha256      text,
    -- The HMAC key is needed in clear to verify signatures.
    postback_secret            text,
    updated_at                 timestamptz NOT NULL,
    version                    bigint NOT NULL DEFAULT 1
);

-- Versions of a program's plan (tier_id NULL) or of a tier's.
CREATE TABLE plans (
    id                  uuid PRIMARY KEY,
    program_id          uuid NOT NULL,
    tier_id             uuid,
    version             integer NOT NULL CHECK (version >= 1),
    effective_from      timestamptz NOT NULL,
    name                text NOT NULL,
    currency            text NOT NULL,
    cpa_event_types     text[] NOT NULL,
    cpa_amounts_minor   bigint[] NOT NULL,
    revshare_bps        integer NOT NULL CHECK (revshare_bps BETWEEN 0 AND 10000),
    tier_from_sales     integer[] NOT NULL,
    tier_revshare_bps   integer[] NOT NULL,
    recurrence          text NOT NULL CHECK (recurrence IN ('one_time', 'months', 'lifetime')),
    recurring_months    integer NOT NULL CHECK (recurring_months >= 0),
    reseller_margin_bps integer NOT NULL CHECK (reseller_margin_bps BETWEEN 0 AND 10000),
    referral_fee_bps    integer NOT NULL CHECK (referral_fee_bps BETWEEN 0 AND 10000),
    hold_days           integer NOT NULL CHECK (hold_days BETWEEN 0 AND 365),
    created_by          uuid,
    created_at          timestamptz NOT NULL,
    CHECK (cardinality(cpa_event_types) = cardinality(cpa_amounts_minor)),
    CHECK (cardinality(tier_from_sales) = cardinality(tier_revshare_bps))
);
CREATE UNIQUE INDEX plans_version_key
    ON plans (program_id, coalesce(tier_id, '00000000-0000-0000-0000-000000000000'::uuid), version);

CREATE TABLE links (
    id              uuid PRIMARY KEY,
    code            text NOT NULL CONSTRAINT links_code_key UNIQUE,
    program_id      uuid NOT NULL,
    partner_id      uuid NOT NULL,
    destination_url text NOT NULL,
    status          text NOT NULL CHECK (status IN ('active', 'disabled')),
    created_at      timestamptz NOT NULL,
    version         bigint NOT NULL DEFAULT 1
);
CREATE INDEX links_partner ON links (partner_id, id);

CREATE TABLE clicks (
    id          uuid PRIMARY KEY,
    link_id     uuid NOT NULL REFERENCES links (id),
    program_id  uuid NOT NULL,
    partner_id  uuid NOT NULL,
    clicked_at  timestamptz NOT NULL,
    ip_hash     text NOT NULL,
    user_agent  text NOT NULL,
    referrer    text NOT NULL,
    sub1        text NOT NULL,
    sub2        text NOT NULL,
    sub3        text NOT NULL,
    sub4        text NOT NULL,
    sub5        text NOT NULL,
    -- sha256 of the hashed address and the user agent: one "source".
    source_hash text NOT NULL,
    bot         boolean NOT NULL,
    -- Counted for attribution: not a bot, and its source's first click on
    -- the link in the hour.
    counted     boolean NOT NULL
);
CREATE INDEX clicks_source ON clicks (program_id, source_hash, clicked_at);

-- One row per link, source and hour: the first click of each is counted.
CREATE TABLE click_sources (
    link_id     uuid NOT NULL,
    source_hash text NOT NULL,
    hour        timestamptz NOT NULL,
    PRIMARY KEY (link_id, source_hash, hour)
);

-- Clicks per link and hour, published once the hour is over.
CREATE TABLE click_hours (
    link_id    uuid NOT NULL REFERENCES links (id),
    hour       timestamptz NOT NULL,
    clicks     bigint NOT NULL,
    counted    bigint NOT NULL,
    published  boolean NOT NULL DEFAULT false,
    PRIMARY KEY (link_id, hour)
);
CREATE INDEX click_hours_unpublished ON click_hours (hour) WHERE NOT published;

-- A customer's first attributed sale: later sales earn under a recurring
-- plan without a new click.
CREATE TABLE customers (
    program_id    uuid NOT NULL,
    customer_id   text NOT NULL,
    partner_id    uuid NOT NULL,
    link_id       uuid,
    first_sale_at timestamptz NOT NULL,
    PRIMARY KEY (program_id, customer_id)
);

CREATE TABLE conversions (
    id              uuid PRIMARY KEY,
    program_id      uuid NOT NULL,
    partner_id      uuid,
    link_id         uuid,
    click_id        uuid,
    transaction_id  text NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('lead', 'sale')),
    event_type      text NOT NULL,
    amount_minor    bigint CHECK (amount_minor >= 0),
    currency        text,
    status          text NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'refunded', 'chargeback', 'held')),
    hold_reason     text CHECK (hold_reason IN ('no_click', 'unknown_click', 'click_too_old', 'too_fast',
                                                'flooding_source', 'self_referral', 'bot_click',
                                                'recurrence_ended', 'no_plan')),
    refunded_minor  bigint NOT NULL DEFAULT 0 CHECK (refunded_minor >= 0),
    customer_id     text,
    customer_domain text,
    occurred_at     timestamptz NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    version         bigint NOT NULL DEFAULT 1,
    -- The transaction id is the idempotency key of a program's postbacks.
    CONSTRAINT conversions_transaction_key UNIQUE (program_id, transaction_id),
    CHECK (status <> 'held' OR hold_reason IS NOT NULL)
);
CREATE INDEX conversions_partner ON conversions (partner_id, id);
-- A partner's attributed sales per calendar month (UTC): incremented as
-- each is recorded, which numbers them for volume tiers in O(1), one at a
-- time per partner and month (the row lock).
CREATE TABLE partner_month_sales (
    partner_id uuid NOT NULL,
    month      date NOT NULL,
    sales      bigint NOT NULL,
    PRIMARY KEY (partner_id, month)
);

CREATE TABLE commissions (
    id             uuid PRIMARY KEY,
    partner_id     uuid NOT NULL,
    program_id     uuid NOT NULL,
    conversion_id  uuid CONSTRAINT commissions_conversion_key UNIQUE REFERENCES conversions (id),
    -- A won deal's margin or fee, earned once per deal.
    deal_id        uuid CONSTRAINT commissions_deal_key UNIQUE,
    plan_id        uuid NOT NULL REFERENCES plans (id),
    plan_version   integer NOT NULL,
    currency       text NOT NULL,
    amount_minor   bigint NOT NULL CHECK (amount_minor > 0),
    reversed_minor bigint NOT NULL DEFAULT 0,
    status         text NOT NULL CHECK (status IN ('pending', 'approved', 'reversed')),
    basis          text NOT NULL,
    hold_until     timestamptz NOT NULL,
    created_at     timestamptz NOT NULL,
    approved_at    timestamptz,
    version        bigint NOT NULL DEFAULT 1,
    CONSTRAINT commissions_reversal_bounded CHECK (reversed_minor BETWEEN 0 AND amount_minor),
    CHECK ((conversion_id IS NULL) <> (deal_id IS NULL))
);
CREATE INDEX commissions_partner ON commissions (partner_id, id);
CREATE INDEX commissions_due ON commissions (hold_until) WHERE status = 'pending';

-- How each partner is paid, and its tax form.
CREATE TABLE payout_profiles (
    partner_id           uuid PRIMARY KEY,
    method               text NOT NULL CHECK (method IN ('paypal', 'bank', 'stripe_connect')),
    paypal_email         text NOT NULL DEFAULT '',
    bank_reference       text NOT NULL DEFAULT '',
    stripe_account_id    text NOT NULL DEFAULT '',
    payee_name           text NOT NULL,
    tax_form             text CHECK (tax_form IN ('w9', 'w8ben', 'w8ben_e')),
    tax_form_received_on date,
    updated_at           timestamptz NOT NULL,
    version              bigint NOT NULL DEFAULT 1,
    CHECK ((tax_form IS NULL) = (tax_form_received_on IS NULL))
);

CREATE TABLE payout_batches (
    id                 uuid PRIMARY KEY,
    program_id         uuid NOT NULL,
    currency           text NOT NULL,
    status             text NOT NULL CHECK (status IN ('pending', 'processing', 'paid', 'failed', 'cancelled')),
    total_minor        bigint NOT NULL CHECK (total_minor > 0),
    min_payout_minor   bigint NOT NULL,
    provider_reference text NOT NULL DEFAULT '',
    failure_reason     text NOT NULL DEFAULT '',
    created_by         uuid NOT NULL,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    version            bigint NOT NULL DEFAULT 1
);

CREATE TABLE payout_items (
    batch_id    uuid NOT NULL REFERENCES payout_batches (id),
    partner_id  uuid NOT NULL,
    position    integer NOT NULL,
    amount_minor bigint NOT NULL CHECK (amount_minor > 0),
    method      text NOT NULL,
    destination text NOT NULL,
    payee_name  text NOT NULL,
    PRIMARY KEY (batch_id, partner_id)
);

CREATE TABLE payout_exclusions (
    batch_id        uuid NOT NULL REFERENCES payout_batches (id),
    partner_id      uuid NOT NULL,
    available_minor bigint NOT NULL,
    reason          text NOT NULL CHECK (reason IN ('below_minimum', 'no_payout_profile', 'no_tax_form')),
    PRIMARY KEY (batch_id, partner_id)
);

-- Every movement of a partner's money; balances are sums over it.
CREATE TABLE ledger_entries (
    id              uuid PRIMARY KEY,
    partner_id      uuid NOT NULL,
    currency        text NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('earned', 'approved', 'reversed', 'paid_out', 'payout_returned')),
    pending_delta   bigint NOT NULL,
    available_delta bigint NOT NULL,
    commission_id   uuid REFERENCES commissions (id),
    payout_id       uuid,
    note            text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL
);
CREATE INDEX ledger_entries_partner ON ledger_entries (partner_id, id);

CREATE FUNCTION ledger_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger entries are append-only' USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_entries_append_only();

-- Every postback and its answer, refused ones included.
CREATE TABLE postback_log (
    id             uuid PRIMARY KEY,
    program_id     uuid,
    partner_id     uuid,
    transaction_id text NOT NULL,
    answer         text NOT NULL,
    http_status    integer NOT NULL,
    reason         text NOT NULL,
    conversion_id  uuid,
    fields_json    text NOT NULL,
    received_at    timestamptz NOT NULL
);
CREATE INDEX postback_log_program ON postback_log (program_id, id);
CREATE INDEX postback_log_partner ON postback_log (partner_id, id);
