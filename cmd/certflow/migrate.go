package main

import (
	"context"
	"flag"
	"fmt"
	"io"
)

// migrate brings the database schema (certflow's and River's) up to date.
func migrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	database := fs.String("database", defaultDatabase(), "SQLite file or postgres:// URL")
	if err := fs.Parse(args); err != nil {
		return err
	}
	_, _, closeStore, err := openStore(ctx, *database)
	if err != nil {
		return err
	}
	closeStore()
	fmt.Fprintln(stdout, "migrated", redact(*database))
	return nil
}
