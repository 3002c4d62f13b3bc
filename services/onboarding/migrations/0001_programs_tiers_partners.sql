-- Programs, their tiers, applications and partners.

CREATE TABLE programs (
    id                  uuid        PRIMARY KEY,
    name                text        NOT NULL,
    description         text        NOT NULL DEFAULT '',
    currency            text        NOT NULL,
    tier_window_days    integer     NOT NULL CHECK (tier_window_days > 0),
    demotion_grace_days integer     NOT NULL CHECK (demotion_grace_days >= 0),
    created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX programs_name_key ON programs (lower(name));

CREATE TABLE tiers (
    id                    uuid        PRIMARY KEY,
    program_id            uuid        NOT NULL REFERENCES programs (id),
    name                  text        NOT NULL,
    rank                  integer     NOT NULL CHECK (rank >= 0),
    min_revenue_won_minor bigint      NOT NULL DEFAULT 0 CHECK (min_revenue_won_minor >= 0),
    min_certified_people  integer     NOT NULL DEFAULT 0 CHECK (min_certified_people >= 0),
    min_deals_won         integer     NOT NULL DEFAULT 0 CHECK (min_deals_won >= 0),
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT tiers_program_rank_key UNIQUE (program_id, rank)
);
CREATE UNIQUE INDEX tiers_program_name_key ON tiers (program_id, lower(name));

CREATE TABLE applications (
    id               uuid        PRIMARY KEY,
    company_name     text        NOT NULL,
    domain           text        NOT NULL,
    country          text        NOT NULL,
    partner_type     text        NOT NULL
        CHECK (partner_type IN ('reseller', 'si', 'technology', 'referral', 'affiliate')),
    contact_name     text        NOT NULL,
    contact_email    text        NOT NULL,
    status           text        NOT NULL DEFAULT 'submitted'
        CHECK (status IN ('submitted', 'approved', 'rejected')),
    rejection_reason text        NOT NULL DEFAULT '',
    partner_id       uuid,
    submitted_at     timestamptz NOT NULL DEFAULT now(),
    decided_at       timestamptz,
    decided_by       uuid
);
-- One open application per company domain.
CREATE UNIQUE INDEX applications_open_domain_key ON applications (domain) WHERE status = 'submitted';
CREATE INDEX applications_status ON applications (status, id);

CREATE TABLE partners (
    id                      uuid        PRIMARY KEY,
    -- One partner per application, whatever happens concurrently.
    application_id          uuid        NOT NULL REFERENCES applications (id),
    company_name            text        NOT NULL,
    domain                  text        NOT NULL,
    country                 text        NOT NULL,
    partner_type            text        NOT NULL,
    program_id              uuid        NOT NULL REFERENCES programs (id),
    tier_id                 uuid        NOT NULL REFERENCES tiers (id),
    status                  text        NOT NULL DEFAULT 'active'
        CHECK (status IN ('active', 'suspended', 'terminated')),
    status_reason           text        NOT NULL DEFAULT '',
    approved_at             timestamptz NOT NULL,
    demotion_due_at         timestamptz,
    first_deal_at           timestamptz,
    onboarding_completed_at timestamptz,
    version                 bigint      NOT NULL DEFAULT 1,
    CONSTRAINT partners_application_id_key UNIQUE (application_id)
);
-- A company domain belongs to one live partner.
CREATE UNIQUE INDEX partners_live_domain_key ON partners (domain) WHERE status <> 'terminated';
CREATE INDEX partners_status ON partners (status, id);
CREATE INDEX partners_program ON partners (program_id, id);
