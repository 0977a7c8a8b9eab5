-- The inbox (workflow/inbox.go): who holds a task, how urgent it is, when it
-- was last urged; delegations (代理) and watchers (抄送).
--
-- path, subject_person_id and preparer_user_id copy the case's path, person
-- and preparer onto each task: they never change for a case, and with them
-- the inbox counts and leaves out the caller's conflicts (own case, own
-- application) without joining cases for every open task.
ALTER TABLE tasks ADD COLUMN path TEXT NOT NULL DEFAULT '';
ALTER TABLE tasks ADD COLUMN subject_person_id INTEGER;
ALTER TABLE tasks ADD COLUMN preparer_user_id INTEGER;
-- The user who holds the task: by claiming it, or given it by 转交. NULL: a
-- group task, open to whoever holds its role at its department.
ALTER TABLE tasks ADD COLUMN assignee_user_id INTEGER REFERENCES users(id);
ALTER TABLE tasks ADD COLUMN assigned_at TIMESTAMP;
-- 0 normal, 1 urgent (urged by 催办); the inbox reads the two levels apart.
ALTER TABLE tasks ADD COLUMN priority INTEGER NOT NULL DEFAULT 0 CHECK (priority IN (0, 1));
ALTER TABLE tasks ADD COLUMN reminded_at TIMESTAMP;

UPDATE tasks SET
    path = (SELECT c.path FROM cases c WHERE c.id = tasks.case_id),
    subject_person_id = (SELECT c.person_id FROM cases c WHERE c.id = tasks.case_id),
    preparer_user_id = (SELECT c.preparer_user_id FROM cases c WHERE c.id = tasks.case_id);

-- The inbox reads two partial indexes of the open tasks, and the table
-- only for a page's own rows (migration 001's tasks_inbox gives way to
-- them). The queue: one
-- range per (role, department) in due-date order, tasks without a due date
-- last (NULLs sort first in SQLite, last in PostgreSQL, so the order is on
-- the COALESCE), with every column a page shows or filters on. The
-- counts: the same ranges grouped by path and kind, with what the badges
-- count, so the counts stream without sorting.
DROP INDEX tasks_inbox;
CREATE INDEX tasks_inbox_queue ON tasks(role, org_unit_id, COALESCE(due_on, '9999-12-31'), id,
    priority, due_on, kind, path, assignee_user_id, subject_person_id, preparer_user_id, case_id, certificate_id,
    created_at, assigned_at, reminded_at) WHERE status = 'open';
CREATE INDEX tasks_inbox_counts ON tasks(role, org_unit_id, path, kind, due_on, assignee_user_id, subject_person_id, preparer_user_id)
    WHERE status = 'open';

-- 代理: the delegator's authority passes to the deputy from starts_on to
-- ends_on (China dates, both included) unless revoked.
CREATE TABLE delegations (
    id                INTEGER PRIMARY KEY,
    delegator_user_id INTEGER NOT NULL REFERENCES users(id),
    deputy_user_id    INTEGER NOT NULL REFERENCES users(id),
    starts_on         TEXT NOT NULL,
    ends_on           TEXT NOT NULL,
    reason            TEXT NOT NULL DEFAULT '',
    created_at        TIMESTAMP NOT NULL,
    revoked_at        TIMESTAMP,
    revoked_by        INTEGER REFERENCES users(id),
    CHECK (delegator_user_id <> deputy_user_id),
    CHECK (starts_on <= ends_on)
);
CREATE INDEX delegations_deputy ON delegations(deputy_user_id, ends_on) WHERE revoked_at IS NULL;
CREATE INDEX delegations_delegator ON delegations(delegator_user_id, id);
CREATE INDEX delegations_deputy_all ON delegations(deputy_user_id, id);

-- 抄送: users a case was copied to read it, and only read it.
CREATE TABLE case_watchers (
    id         INTEGER PRIMARY KEY,
    case_id    INTEGER NOT NULL REFERENCES cases(id),
    user_id    INTEGER NOT NULL REFERENCES users(id),
    added_by   INTEGER NOT NULL REFERENCES users(id),
    event_id   INTEGER NOT NULL REFERENCES events(id),
    added_at   TIMESTAMP NOT NULL,
    UNIQUE (case_id, user_id)
);
CREATE INDEX case_watchers_user ON case_watchers(user_id, id);
