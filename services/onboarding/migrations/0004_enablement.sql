-- The enablement library, courses, attempts and certifications.

CREATE TABLE content (
    id            uuid        PRIMARY KEY,
    title         text        NOT NULL,
    kind          text        NOT NULL CHECK (kind IN ('deck', 'battlecard', 'demo_script', 'document', 'video')),
    url           text        NOT NULL,
    min_tier_rank integer     NOT NULL DEFAULT 0 CHECK (min_tier_rank >= 0),
    -- Empty: every partner type.
    partner_types text[]      NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE courses (
    id                       uuid        PRIMARY KEY,
    title                    text        NOT NULL,
    description              text        NOT NULL DEFAULT '',
    pass_mark_percent        integer     NOT NULL CHECK (pass_mark_percent BETWEEN 1 AND 100),
    certification_valid_days integer     NOT NULL CHECK (certification_valid_days > 0),
    required_for_onboarding  boolean     NOT NULL DEFAULT false,
    min_tier_rank            integer     NOT NULL DEFAULT 0 CHECK (min_tier_rank >= 0),
    partner_types            text[]      NOT NULL DEFAULT '{}',
    created_at               timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX courses_title_key ON courses (lower(title));

CREATE TABLE course_attempts (
    id            uuid        PRIMARY KEY,
    course_id     uuid        NOT NULL REFERENCES courses (id),
    user_id       uuid        NOT NULL REFERENCES users (id),
    partner_id    uuid        NOT NULL REFERENCES partners (id),
    score_percent integer     NOT NULL CHECK (score_percent BETWEEN 0 AND 100),
    passed        boolean     NOT NULL,
    attempted_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX course_attempts_partner ON course_attempts (partner_id, course_id) WHERE passed;

CREATE TABLE certifications (
    id          uuid        PRIMARY KEY,
    course_id   uuid        NOT NULL REFERENCES courses (id),
    user_id     uuid        NOT NULL REFERENCES users (id),
    partner_id  uuid        NOT NULL REFERENCES partners (id),
    earned_at   timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    renewals    integer     NOT NULL DEFAULT 0,
    -- Set when the expiry sweep has announced the expiry.
    expired_announced_at timestamptz,
    CONSTRAINT certifications_course_user_key UNIQUE (course_id, user_id)
);
CREATE INDEX certifications_partner ON certifications (partner_id, expires_at);
CREATE INDEX certifications_expiry ON certifications (expires_at) WHERE expired_announced_at IS NULL;
