-- Idempotency keys: the first response to a keyed request, recorded in the
-- same transaction as its effect, so a retry replays it.
CREATE TABLE idempotency_keys (
    -- Who sent the key: a principal's user id, or "public" for anonymous callers.
    scope         text        NOT NULL,
    key           text        NOT NULL,
    method        text        NOT NULL,
    request_hash  bytea       NOT NULL,
    -- NULL only inside the transaction that claimed the key.
    response      bytea,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
);

CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
