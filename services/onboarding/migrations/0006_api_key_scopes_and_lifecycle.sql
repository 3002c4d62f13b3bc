-- What a key may do (scope names, presets kept: see prm_runtime::scopes),
-- until when, and from where. Keys made before scopes keep full access.
ALTER TABLE api_keys
    ADD COLUMN scopes        text[] NOT NULL DEFAULT '{all}',
    ADD COLUMN expires_at    timestamptz,
    ADD COLUMN allowed_cidrs cidr[] NOT NULL DEFAULT '{}',
    ADD COLUMN last_used_ip  inet;
