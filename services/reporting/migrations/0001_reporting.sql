-- Reporting: read models built only from the other services' events, and
-- the attribution models staff agree (the service's own data, which a
-- rebuild keeps). A rebuild empties every other table here (the list is in
-- src/store/rebuild.rs; a new read-model table goes there too).

-- Staff-agreed attribution credit models, versioned and effective-dated.
CREATE TABLE attribution_models (
    id                 uuid PRIMARY KEY,
    version            integer NOT NULL UNIQUE CHECK (version > 0),
    name               text NOT NULL,
    sourced_bps        integer NOT NULL CHECK (sourced_bps BETWEEN 0 AND 10000),
    influencer_bps     integer NOT NULL CHECK (influencer_bps BETWEEN 0 AND 10000),
    direct_bps         integer NOT NULL CHECK (direct_bps BETWEEN 0 AND 10000),
    window_days        integer NOT NULL CHECK (window_days BETWEEN 1 AND 365),
    effective_from     timestamptz NOT NULL,
    created_at         timestamptz NOT NULL,
    created_by_user_id uuid,
    CONSTRAINT attribution_models_weights_sum CHECK (sourced_bps + influencer_bps + direct_bps = 10000)
);
CREATE INDEX attribution_models_effective ON attribution_models (effective_from DESC, version DESC);

-- Partners, from onboarding's partner events.
CREATE TABLE partners (
    partner_id     uuid PRIMARY KEY,
    program_id     uuid NOT NULL,
    company_name   text NOT NULL,
    partner_type   text NOT NULL CHECK (partner_type IN ('reseller','si','technology','referral','affiliate')),
    tier_name      text NOT NULL,
    status         text NOT NULL CHECK (status IN ('active','suspended','terminated')),
    approved_at    timestamptz NOT NULL,
    -- The partner aggregate's version of the last event applied, so that
    -- an older event arriving late changes nothing.
    version        bigint NOT NULL
);
CREATE INDEX partners_program ON partners (program_id);

-- Onboarding checklist items done, per partner.
CREATE TABLE checklist_items (
    partner_id   uuid NOT NULL,
    item         text NOT NULL,
    completed_at timestamptz NOT NULL,
    PRIMARY KEY (partner_id, item)
);

CREATE TABLE certifications (
    certification_id uuid PRIMARY KEY,
    partner_id       uuid NOT NULL,
    earned_at        timestamptz NOT NULL,
    expires_at       timestamptz,
    expired_at       timestamptz
);
CREATE INDEX certifications_partner ON certifications (partner_id);

-- Deal registrations: each column is set by its event once, whatever the
-- order events arrive in.
CREATE TABLE deals (
    deal_id          uuid PRIMARY KEY,
    partner_id       uuid NOT NULL,
    customer_domain  text,
    currency         text,
    estimated_minor  bigint,
    registered_at    timestamptz,
    approved_at      timestamptz,
    rejected_at      timestamptz,
    won_at           timestamptz,
    won_minor        bigint,
    won_currency     text,
    mdf_backed       boolean NOT NULL DEFAULT false,
    lost_at          timestamptz,
    expired_at       timestamptz,
    sla_breached_at  timestamptz,
    -- What the medians sort, computed once.
    approval_hours   float8 GENERATED ALWAYS AS
                         (EXTRACT(EPOCH FROM approved_at - registered_at) / 3600.0) STORED,
    velocity_days    float8 GENERATED ALWAYS AS
                         (EXTRACT(EPOCH FROM won_at - registered_at) / 86400.0) STORED
);
CREATE INDEX deals_partner_registered ON deals (partner_id, registered_at);
CREATE INDEX deals_partner_approved ON deals (partner_id, approved_at) WHERE approved_at IS NOT NULL;
CREATE INDEX deals_partner_won ON deals (partner_id, won_at) WHERE won_at IS NOT NULL;
-- The program view's medians read these without visiting the table.
CREATE INDEX deals_approved ON deals (approved_at) INCLUDE (partner_id, approval_hours)
    WHERE approval_hours IS NOT NULL;
CREATE INDEX deals_won ON deals (won_at) INCLUDE (partner_id, velocity_days)
    WHERE velocity_days IS NOT NULL;
CREATE INDEX deals_partner_lost ON deals (partner_id, lost_at) WHERE lost_at IS NOT NULL;
CREATE INDEX deals_domain_registered ON deals (customer_domain, registered_at);

-- Attributed conversions that name a customer domain: who influenced it.
CREATE TABLE domain_conversions (
    conversion_id   uuid PRIMARY KEY,
    partner_id      uuid NOT NULL,
    customer_domain text NOT NULL,
    occurred_at     timestamptz NOT NULL
);
CREATE INDEX domain_conversions_domain ON domain_conversions (customer_domain, occurred_at);
CREATE INDEX domain_conversions_partner ON domain_conversions (partner_id, occurred_at);

