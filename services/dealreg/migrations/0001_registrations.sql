-- Deal registrations, their history, near matches and the vendor's direct
-- accounts. The runtime adds outbox, inbox and idempotency_keys itself.

-- Trigram similarity for near matches on company names (a trusted
-- extension: the database owner may create it).
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE registrations (
    id                    uuid PRIMARY KEY,
    partner_id            uuid NOT NULL,
    status                text NOT NULL CHECK (status IN
                            ('submitted', 'returned', 'approved', 'rejected', 'won', 'lost', 'expired')),
    customer_company      text NOT NULL,
    -- Normalised: domain_key is the registrable domain, company_key the
    -- name without case, punctuation and legal suffixes (domain::customer).
    company_key           text NOT NULL,
    customer_domain       text NOT NULL,
    domain_key            text NOT NULL,
    contact_name          text NOT NULL,
    contact_email         text NOT NULL,
    contact_phone         text NOT NULL DEFAULT '',
    value_minor           bigint NOT NULL CHECK (value_minor >= 0),
    currency              text NOT NULL,
    expected_close_date   date NOT NULL,
    notes                 text NOT NULL DEFAULT '',
    mdf_reference         text NOT NULL DEFAULT '',
    submitted_at          timestamptz NOT NULL,
    -- The approval SLA: decide by then; moved on by the time spent returned.
    decision_due_at       timestamptz NOT NULL,
    returned_at           timestamptz,
    sla_breached_at       timestamptz,
    decided_at            timestamptz,
    decided_by            uuid,
    protected_until       timestamptz,
    extensions_used       integer NOT NULL DEFAULT 0 CHECK (extensions_used >= 0),
    expiring_notified_at  timestamptz,
    rejection_reason      text CHECK (rejection_reason IN
                            ('duplicate', 'not_qualified', 'direct_account', 'incomplete', 'other')),
    status_note           text NOT NULL DEFAULT '',
    won_minor             bigint CHECK (won_minor >= 0),
    closed_at             timestamptz,
    needs_review          boolean NOT NULL DEFAULT false,
    version               bigint NOT NULL DEFAULT 1
);

-- One holder per customer. A submitted, returned or approved registration
-- holds its customer by domain and by company name; the database settles
-- concurrent submissions, so exactly one wins.
CREATE UNIQUE INDEX registrations_active_domain_key ON registrations (domain_key)
    WHERE status IN ('submitted', 'returned', 'approved');
CREATE UNIQUE INDEX registrations_active_company_key ON registrations (company_key)
    WHERE status IN ('submitted', 'returned', 'approved');
-- Near matches (store::record_near_matches): every registration, so that
-- this index is the only one that answers `company_key % ...`.
CREATE INDEX registrations_company_trgm ON registrations
    USING gin (company_key gin_trgm_ops);
CREATE INDEX registrations_partner ON registrations (partner_id, id);
CREATE INDEX registrations_status ON registrations (status, id);

CREATE TABLE registration_products (
    registration_id  uuid NOT NULL REFERENCES registrations (id) ON DELETE CASCADE,
    line             integer NOT NULL,
    product          text NOT NULL,
    quantity         integer NOT NULL CHECK (quantity > 0),
    amount_minor     bigint NOT NULL CHECK (amount_minor >= 0),
    currency         text NOT NULL,
    PRIMARY KEY (registration_id, line)
);

-- Registrations of other partners whose company name is similar, for staff.
CREATE TABLE registration_near_matches (
    registration_id  uuid NOT NULL REFERENCES registrations (id),
    matched_id       uuid NOT NULL REFERENCES registrations (id),
    similarity       real NOT NULL,
    PRIMARY KEY (registration_id, matched_id)
);

-- Every transition: who, when, from, to and why.
CREATE TABLE registration_history (
    id               uuid PRIMARY KEY,
    registration_id  uuid NOT NULL REFERENCES registrations (id),
    action           text NOT NULL,
    from_status      text,
    to_status        text NOT NULL,
    actor_user_id    uuid,
    note             text NOT NULL DEFAULT '',
    at               timestamptz NOT NULL
);
CREATE INDEX registration_history_registration ON registration_history (registration_id, id);

-- The vendor's direct-sales accounts: customers no partner may register.
CREATE TABLE direct_accounts (
    id          uuid PRIMARY KEY,
    company     text NOT NULL,
    company_key text NOT NULL,
    domain      text NOT NULL,
    domain_key  text NOT NULL,
    created_by  uuid,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX direct_accounts_domain_key ON direct_accounts (domain_key);
CREATE INDEX direct_accounts_company_key ON direct_accounts (company_key);

-- What the sweep looks for (sweep.rs): open windows and pending decisions.
CREATE INDEX registrations_protection ON registrations (protected_until)
    WHERE status = 'approved';
CREATE INDEX registrations_decision_due ON registrations (decision_due_at)
    WHERE status = 'submitted' AND sla_breached_at IS NULL;

-- The deal registration policy staff keep through the API (one row; the
-- defaults are domain::policy::Policy::default()).
CREATE TABLE policy (
    id                           boolean PRIMARY KEY DEFAULT true CHECK (id),
    approval_sla_business_hours  integer NOT NULL CHECK (approval_sla_business_hours BETWEEN 1 AND 2000),
    on_sla_breach                text NOT NULL CHECK (on_sla_breach IN ('escalate', 'auto_approve')),
    protection_days              integer NOT NULL CHECK (protection_days BETWEEN 1 AND 730),
    extension_days               integer NOT NULL CHECK (extension_days BETWEEN 1 AND 365),
    max_extensions               integer NOT NULL CHECK (max_extensions BETWEEN 0 AND 10),
    expiring_notice_days         integer NOT NULL CHECK (expiring_notice_days BETWEEN 0 AND 365),
    updated_at                   timestamptz NOT NULL DEFAULT now(),
    updated_by                   uuid
);
