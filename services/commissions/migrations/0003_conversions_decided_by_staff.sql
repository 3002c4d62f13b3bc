-- A suspended partner's conversions are held (partner_suspended); a
-- terminated partner's are recorded as rejected (partner_terminated).
-- Staff release or reject held conversions with a reason.
ALTER TABLE conversions DROP CONSTRAINT conversions_hold_reason_check;
ALTER TABLE conversions ADD CONSTRAINT conversions_hold_reason_check
    CHECK (hold_reason IN ('no_click', 'unknown_click', 'click_too_old', 'too_fast',
                           'flooding_source', 'self_referral', 'bot_click',
                           'recurrence_ended', 'no_plan', 'partner_suspended',
                           'partner_terminated'));
ALTER TABLE conversions ADD COLUMN decision_reason text NOT NULL DEFAULT '';
