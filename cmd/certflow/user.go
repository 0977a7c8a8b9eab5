package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"certflow/internal/auth"
	"certflow/workflow"
)

const userUsage = `Usage:
  certflow user add     --name NAME --role ROLE@UNIT [--role ...] [--person ID] [--expires 2160h] [--password | --password-stdin] [--no-token]
  certflow user disable --name NAME
  certflow user enable  --name NAME
  certflow user reset   --name NAME [--password | --password-stdin] [--token [--expires 2160h] [--keep-tokens]]
  certflow user revoke  --name NAME (--token-id ID | --all)
  certflow user revoke  --token cf_...
  certflow user list    [--tokens]

A role is held at a department: UNIT is its org unit ID or 行政区划代码. An officer
account needs --person, the staff member it is, and is held at that person's department.

Every subcommand takes --database. A new token or generated password is printed once;
the database keeps only its hash. disable refuses the user's tokens, password and sessions
until enable, which also lifts a lockout; reset --password ends the user's web sessions and
lifts a lockout; reset --token revokes the user's other tokens unless --keep-tokens.

Two users are certflow's own, without roles or credentials. certflow records what it does
by itself (the nightly sweep) as the user certflow: add, disable and reset refuse it.
Public complaints are recorded as public-intake: disabling it closes the public complaint
intake (503) until enable.
`

// stdin is where --password-stdin reads; tests replace it.
var stdin io.Reader = os.Stdin

// defaultTokenLifetime is how long a token from `user add` or `user reset`
// lives unless --expires says otherwise: 90 days.
const defaultTokenLifetime = 90 * 24 * time.Hour

// user runs `certflow user SUBCOMMAND`.
func user(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, userUsage)
		return fmt.Errorf("user: name a subcommand: add, disable, enable, reset, revoke or list")
	}
	sub := map[string]func(context.Context, []string, io.Writer, io.Writer) error{
		"add": userAdd, "disable": userDisable, "enable": userEnable, "reset": userReset, "revoke": userRevoke, "list": userList,
	}[args[0]]
	if sub == nil {
		if args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
			fmt.Fprint(stdout, userUsage)
			return nil
		}
		fmt.Fprint(stderr, userUsage)
		return fmt.Errorf("user: unknown subcommand %q", args[0])
	}
	return sub(ctx, args[1:], stdout, stderr)
}

type roleFlags []string

func (r *roleFlags) String() string     { return strings.Join(*r, ",") }
func (r *roleFlags) Set(v string) error { *r = append(*r, v); return nil }

// userFlags is the flag set every subcommand starts from: --database and
// --name (or the name as the one argument).
type userFlags struct {
	*flag.FlagSet
	database *string
	name     *string
}

