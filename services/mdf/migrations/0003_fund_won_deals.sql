-- The won deals each accrual fund has counted, whether or not they
-- accrued anything (a deal rounding to nothing, or a spent budget, still
-- counts towards the period's revenue tiers), so a deal is counted once.
CREATE TABLE fund_won_deals (
    fund_id               uuid NOT NULL REFERENCES funds (id),
    deal_registration_id  uuid NOT NULL,
    amount_minor          bigint NOT NULL CHECK (amount_minor >= 0),
    accrued_minor         bigint NOT NULL CHECK (accrued_minor >= 0),
    won_at                timestamptz NOT NULL,
    PRIMARY KEY (fund_id, deal_registration_id)
);
