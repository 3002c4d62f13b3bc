-- A service of the tests' own: one table jobs and handlers write to.
CREATE TABLE entries (
    id    uuid   PRIMARY KEY,
    label text   NOT NULL CONSTRAINT entries_label_key UNIQUE,
    code  text   CONSTRAINT entries_code_key UNIQUE
);