func newUserFlags(sub string, stderr io.Writer) userFlags {
	fs := flag.NewFlagSet("user "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return userFlags{FlagSet: fs,
		database: fs.String("database", defaultDatabase(), "SQLite file or postgres:// URL"),
		name:     fs.String("name", "", "login name"),
	}
}

// parse parses args and returns the user's name, required unless optional.
func (f userFlags) parse(args []string, optional bool) (string, error) {
	if err := f.Parse(args); err != nil {
		return "", err
	}
	name := strings.TrimSpace(*f.name)
	if name == "" && f.NArg() == 1 {
		name = f.Arg(0)
	} else if f.NArg() > 0 {
		return "", fmt.Errorf("%s: unexpected arguments %q", f.Name(), f.Args())
	}
	if name == "" && !optional {
		return "", fmt.Errorf("%s needs --name NAME", f.Name())
	}
	return name, nil
}

// passwordFlags are --password (generate one) and --password-stdin.
type passwordFlags struct {
	generate, fromStdin *bool
}

func addPasswordFlags(fs *flag.FlagSet) passwordFlags {
	return passwordFlags{
		generate:  fs.Bool("password", false, "generate a password for the web login and print it once"),
		fromStdin: fs.Bool("password-stdin", false, "read the password from the first line of standard input"),
	}
}

// password returns the password the flags ask for ("" for none) and
// whether it was generated (so is to be printed).
func (p passwordFlags) password() (string, bool, error) {
	switch {
	case *p.generate && *p.fromStdin:
		return "", false, fmt.Errorf("give --password or --password-stdin, not both")
	case *p.generate:
		return auth.NewPassword(), true, nil
	case *p.fromStdin:
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && (err != io.EOF || line == "") {
			return "", false, fmt.Errorf("--password-stdin: %w", err)
		}
		pw := strings.TrimRight(line, "\r\n")
		return pw, false, auth.CheckPassword(pw)
	}
	return "", false, nil
}

// tokenExpiry turns an --expires duration into a time (nil: never).
func tokenExpiry(d time.Duration, now time.Time) (*time.Time, error) {
	switch {
	case d < 0:
		return nil, fmt.Errorf("--expires %s: want a positive duration, or 0 for a token that never expires", d)
	case d == 0:
		return nil, nil
	}
	t := now.Add(d).UTC()
	return &t, nil
}

// userAdd creates a user with roles and prints their API token and, when
// generated, their password, once.
func userAdd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newUserFlags("add", stderr)
	person := fs.Int64("person", 0, "the staff member (person ID) this user is, if any")
	expires := fs.Duration("expires", defaultTokenLifetime, "token lifetime, e.g. 2160h; 0 means no expiry")
	noToken := fs.Bool("no-token", false, "create no API token (a web-only user)")
	pwFlags := addPasswordFlags(fs.FlagSet)
	var roles roleFlags
	fs.Var(&roles, "role", "ROLE@UNIT, repeatable; UNIT is a department: its org unit ID or 行政区划代码")
	name, err := fs.parse(args, false)
	if err != nil {
		return err
	}
	if len(roles) == 0 {
		return fmt.Errorf("user add needs --name and at least one --role ROLE@UNIT")
	}
	now := time.Now()
	exp, err := tokenExpiry(*expires, now)
	if err != nil {
		return err
	}
	password, generated, err := pwFlags.password()
	if err != nil {
		return err
	}
	store, _, closeStore, err := openStore(ctx, *fs.database)
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
	u := auth.NewUser{Name: name, PersonID: *person, Roles: bindings, TokenExpires: exp}
	if !*noToken {
		u.Token = auth.NewToken()
	}
	if password != "" {
		if u.PasswordHash, err = auth.HashPassword(password, auth.DefaultParams); err != nil {
			return err
		}
	}
	id, token, err := auth.CreateUser(ctx, store, u)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "user %d %s created\n", id, name)
	printSecrets(stdout, token, exp, password, generated)
	return nil
}

// printSecrets prints a new token and a generated password, once.
func printSecrets(stdout io.Writer, token string, exp *time.Time, password string, generated bool) {
	if token != "" {
		fmt.Fprintf(stdout, "token: %s\n", token)
		if exp != nil {
			fmt.Fprintf(stdout, "token expires: %s\n", exp.Format(time.RFC3339))
		} else {
			fmt.Fprintln(stdout, "token expires: never")
		}
	}
	if generated {
		fmt.Fprintf(stdout, "password: %s\n", password)
	}
	if token != "" || generated {
		fmt.Fprintln(stdout, "(shown once; keep it safe)")
	}
}

// userDisable refuses a user's credentials until enabled again.
func userDisable(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return userToggle(ctx, "disable", args, stdout, stderr, auth.Disable)
}

// userEnable lets a disabled or locked-out user in again.
func userEnable(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return userToggle(ctx, "enable", args, stdout, stderr, auth.Enable)
}

func userToggle(ctx context.Context, sub string, args []string, stdout, stderr io.Writer,
	fn func(context.Context, workflow.Store, string) error) error {
	fs := newUserFlags(sub, stderr)
	name, err := fs.parse(args, false)
	if err != nil {
		return err
	}
	store, _, closeStore, err := openStore(ctx, *fs.database)
	if err != nil {
		return err
	}
	defer closeStore()
	if err := fn(ctx, store, name); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "user %s %sd\n", name, sub)
	return nil
}

// userReset gives a user a new password, a new token, or both.
func userReset(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newUserFlags("reset", stderr)
	pwFlags := addPasswordFlags(fs.FlagSet)
	newToken := fs.Bool("token", false, "issue a new API token and print it once")
	keep := fs.Bool("keep-tokens", false, "with --token: keep the user's other tokens (default: revoke them)")
	expires := fs.Duration("expires", defaultTokenLifetime, "with --token: its lifetime, e.g. 2160h; 0 means no expiry")
	name, err := fs.parse(args, false)
	if err != nil {
		return err
	}
	password, generated, err := pwFlags.password()
	if err != nil {
		return err
	}
	if password == "" && !*newToken {
		return fmt.Errorf("user reset needs --password, --password-stdin or --token")
	}
	now := time.Now()
	exp, err := tokenExpiry(*expires, now)
	if err != nil {
		return err
	}
	store, _, closeStore, err := openStore(ctx, *fs.database)
	if err != nil {
		return err
	}
	defer closeStore()
	if password != "" {
		if err := auth.SetPassword(ctx, store, name, password, auth.DefaultParams); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "user %s: new password set; web sessions ended\n", name)
	}
	var token string
	if *newToken {
		var id int64
		if id, token, err = auth.IssueToken(ctx, store, name, exp, !*keep, now); err != nil {
			return err
		}
		if *keep {
			fmt.Fprintf(stdout, "user %s: new token %d\n", name, id)
		} else {
			fmt.Fprintf(stdout, "user %s: new token %d; every other token revoked\n", name, id)
		}
	}
	printSecrets(stdout, token, exp, password, generated)
	return nil
}

