-- Versioned terms and their acceptance, the onboarding checklist, and the
-- deal facts (from deal registration events) that feed the checklist and
-- the tier rules.

CREATE TABLE terms (
    id           uuid        PRIMARY KEY,
    kind         text        NOT NULL CHECK (kind IN ('partner_agreement', 'disclosure')),
    version      text        NOT NULL,
    title        text        NOT NULL,
    body         text        NOT NULL,
    published_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT terms_kind_version_key UNIQUE (kind, version)
);

CREATE TABLE terms_acceptances (
    partner_id  uuid        NOT NULL REFERENCES partners (id),
    terms_id    uuid        NOT NULL REFERENCES terms (id),
    accepted_by uuid        NOT NULL REFERENCES users (id),
    accepted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (partner_id, terms_id)
);

CREATE TABLE checklist_items (
    partner_id   uuid        NOT NULL REFERENCES partners (id),
    item         text        NOT NULL
        CHECK (item IN ('terms_accepted', 'first_user_active', 'required_courses_passed', 'first_deal_registered')),
    completed_at timestamptz NOT NULL,
    PRIMARY KEY (partner_id, item)
);

CREATE TABLE partner_deals (
    deal_registration_id uuid        NOT NULL,
    -- 'approved' or 'won'
    outcome              text        NOT NULL CHECK (outcome IN ('approved', 'won')),
    partner_id           uuid        NOT NULL,
    amount_minor         bigint,
    currency             text,
    occurred_at          timestamptz NOT NULL,
    PRIMARY KEY (deal_registration_id, outcome)
);
CREATE INDEX partner_deals_partner ON partner_deals (partner_id, outcome, occurred_at);
