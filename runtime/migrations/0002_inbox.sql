-- Idempotent consumers: an event id is recorded here in the same
-- transaction as its effect, so a redelivery changes nothing.
CREATE TABLE inbox (
    consumer     text        NOT NULL,
    event_id     uuid        NOT NULL,
    subject      text        NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);

-- Events that kept failing and were set aside after the delivery limit.
CREATE TABLE inbox_dead_letters (
    consumer     text        NOT NULL,
    event_id     uuid        NOT NULL,
    subject      text        NOT NULL,
    envelope     bytea       NOT NULL,
    error        text        NOT NULL,
    deliveries   bigint      NOT NULL,
    failed_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