// userRevoke revokes a user's token by ID, all of them, or one by value.
func userRevoke(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newUserFlags("revoke", stderr)
	tokenID := fs.Int64("token-id", 0, "the token's ID (user list --tokens shows them)")
	all := fs.Bool("all", false, "revoke every token of the user")
	value := fs.String("token", "", "revoke the token with this value (a leaked one, say), whoever's it is")
	name, err := fs.parse(args, true)
	if err != nil {
		return err
	}
	given := 0
	for _, b := range []bool{*tokenID != 0, *all, *value != ""} {
		if b {
			given++
		}
	}
	if given != 1 || (*value == "") == (name == "") {
		return fmt.Errorf("user revoke needs --name NAME with --token-id ID or --all, or --token VALUE alone")
	}
	store, _, closeStore, err := openStore(ctx, *fs.database)
	if err != nil {
		return err
	}
	defer closeStore()
	now := time.Now()
	if *value != "" {
		ti, err := auth.RevokeTokenValue(ctx, store, strings.TrimSpace(*value), now)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "token %d of user %d revoked\n", ti.ID, ti.UserID)
		return nil
	}
	n, err := auth.RevokeToken(ctx, store, name, *tokenID, now)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "user %s: %d token(s) revoked\n", name, n)
	return nil
}

// userList prints every user: name, roles, disabled, password, lockout and
// the number of usable tokens; with --tokens each token's ID and dates.
// Never a secret.
func userList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newUserFlags("list", stderr)
	withTokens := fs.Bool("tokens", false, "list each user's tokens (IDs and dates, never the secrets)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	store, _, closeStore, err := openStore(ctx, *fs.database)
	if err != nil {
		return err
	}
	defer closeStore()
	now := time.Now()
	users, err := auth.Users(ctx, store, now)
	if err != nil {
		return err
	}
	var units map[int64]workflow.OrgUnit
	err = store.View(ctx, func(tx workflow.Tx) error {
		list, err := tx.ListOrgUnits(ctx, workflow.Scope{All: true})
		units = make(map[int64]workflow.OrgUnit, len(list))
		for _, u := range list {
			units[u.ID] = u
		}
		return err
	})
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROLES\tDISABLED\tPASSWORD\tLOCKED UNTIL\tTOKENS\tLAST LOGIN")
	for _, u := range users {
		var roles []string
		for _, r := range u.Roles {
			roles = append(roles, string(r.Role)+"@"+unitLabel(units, r.OrgUnitID))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", u.Name, orDash(strings.Join(roles, ",")), yesNo(u.Disabled), yesNo(u.HasPassword),
			stamp(u.LockedUntil), u.Tokens, stamp(u.LastLoginAt))
	}
	if err := tw.Flush(); err != nil || !*withTokens {
		return err
	}
	fmt.Fprintln(stdout)
	fmt.Fprintln(tw, "TOKEN\tUSER\tCREATED\tEXPIRES\tSTATE")
	for _, u := range users {
		tokens, err := auth.Tokens(ctx, store, u.Name)
		if err != nil {
			return err
		}
		for _, t := range tokens {
			state := "usable"
			switch {
			case !t.RevokedAt.IsZero():
				state = "revoked " + stamp(t.RevokedAt)
			case !t.Usable(now):
				state = "expired"
			}
			expires := "never"
			if !t.ExpiresAt.IsZero() {
				expires = stamp(t.ExpiresAt)
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", t.ID, u.Name, stamp(t.CreatedAt), expires, state)
		}
	}
	return tw.Flush()
}

// unitLabel names an org unit by its region code when it is a department,
// else by its ID: what --role accepts.
func unitLabel(units map[int64]workflow.OrgUnit, id int64) string {
	if u, ok := units[id]; ok && u.Kind == workflow.UnitDepartment && u.Region != "" {
		return u.Region
	}
	return strconv.FormatInt(id, 10)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// stamp formats a time to the second in UTC, "-" when zero.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
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