-- A won deal's credit shares under the model in force when it was won.
-- Recomputed whole whenever an input (the deal, a conversion for its
-- domain) arrives, so the result does not depend on arrival order.
CREATE TABLE deal_credits (
    deal_id        uuid NOT NULL,
    position       integer NOT NULL,
    role           text NOT NULL CHECK (role IN ('sourced','influencer','direct')),
    partner_id     uuid,
    weight_bps     integer NOT NULL,
    amount_minor   bigint NOT NULL,
    currency       text NOT NULL,
    reason         text NOT NULL,
    won_at         timestamptz NOT NULL,
    model_id       uuid,
    model_version  integer NOT NULL,
    PRIMARY KEY (deal_id, position)
);
CREATE INDEX deal_credits_partner ON deal_credits (partner_id, won_at);

-- Who influenced a deal's registration: another partner's latest
-- attributed conversion for its customer domain, up to a year before it
-- (the model's window is applied when read: the partner influenced the
-- deal if its latest conversion is within it). Written from both sides,
-- the registration and the conversion, so either may arrive first.
CREATE TABLE deal_influences (
    deal_id          uuid NOT NULL,
    partner_id       uuid NOT NULL,
    last_at          timestamptz NOT NULL,
    registered_at    timestamptz NOT NULL,
    estimated_minor  bigint NOT NULL,
    currency         text NOT NULL,
    PRIMARY KEY (deal_id, partner_id)
);
CREATE INDEX deal_influences_partner ON deal_influences (partner_id, registered_at);

-- A partner's first approved deal (time-to-first-deal).
CREATE TABLE partner_first_deals (
    partner_id        uuid PRIMARY KEY,
    first_approved_at timestamptz NOT NULL
);

-- Additive counters per partner, by UTC day (grain 'd') and by month
-- (grain 'm', starts_on the 1st): every event adds to both rows, so a
-- month or a quarter sums one to three rows per partner and a week seven.
CREATE TABLE partner_rollups (
    partner_id        uuid NOT NULL,
    grain             "char" NOT NULL CHECK (grain IN ('d', 'm')),
    starts_on         date NOT NULL,
    deals_registered  bigint NOT NULL DEFAULT 0,
    deals_approved    bigint NOT NULL DEFAULT 0,
    deals_rejected    bigint NOT NULL DEFAULT 0,
    deals_won         bigint NOT NULL DEFAULT 0,
    deals_lost        bigint NOT NULL DEFAULT 0,
    deals_expired     bigint NOT NULL DEFAULT 0,
    sla_breaches      bigint NOT NULL DEFAULT 0,
    -- Of the deals registered on this day (month), how many were won.
    cohort_won        bigint NOT NULL DEFAULT 0,
    clicks            bigint NOT NULL DEFAULT 0,
    conversions       bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (partner_id, grain, starts_on)
);

-- Additive money per partner and currency, by day and by month.
CREATE TABLE partner_money_rollups (
    partner_id             uuid NOT NULL,
    grain                  "char" NOT NULL CHECK (grain IN ('d', 'm')),
    starts_on              date NOT NULL,
    currency               text NOT NULL,
    sourced_pipeline       bigint NOT NULL DEFAULT 0,
    won_revenue            bigint NOT NULL DEFAULT 0,
    mdf_backed_won         bigint NOT NULL DEFAULT 0,
    credited_revenue       bigint NOT NULL DEFAULT 0,
    mdf_requested          bigint NOT NULL DEFAULT 0,
    mdf_approved           bigint NOT NULL DEFAULT 0,
    mdf_claimed            bigint NOT NULL DEFAULT 0,
    mdf_paid               bigint NOT NULL DEFAULT 0,
    commissions_earned     bigint NOT NULL DEFAULT 0,
    conversion_commissions bigint NOT NULL DEFAULT 0,
    commissions_reversed   bigint NOT NULL DEFAULT 0,
    commissions_paid       bigint NOT NULL DEFAULT 0,
    conversion_revenue     bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (partner_id, grain, starts_on, currency)
);

-- A period's rows of every partner (the program view).
CREATE INDEX partner_rollups_period ON partner_rollups (grain, starts_on);
CREATE INDEX partner_money_rollups_period ON partner_money_rollups (grain, starts_on);

-- The last day with a conversion, as of any day.
CREATE INDEX partner_rollups_conversions ON partner_rollups (partner_id, starts_on)
    WHERE grain = 'd' AND conversions > 0;
