-- Reminders the daily deadline sweep fires (workflow/deadlines.go): expiry
-- of certificates in use 90 and 30 days ahead (Art. 15, 16), and overdue
-- tasks escalated to the principal leader. Each fires once: the partial
-- unique indexes keep one row per (kind, subject, threshold), and the sweep
-- inserts with ON CONFLICT DO NOTHING.
CREATE TABLE reminders (
    id              INTEGER PRIMARY KEY,
    kind            TEXT NOT NULL,
    org_unit_id     INTEGER NOT NULL REFERENCES org_units(id),
    role            TEXT NOT NULL,
    case_id         INTEGER REFERENCES cases(id),
    certificate_id  INTEGER REFERENCES certificates(id),
    task_id         INTEGER REFERENCES tasks(id),
    threshold       TEXT NOT NULL,
    deadline        TEXT NOT NULL,
    remind_on       TEXT NOT NULL,
    message         TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    acknowledged_at TIMESTAMP,
    acknowledged_by INTEGER REFERENCES users(id)
);
CREATE UNIQUE INDEX reminders_task_once ON reminders(kind, task_id, threshold) WHERE task_id IS NOT NULL;
CREATE UNIQUE INDEX reminders_certificate_once ON reminders(kind, certificate_id, threshold) WHERE task_id IS NULL AND certificate_id IS NOT NULL;
CREATE INDEX reminders_pending ON reminders(role, org_unit_id, id) WHERE acknowledged_at IS NULL;

-- What the sweep scans: open tasks by due date, certificates in use by validity.
CREATE INDEX tasks_open_due ON tasks(due_on, id) WHERE status = 'open';
CREATE INDEX certificates_in_use_valid_until ON certificates(valid_until, id) WHERE state IN ('received', 'suspended');
