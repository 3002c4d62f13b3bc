-- Budgets, funds and their append-only ledger, requests, claims, and the
-- deal registrations MDF hears about (for ROI). The runtime adds outbox,
-- inbox and idempotency_keys itself.

-- What a program may spend in a period.
CREATE TABLE budgets (
    id                 uuid PRIMARY KEY,
    program_id         uuid NOT NULL,
    name               text NOT NULL,
    period             text NOT NULL,
    starts_on          date NOT NULL,
    ends_on            date NOT NULL CHECK (ends_on >= starts_on),
    currency           text NOT NULL,
    amount_minor       bigint NOT NULL CHECK (amount_minor > 0),
    -- Allocated and accrued into its funds: kept by fund_entries_apply.
    allocated_minor    bigint NOT NULL DEFAULT 0,
    claim_window_days  integer NOT NULL CHECK (claim_window_days BETWEEN 1 AND 365),
    created_at         timestamptz NOT NULL,
    CONSTRAINT budgets_not_overallocated CHECK (allocated_minor BETWEEN 0 AND amount_minor)
);
CREATE UNIQUE INDEX budgets_program_period ON budgets (program_id, period);

-- A partner's money within a budget. The *_minor sums are the ledger's,
-- per entry kind, kept by the trigger below in the same statement as each
-- entry; the CHECKs make an overdraft fail the whole transaction.
CREATE TABLE funds (
    id                      uuid PRIMARY KEY,
    budget_id               uuid NOT NULL REFERENCES budgets (id),
    partner_id              uuid NOT NULL,
    kind                    text NOT NULL CHECK (kind IN ('discretionary', 'accrual')),
    currency                text NOT NULL,
    reimbursement_rate_bps  integer NOT NULL CHECK (reimbursement_rate_bps BETWEEN 1 AND 10000),
    -- JSON: [{"from_revenue_minor": 0, "rate_bps": 300}, ...] (domain::ledger::AccrualTiers)
    accrual_tiers           text NOT NULL DEFAULT '[]',
    accrual_grace_days      integer NOT NULL DEFAULT 0 CHECK (accrual_grace_days BETWEEN 0 AND 365),
    expires_at              timestamptz,
    won_revenue_minor       bigint NOT NULL DEFAULT 0 CHECK (won_revenue_minor >= 0),
    allocated_minor         bigint NOT NULL DEFAULT 0,
    accrued_minor           bigint NOT NULL DEFAULT 0,
    reserved_minor          bigint NOT NULL DEFAULT 0,
    released_minor          bigint NOT NULL DEFAULT 0,
    reimbursed_minor        bigint NOT NULL DEFAULT 0,
    expired_minor           bigint NOT NULL DEFAULT 0,
    created_at              timestamptz NOT NULL,
    version                 bigint NOT NULL DEFAULT 1,
    CONSTRAINT funds_available_nonnegative CHECK (
        allocated_minor + accrued_minor - reserved_minor + released_minor - expired_minor >= 0),
    CONSTRAINT funds_reserved_nonnegative CHECK (
        reserved_minor - released_minor - reimbursed_minor >= 0)
);
CREATE UNIQUE INDEX funds_budget_partner ON funds (budget_id, partner_id);
CREATE INDEX funds_partner ON funds (partner_id, id);
CREATE INDEX funds_accrual_expiry ON funds (expires_at) WHERE kind = 'accrual';

-- Every movement of a fund's money. Never updated or deleted.
CREATE TABLE fund_entries (
    id                    uuid PRIMARY KEY,
    fund_id               uuid NOT NULL REFERENCES funds (id),
    kind                  text NOT NULL CHECK (kind IN
                            ('allocated', 'accrued', 'reserved', 'released', 'reimbursed', 'expired')),
    amount_minor          bigint NOT NULL CHECK (amount_minor > 0),
    request_id            uuid,
    claim_id              uuid,
    deal_registration_id  uuid,
    actor_user_id         uuid,
    note                  text NOT NULL DEFAULT '',
    at                    timestamptz NOT NULL
);
CREATE INDEX fund_entries_fund ON fund_entries (fund_id, id);
-- A won deal accrues into a fund once, however often its event arrives.
CREATE UNIQUE INDEX fund_entries_accrual_once ON fund_entries (fund_id, deal_registration_id)
    WHERE kind = 'accrued';

