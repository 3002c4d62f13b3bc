-- The longest a new API key may live: one row for staff keys (no
-- program), one per program for its partners' keys. No row: no maximum.
CREATE TABLE api_key_policies (
    program_id   uuid REFERENCES programs (id),
    max_key_days integer NOT NULL CHECK (max_key_days BETWEEN 1 AND 3650),
    updated_at   timestamptz NOT NULL,
    CONSTRAINT api_key_policies_program_key UNIQUE NULLS NOT DISTINCT (program_id)
);
