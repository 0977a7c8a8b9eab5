-- submitter_user_id is who fired the event that opened the task when that
-- event prepares the case (提交审批, EventDef.Prepares), NULL otherwise. A
-- submitter may not approve what they submitted, so the inbox leaves the
-- task out for them as it does for the case's opener (preparer_user_id):
-- the inbox indexes carry the column, so that stays an index-only read.
-- Tasks opened before keep NULL: acting on them is still refused.
ALTER TABLE tasks ADD COLUMN submitter_user_id INTEGER;

DROP INDEX tasks_inbox_queue;
CREATE INDEX tasks_inbox_queue ON tasks(role, org_unit_id, COALESCE(due_on, '9999-12-31'), id,
    priority, due_on, kind, path, assignee_user_id, subject_person_id, preparer_user_id, submitter_user_id,
    case_id, certificate_id, created_at, assigned_at, reminded_at) WHERE status = 'open';
DROP INDEX tasks_inbox_counts;
CREATE INDEX tasks_inbox_counts ON tasks(role, org_unit_id, path, kind, due_on, assignee_user_id, subject_person_id,
    preparer_user_id, submitter_user_id) WHERE status = 'open';
DROP INDEX tasks_inbox_urgent;
CREATE INDEX tasks_inbox_urgent ON tasks(role, org_unit_id, COALESCE(due_on, '9999-12-31'), id,
    kind, path, assignee_user_id, subject_person_id, preparer_user_id, submitter_user_id, case_id)
    WHERE status = 'open' AND priority = 1;
