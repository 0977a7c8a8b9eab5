package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"certflow/documents"
	"certflow/workflow"
)

// documentsCmd runs `certflow documents rerender`: every failed document is
// queued again (a running serve renders it).
func documentsCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "rerender" {
		return fmt.Errorf("usage: certflow documents rerender [--database ...]")
	}
	fs := flag.NewFlagSet("documents rerender", flag.ContinueOnError)
	fs.SetOutput(stderr)
	database := fs.String("database", defaultDatabase(), "SQLite file or postgres:// URL")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	store, _, closeStore, err := openStore(ctx, *database)
	if err != nil {
		return err
	}
	defer closeStore()
	engine, err := workflow.NewEngine(store, workflow.Options{})
	if err != nil {
		return err
	}
	n, err := documents.Rerender(ctx, engine, func(ctx context.Context, tx workflow.Tx, job workflow.DocumentJob) error {
		st, ok := tx.(interface {
			EnqueueDocuments(context.Context, []workflow.DocumentJob) error
		})
		if !ok {
			return fmt.Errorf("store %T cannot enqueue jobs", tx)
		}
		return st.EnqueueDocuments(ctx, []workflow.DocumentJob{job})
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d failed document(s) queued again\n", n)
	return nil
}
