-- The audit log of staff and partner-admin actions (prm_runtime::audit).
-- Append-only: a trigger refuses UPDATE, DELETE and TRUNCATE. Each event
-- carries the SHA-256 of the previous event's hash and its own fields, and
-- the head of the chain is one row, locked while an event is appended, so
-- that several replicas keep one order.
CREATE TABLE audit_events (
    seq              bigint      PRIMARY KEY,
    id               uuid        NOT NULL UNIQUE,
    occurred_at      timestamptz NOT NULL,
    service          text        NOT NULL,
    actor_user_id    uuid        NOT NULL,
    actor_api_key_id uuid,
    actor_roles      text        NOT NULL,
    actor_partner_id uuid,
    action           text        NOT NULL,
    target_type      text        NOT NULL,
    target_id        text        NOT NULL,
    partner_id       uuid,
    -- JSON text, hashed as stored.
    changes          text        NOT NULL,
    client_ip        text        NOT NULL,
    user_agent       text        NOT NULL,
    request_id       text        NOT NULL,
    prev_hash        bytea       NOT NULL,
    hash             bytea       NOT NULL
);
CREATE INDEX audit_events_time ON audit_events (occurred_at, seq);
CREATE INDEX audit_events_partner ON audit_events (partner_id, occurred_at, seq);

CREATE TABLE audit_chain_head (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    seq      bigint  NOT NULL,
    hash     bytea   NOT NULL
);
INSERT INTO audit_chain_head (seq, hash) VALUES (0, '\x'::bytea);

CREATE FUNCTION prm_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only (% refused)', TG_OP;
END;
$$;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION prm_audit_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION prm_audit_append_only();

-- The rows an audited transaction changed, captured by prm_audit_capture
-- (attached to the service's tables) while `prm.audit` is on, and turned
-- into the event's before and after when it commits.
CREATE UNLOGGED TABLE audit_changes (
    seq        bigserial PRIMARY KEY,
    txid       bigint    NOT NULL,
    table_name text      NOT NULL,
    before     jsonb,
    after      jsonb
);
CREATE INDEX audit_changes_txid ON audit_changes (txid, seq);

CREATE FUNCTION prm_audit_capture() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO audit_changes (txid, table_name, before, after)
    VALUES (txid_current(), TG_TABLE_NAME,
            CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END,
            CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END);
    RETURN NULL;
END;
$$;
