-- Identities (users) and their credentials (API keys), kept apart so that
-- passwords or SSO can be added as further credentials later.

CREATE TABLE users (
    id             uuid        PRIMARY KEY,
    -- NULL for vendor staff.
    partner_id     uuid        REFERENCES partners (id),
    email          text        NOT NULL,
    display_name   text        NOT NULL,
    roles          text[]      NOT NULL CHECK (cardinality(roles) > 0),
    status         text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deactivated')),
    created_at     timestamptz NOT NULL DEFAULT now(),
    deactivated_at timestamptz
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE INDEX users_partner ON users (partner_id, id);

CREATE TABLE api_keys (
    id             uuid        PRIMARY KEY,
    user_id        uuid        NOT NULL REFERENCES users (id),
    partner_id     uuid        REFERENCES partners (id),
    name           text        NOT NULL,
    display_prefix text        NOT NULL,
    -- SHA-256 of the secret; the secret itself is never stored.
    secret_hash    bytea       NOT NULL,
    -- The local admin key taken from PRM_BOOTSTRAP_ADMIN_KEY.
    is_bootstrap   boolean     NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL DEFAULT now(),
    last_used_at   timestamptz,
    revoked_at     timestamptz,
    CONSTRAINT api_keys_secret_hash_key UNIQUE (secret_hash)
);
CREATE INDEX api_keys_user ON api_keys (user_id, id);
CREATE INDEX api_keys_partner ON api_keys (partner_id, id);
