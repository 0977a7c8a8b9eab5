-- A transition closes its case's open tasks of a kind (sqlCloseTasks).
-- With kind in the index that statement has one index to use, whatever
-- the statistics: PostgreSQL plans it once per connection (generic plan),
-- and on a table still empty it took tasks_inbox_counts, scanning every
-- open task of that kind, until the next ANALYZE.
DROP INDEX tasks_case;
CREATE INDEX tasks_case ON tasks(case_id, status, kind);
