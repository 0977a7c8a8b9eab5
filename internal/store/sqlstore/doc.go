// Package sqlstore is workflow.Store over database/sql, shared by the SQLite
// and PostgreSQL stores: both bind $1, $2 by position, return ids with
// RETURNING, and take times and dates bound from Go, so one set of SQL serves
// both. What differs (opening, migrations, error codes, the River driver)
// comes in a Dialect from internal/store/sqlite and internal/store/postgres.
package sqlstore
