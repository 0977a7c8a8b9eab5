-- The inbox sorted by priority reads urgent tasks (催办, priority 1) first,
-- by due date. In tasks_inbox_queue they are scattered among the normal
-- ones (one in twenty in the benchmark's region), so that branch filtered
-- hundreds of entries for a page of 20. Urgent open tasks are few: their
-- own index costs little to keep.
CREATE INDEX tasks_inbox_urgent ON tasks(role, org_unit_id, (COALESCE(due_on, DATE '9999-12-31')), id)
    INCLUDE (kind, path, assignee_user_id, subject_person_id, preparer_user_id, case_id)
    WHERE status = 'open' AND priority = 1;
