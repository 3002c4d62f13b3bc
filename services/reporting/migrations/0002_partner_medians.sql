-- A scorecard's medians read one partner's deals approved (or won) in the
-- period. Covering indexes keyed by partner serve them from the index
-- alone; without them the plan kept for every partner scans the whole
-- period's deals of every partner (26,000 rows for a month at 1M deals)
-- to find one partner's 80. Their predicates match the medians' filters,
-- so these replace the partial indexes keyed the same way.
DROP INDEX deals_partner_approved;
DROP INDEX deals_partner_won;
CREATE INDEX deals_partner_approval ON deals (partner_id, approved_at) INCLUDE (approval_hours)
    WHERE approval_hours IS NOT NULL;
CREATE INDEX deals_partner_velocity ON deals (partner_id, won_at) INCLUDE (velocity_days)
    WHERE velocity_days IS NOT NULL;
