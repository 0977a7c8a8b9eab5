package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"certflow/internal/auth"
	"certflow/workflow"
)

type roleFlags []string

func (r *roleFlags) String() string     { return strings.Join(*r, ",") }
func (r *roleFlags) Set(v string) error { *r = append(*r, v); return nil }

// userAdd creates a user with roles and prints their API token once.
func userAdd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("user add", flag.ContinueOnError)
	fs.SetOutput(stderr)
	database := fs.String("database", defaultDatabase(), "SQLite file or postgres:// URL")
	name := fs.String("name", "", "login name (unique)")
	person := fs.Int64("person", 0, "the staff member (person ID) this user is, if any")
	expires := fs.Duration("expires", 0, "token lifetime, e.g. 2160h; 0 means no expiry")
	var roles roleFlags
	fs.Var(&roles, "role", "ROLE@UNIT, repeatable; UNIT is an org unit ID or a department's 行政区划代码")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *name == "" || len(roles) == 0 {
		return fmt.Errorf("user add needs --name and at least one --role ROLE@UNIT")
	}
	store, _, closeStore, err := openStore(ctx, *database)
	if err != nil {
		return err
	}
	defer closeStore()
	var bindings []workflow.RoleBinding
	err = store.View(ctx, func(tx workflow.Tx) error {
		units, err := tx.ListOrgUnits(ctx, workflow.Scope{All: true})
		if err != nil {
			return err
		}
		for _, r := range roles {
			role, unit, ok := strings.Cut(r, "@")
			if !ok || !workflow.Role(role).Valid() {
				return fmt.Errorf("--role %q: want ROLE@UNIT with ROLE one of %v", r, workflow.Roles)
			}
			id, err := resolveUnit(units, unit)
			if err != nil {
				return fmt.Errorf("--role %q: %w", r, err)
			}
			bindings = append(bindings, workflow.RoleBinding{Role: workflow.Role(role), OrgUnitID: id})
		}
		return nil
	})
	if err != nil {
		return err
	}
	var exp *time.Time
	if *expires > 0 {
		t := time.Now().Add(*expires).UTC()
		exp = &t
	}
	id, token, err := auth.AddUser(ctx, store, *name, *person, bindings, "", exp)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "user %d %s created\ntoken: %s\n(shown once; keep it safe)\n", id, *name, token)
	return nil
}

// resolveUnit finds an org unit by ID or by a department's region code.
func resolveUnit(units []workflow.OrgUnit, s string) (int64, error) {
	for _, u := range units {
		if u.Kind == workflow.UnitDepartment && u.Region == s {
			return u.ID, nil
		}
	}
	if id, err := strconv.ParseInt(s, 10, 64); err == nil {
		for _, u := range units {
			if u.ID == id {
				return id, nil
			}
		}
	}
	return 0, fmt.Errorf("no org unit %q", s)
}
