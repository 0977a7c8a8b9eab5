package storetest

import (
	"errors"
	"fmt"
	"regexp"
	"testing"

	"certflow/workflow"
)

// testMissingRows: a write that names a row that does not exist (a foreign
// key) is workflow.ErrNotFound, as reading that row would be, in words
// that name no table or constraint, and writes nothing. The engine checks
// the IDs it is given before it writes, so no request of the API reaches
// one today; an actor whose user is gone, which the last case fires as,
// shows the mapping through Engine.Fire and, on PostgreSQL, the pipelined
// Apply.
func testMissingRows(t *testing.T, open Opener) {
	w := NewWorld(t, open)
	const missing = 999999
	driverWords := regexp.MustCompile(`(?i)constraint|foreign key|sqlstate|violates`)
	person := w.Data.People["zhangwei"]
	unit := w.Data.Units["tianshan"]
	app := w.Open("clerk", workflow.PathApplication, w.ClonePerson("zhangwei", nil), categories)
	gone := *w.Actor("clerk")
	gone.UserID = missing
	// inTx runs a store write in a transaction of its own.
	inTx := func(write func(tx workflow.Tx) error) func() error {
		return func() error { return w.Store.Update(w.Ctx, write) }
	}
	for _, tc := range []struct {
		name  string
		write func() error
	}{
		{"a person at a unit that does not exist", inTx(func(tx workflow.Tx) error {
			p, err := tx.Person(w.Ctx, person)
			if err != nil {
				return err
			}
			p.ID, p.OrgUnitID, p.IDNumber = 0, missing, "65010219900101003"+workflow.IDNumber(workflow.IDCheckChar("65010219900101003"))
			return tx.CreatePerson(w.Ctx, &p)
		})},
		{"a training of a person who does not exist", inTx(func(tx workflow.Tx) error {
			return tx.CreateTraining(w.Ctx, &workflow.Training{PersonID: missing, Kind: workflow.TrainingLaw, Date: Today, Passed: true})
		})},
		{"a user who is a person who does not exist", inTx(func(tx workflow.Tx) error {
			_, err := tx.CreateUser(w.Ctx, "nobody-real", missing, nil)
			return err
		})},
		{"a role at a unit that does not exist", inTx(func(tx workflow.Tx) error {
			_, err := tx.CreateUser(w.Ctx, "nowhere", 0, []workflow.RoleBinding{{Role: workflow.RoleHR, OrgUnitID: missing}, {Role: workflow.RoleHR, OrgUnitID: unit}})
			return err
		})},
		{"a token of a user who does not exist", inTx(func(tx workflow.Tx) error {
			return tx.CreateToken(w.Ctx, missing, []byte("hash"), nil)
		})},
		{"an event fired by a user who does not exist", func() error {
			_, err := w.Engine.Fire(w.Ctx, workflow.Command{Actor: &gone, CaseID: app.ID, Event: workflow.EvSubmitForApproval, ExpectedVersion: app.Version})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w.T = t
			before, users := w.Counts(), w.userCounts()
			err := tc.write()
			if !errors.Is(err, workflow.ErrNotFound) || errors.Is(err, workflow.ErrConflict) {
				t.Fatalf("%v (%T), want workflow.ErrNotFound", err, err)
			}
			if driverWords.MatchString(err.Error()) {
				t.Errorf("the error names the database's constraint: %v", err)
			}
			if fmt.Sprint(w.Counts()) != fmt.Sprint(before) || w.userCounts() != users {
				t.Errorf("wrote something: %v %s, then %v %s", before, users, w.Counts(), w.userCounts())
			}
		})
	}
	w.T = t
	if got := w.view("clerk", app.ID); got.Version != app.Version {
		t.Fatalf("the case moved: v%d, was v%d", got.Version, app.Version)
	}
}

// userCounts counts the rows of users, role bindings and tokens.
func (w *World) userCounts() string {
	w.T.Helper()
	var users, bindings, tokens int
	err := w.Store.DB().QueryRowContext(w.Ctx, `SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM role_bindings), (SELECT count(*) FROM api_tokens)`).
		Scan(&users, &bindings, &tokens)
	if err != nil {
		w.T.Fatal(err)
	}
	return fmt.Sprintf("%d users, %d bindings, %d tokens", users, bindings, tokens)
}
