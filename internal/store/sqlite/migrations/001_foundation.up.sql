CREATE TABLE org_units (
    id              INTEGER PRIMARY KEY,
    parent_id       INTEGER REFERENCES org_units(id),
    kind            TEXT NOT NULL,
    level           TEXT NOT NULL DEFAULT '',
    name            TEXT NOT NULL,
    region_code     TEXT NOT NULL DEFAULT '',
    leadership_kind TEXT NOT NULL DEFAULT '',
    dept_id         INTEGER,
    path            TEXT NOT NULL DEFAULT '',
    version         INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX org_units_path ON org_units(path);
CREATE INDEX org_units_dept ON org_units(dept_id);

CREATE TABLE people (
    id               INTEGER PRIMARY KEY,
    name             TEXT NOT NULL,
    sex              TEXT NOT NULL,
    birth_date       TEXT NOT NULL,
    id_number        TEXT NOT NULL UNIQUE,
    title            TEXT NOT NULL DEFAULT '',
    education        TEXT NOT NULL,
    major            TEXT NOT NULL DEFAULT '',
    staffed          BOOLEAN NOT NULL,
    enforcement_post BOOLEAN NOT NULL,
    org_unit_id      INTEGER NOT NULL REFERENCES org_units(id),
    employment       TEXT NOT NULL DEFAULT 'active',
    version          INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX people_org_unit ON people(org_unit_id, id);

CREATE TABLE trainings (
    id        INTEGER PRIMARY KEY,
    person_id INTEGER NOT NULL REFERENCES people(id),
    kind      TEXT NOT NULL,
    date      TEXT NOT NULL,
    passed    BOOLEAN NOT NULL,
    score     REAL,
    topics    TEXT NOT NULL DEFAULT '[]',
    version   INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX trainings_person ON trainings(person_id, id);

CREATE TABLE users (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    person_id  INTEGER REFERENCES people(id),
    disabled   BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE role_bindings (
    user_id     INTEGER NOT NULL REFERENCES users(id),
    role        TEXT NOT NULL,
    org_unit_id INTEGER NOT NULL REFERENCES org_units(id),
    PRIMARY KEY (user_id, role, org_unit_id)
);

CREATE TABLE api_tokens (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id),
    hash       BLOB NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP,
    revoked_at TIMESTAMP
);

CREATE TABLE cases (
    id               INTEGER PRIMARY KEY,
    number           TEXT NOT NULL DEFAULT '',
    path             TEXT NOT NULL,
    state            TEXT NOT NULL,
    version          INTEGER NOT NULL,
    person_id        INTEGER REFERENCES people(id),
    certificate_id   INTEGER,
    org_unit_id      INTEGER NOT NULL REFERENCES org_units(id),
    preparer_user_id INTEGER NOT NULL REFERENCES users(id),
    data             TEXT NOT NULL,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL
);
CREATE INDEX cases_person ON cases(person_id);
CREATE INDEX cases_org_unit ON cases(org_unit_id, id);
CREATE INDEX cases_open_departures ON cases(org_unit_id, id) WHERE path = 'departure' AND state = 'open';

CREATE TABLE certificates (
    id          INTEGER PRIMARY KEY,
    person_id   INTEGER NOT NULL REFERENCES people(id),
    kind        TEXT NOT NULL,
    number      TEXT NOT NULL,
    issuer      TEXT NOT NULL,
    categories  TEXT NOT NULL,
    region      TEXT NOT NULL,
    issued_on   TEXT NOT NULL,
    received_on TEXT,
    valid_until TEXT NOT NULL,
    state       TEXT NOT NULL,
    replaces    INTEGER REFERENCES certificates(id),
    case_id     INTEGER NOT NULL REFERENCES cases(id),
    org_unit_id INTEGER NOT NULL REFERENCES org_units(id),
    version     INTEGER NOT NULL DEFAULT 1,
    UNIQUE (issuer, number)
);
CREATE INDEX certificates_person ON certificates(person_id);
CREATE INDEX certificates_state ON certificates(state, id);

CREATE TABLE events (
    id                   INTEGER PRIMARY KEY,
    case_id              INTEGER NOT NULL REFERENCES cases(id),
    seq                  INTEGER NOT NULL,
    event                TEXT NOT NULL,
    from_state           TEXT NOT NULL,
    to_state             TEXT NOT NULL,
    actor_user_id        INTEGER NOT NULL REFERENCES users(id),
    on_behalf_of_user_id INTEGER,
    at                   TIMESTAMP NOT NULL,
    comment              TEXT NOT NULL DEFAULT '',
    data                 TEXT,
    UNIQUE (case_id, seq)
);

CREATE TABLE tasks (
    id          INTEGER PRIMARY KEY,
    case_id     INTEGER NOT NULL REFERENCES cases(id),
    kind        TEXT NOT NULL,
    role        TEXT NOT NULL,
    org_unit_id INTEGER NOT NULL REFERENCES org_units(id),
    certificate_id INTEGER,
    status      TEXT NOT NULL,
    due_on      TEXT,
    created_at  TIMESTAMP NOT NULL,
    closed_at   TIMESTAMP
);
CREATE INDEX tasks_case ON tasks(case_id, status);
CREATE INDEX tasks_certificate ON tasks(certificate_id) WHERE certificate_id IS NOT NULL;
CREATE INDEX tasks_inbox ON tasks(role, org_unit_id, due_on, id) WHERE status = 'open';
-- kind makes the overdue counts an index-only scan.
CREATE INDEX tasks_overdue ON tasks(org_unit_id, due_on, id, kind) WHERE status = 'open';

-- A document row exists from the transition that asks for it (state
-- pending); rendering fills it once (rendered, immutable from then on) or
-- records why it failed. The bytes live in content, or on disk under
-- --documents-dir with storage_path set.
CREATE TABLE documents (
    id               INTEGER PRIMARY KEY,
    case_id          INTEGER NOT NULL REFERENCES cases(id),
    event_id         INTEGER NOT NULL REFERENCES events(id),
    doc              TEXT NOT NULL,
    article          TEXT NOT NULL,
    state            TEXT NOT NULL,
    error            TEXT NOT NULL DEFAULT '',
    attempts         INTEGER NOT NULL DEFAULT 0,
    river_job_id     INTEGER,
    created_at       TIMESTAMP NOT NULL,
    rendered_at      TIMESTAMP,
    sha256           TEXT NOT NULL DEFAULT '',
    size             INTEGER NOT NULL DEFAULT 0,
    file_name        TEXT NOT NULL DEFAULT '',
    template_version TEXT NOT NULL DEFAULT '',
    content          BLOB,
    storage_path     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX documents_case ON documents(case_id);
CREATE INDEX documents_failed ON documents(id) WHERE state = 'failed';

CREATE TABLE idempotency (
    user_id     INTEGER NOT NULL,
    key         TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    case_id     INTEGER NOT NULL,
    result      TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, key)
);
