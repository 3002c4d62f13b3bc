-- A program's budgets may not cover overlapping periods ("2026" and
-- "2026-Q1"): each day's allocations are capped by one budget, and a won
-- deal accrues into one fund per partner.
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE budgets ADD CONSTRAINT budgets_periods_do_not_overlap
    EXCLUDE USING gist (program_id WITH =, daterange(starts_on, ends_on, '[]') WITH &&);
