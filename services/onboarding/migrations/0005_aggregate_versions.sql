-- Every aggregate that events are about carries the version its events
-- announce, so a consumer can order the events of one aggregate. Partners
-- already have one; the others start at 1 and each change bumps it.

ALTER TABLE applications ADD COLUMN version bigint NOT NULL DEFAULT 1;
UPDATE applications SET version = 2 WHERE status <> 'submitted';

ALTER TABLE users ADD COLUMN version bigint NOT NULL DEFAULT 1;
UPDATE users SET version = 2 WHERE status <> 'active';

ALTER TABLE api_keys ADD COLUMN version bigint NOT NULL DEFAULT 1;
UPDATE api_keys SET version = 2 WHERE revoked_at IS NOT NULL;

-- Earned (1), then one more for each renewal and each announced expiry.
ALTER TABLE certifications ADD COLUMN version bigint NOT NULL DEFAULT 1;
UPDATE certifications
   SET version = 1 + renewals + CASE WHEN expired_announced_at IS NULL THEN 0 ELSE 1 END;
