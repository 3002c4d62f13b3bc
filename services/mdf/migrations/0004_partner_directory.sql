-- Each partner's status, copied from onboarding's partner events: a
-- suspended or terminated partner cannot request or claim MDF. A partner
-- not listed (its events not yet consumed) is treated as active: funds are
-- allocated by staff, to partners they chose.
CREATE TABLE partners (
    partner_id uuid PRIMARY KEY,
    status     text NOT NULL CHECK (status IN ('active', 'suspended', 'terminated')),
    updated_at timestamptz NOT NULL
);
