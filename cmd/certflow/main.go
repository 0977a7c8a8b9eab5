// Command certflow runs the certificate workflow service of
// 《自治区应急管理系统行政执法证件管理办法》.
//
//	certflow serve [--addr 127.0.0.1:8080] [--database certflow.db | postgres://...] [--demo]
//	certflow migrate [--database ...]
//	certflow documents rerender [--database ...]
//	certflow user add|disable|enable|reset|revoke|list ...
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "certflow:", err)
		}
		os.Exit(2)
	}
}

const usage = `certflow manages administrative law-enforcement certificates (行政执法证件).

Usage:
  certflow serve    [--addr 127.0.0.1:8080] [--database certflow.db|postgres://...] [--demo] [--insecure-cookies]
  certflow migrate  [--database ...]
  certflow documents rerender [--database ...]
  certflow user add     --name NAME --role ROLE@UNIT [--role ...] [--person ID] [--expires DURATION] [--password | --password-stdin] [--no-token]
  certflow user disable|enable --name NAME
  certflow user reset   --name NAME [--password | --password-stdin] [--token [--expires DURATION] [--keep-tokens]]
  certflow user revoke  --name NAME (--token-id ID | --all)   or   certflow user revoke --token cf_...
  certflow user list    [--tokens]

UNIT is a department: its org unit ID or 行政区划代码 (e.g. legal_clerk@650102).
An officer account needs --person and is held at that person's department.
Roles: legal_clerk, principal_leader, hr, officer, justice_liaison, supervisor, admin.
The database defaults to $CERTFLOW_DATABASE, else certflow.db in the working directory.
`

// run is main without the process: tests call it directly.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return flag.ErrHelp
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], stdout, stderr, logger)
	case "migrate":
		return migrate(ctx, args[1:], stdout, stderr)
	case "user":
		return user(ctx, args[1:], stdout, stderr)
	case "documents":
		return documentsCmd(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

// defaultDatabase is $CERTFLOW_DATABASE or certflow.db.
func defaultDatabase() string {
	if v := os.Getenv("CERTFLOW_DATABASE"); v != "" {
		return v
	}
	return "certflow.db"
}

// isPostgres reports whether the database setting names a PostgreSQL server.
func isPostgres(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}
