-- The transactional outbox: a service inserts its events here in the same
-- transaction as the state change; the relay publishes them to JetStream.
CREATE TABLE outbox (
    id            bigserial   PRIMARY KEY,
    event_id      uuid        NOT NULL UNIQUE,
    subject       text        NOT NULL,
    envelope      bytea       NOT NULL,
    -- W3C trace context of the transaction that wrote the event.
    trace_context jsonb       NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL DEFAULT now(),
    published_at  timestamptz,
    attempts      integer     NOT NULL DEFAULT 0,
    last_error    text
);

-- The relay scans only what is still unpublished.
CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;
CREATE INDEX outbox_published_at ON outbox (published_at) WHERE published_at IS NOT NULL;

-- A wake-up hint for the relay. It also polls, because notifications are
-- lost across reconnects.
CREATE FUNCTION prm_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('prm_outbox', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION prm_outbox_notify();