CREATE FUNCTION fund_entries_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE funds SET
        allocated_minor  = allocated_minor  + CASE WHEN NEW.kind = 'allocated'  THEN NEW.amount_minor ELSE 0 END,
        accrued_minor    = accrued_minor    + CASE WHEN NEW.kind = 'accrued'    THEN NEW.amount_minor ELSE 0 END,
        reserved_minor   = reserved_minor   + CASE WHEN NEW.kind = 'reserved'   THEN NEW.amount_minor ELSE 0 END,
        released_minor   = released_minor   + CASE WHEN NEW.kind = 'released'   THEN NEW.amount_minor ELSE 0 END,
        reimbursed_minor = reimbursed_minor + CASE WHEN NEW.kind = 'reimbursed' THEN NEW.amount_minor ELSE 0 END,
        expired_minor    = expired_minor    + CASE WHEN NEW.kind = 'expired'    THEN NEW.amount_minor ELSE 0 END,
        version = version + 1
    WHERE id = NEW.fund_id;
    IF NEW.kind IN ('allocated', 'accrued') THEN
        UPDATE budgets SET allocated_minor = allocated_minor + NEW.amount_minor
        WHERE id = (SELECT budget_id FROM funds WHERE id = NEW.fund_id);
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER fund_entries_apply AFTER INSERT ON fund_entries
    FOR EACH ROW EXECUTE FUNCTION fund_entries_apply();

CREATE FUNCTION fund_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'fund entries are append-only';
END $$;
CREATE TRIGGER fund_entries_append_only BEFORE UPDATE OR DELETE ON fund_entries
    FOR EACH ROW EXECUTE FUNCTION fund_entries_append_only();

CREATE TABLE mdf_requests (
    id               uuid PRIMARY KEY,
    fund_id          uuid NOT NULL REFERENCES funds (id),
    partner_id       uuid NOT NULL,
    status           text NOT NULL CHECK (status IN
                       ('submitted', 'approved', 'rejected', 'cancelled', 'completed', 'lapsed')),
    activity_type    text NOT NULL CHECK (activity_type IN
                       ('event', 'webinar', 'digital_campaign', 'content_syndication', 'other')),
    description      text NOT NULL,
    starts_on        date NOT NULL,
    ends_on          date NOT NULL CHECK (ends_on >= starts_on),
    expected_leads   integer NOT NULL CHECK (expected_leads >= 0),
    campaign_code    text NOT NULL DEFAULT '',
    currency         text NOT NULL,
    requested_minor  bigint NOT NULL CHECK (requested_minor > 0),
    approved_minor   bigint CHECK (approved_minor > 0 AND approved_minor <= requested_minor),
    claim_deadline   date NOT NULL,
    decision_reason  text NOT NULL DEFAULT '',
    decided_by       uuid,
    submitted_at     timestamptz NOT NULL,
    decided_at       timestamptz,
    version          bigint NOT NULL DEFAULT 1
);
CREATE INDEX mdf_requests_partner ON mdf_requests (partner_id, id);
CREATE INDEX mdf_requests_fund ON mdf_requests (fund_id, id);
CREATE INDEX mdf_requests_claim_deadline ON mdf_requests (claim_deadline) WHERE status = 'approved';

CREATE TABLE claims (
    id                 uuid PRIMARY KEY,
    request_id         uuid NOT NULL REFERENCES mdf_requests (id),
    fund_id            uuid NOT NULL REFERENCES funds (id),
    partner_id         uuid NOT NULL,
    status             text NOT NULL CHECK (status IN ('submitted', 'approved', 'rejected')),
    currency           text NOT NULL,
    proven_cost_minor  bigint NOT NULL CHECK (proven_cost_minor > 0),
    reimbursable_minor bigint NOT NULL CHECK (reimbursable_minor >= 0),
    reimbursed_minor   bigint CHECK (reimbursed_minor >= 0 AND reimbursed_minor <= reimbursable_minor),
    invoice_number     text NOT NULL,
    leads_generated    integer NOT NULL CHECK (leads_generated >= 0),
    attendees          integer NOT NULL CHECK (attendees >= 0),
    -- JSON: [{"name", "content_type", "size_bytes", "checksum", "location"}]
    documents          text NOT NULL,
    decision_reason    text NOT NULL DEFAULT '',
    decided_by         uuid,
    submitted_at       timestamptz NOT NULL,
    decided_at         timestamptz,
    version            bigint NOT NULL DEFAULT 1
);
-- An invoice is claimed once per partner (a rejected claim frees it).
CREATE UNIQUE INDEX claims_partner_invoice ON claims (partner_id, lower(invoice_number))
    WHERE status <> 'rejected';
-- One claim in play per request.
CREATE UNIQUE INDEX claims_request_open ON claims (request_id)
    WHERE status IN ('submitted', 'approved');
CREATE INDEX claims_partner ON claims (partner_id, id);
CREATE INDEX claims_request ON claims (request_id, id);

-- Deal registrations as MDF hears of them (prm.dealreg.deal.*), for ROI.
CREATE TABLE campaign_deals (
    deal_registration_id  uuid PRIMARY KEY,
    partner_id            uuid NOT NULL,
    campaign_code         text NOT NULL,
    status                text NOT NULL CHECK (status IN ('open', 'won', 'closed')),
    currency              text NOT NULL,
    estimated_minor       bigint NOT NULL,
    won_minor             bigint
);
CREATE INDEX campaign_deals_code ON campaign_deals (partner_id, campaign_code);
