package storetest

import (
	"testing"

	"certflow/workflow"
)

// testValidation: input the domain refuses, or reads literally, the same
// on every store. Each refusal names its field and writes nothing.
func testValidation(t *testing.T, open Opener) {
	t.Run("NameSearchIsLiteral", func(t *testing.T) { testNameSearchIsLiteral(t, open) })
}

// testNameSearchIsLiteral: the people search is a substring match of the
// text as typed; % and _ are not LIKE wildcards (nor is the escape
// character itself special).
func testNameSearchIsLiteral(t *testing.T, open Opener) {
	w := NewWorld(t, open)
	odd := w.ClonePerson("zhangwei", func(p *workflow.Person) { p.Name = `张_%\伟` })
	admin := w.Actor("admin")
	for _, tc := range []struct {
		name string
		want []int64
	}{
		{"_", []int64{odd}},
		{"%", []int64{odd}},
		{`\`, []int64{odd}},
		{`_%\`, []int64{odd}},
		{"张_", []int64{odd}},
		{"张%伟", nil},
		{"__", nil},
		{"%%", nil},
		{"张伟", []int64{w.Data.People["zhangwei"]}},
	} {
		got, err := w.Engine.People(w.Ctx, admin, workflow.PersonFilter{Name: tc.name, Limit: 500})
		if err != nil {
			t.Fatalf("name %q: %v", tc.name, err)
		}
		var ids []int64
		for _, p := range got {
			ids = append(ids, p.ID)
		}
		if len(ids) != len(tc.want) || (len(ids) > 0 && ids[0] != tc.want[0]) {
			t.Errorf("name %q: got people %v, want %v", tc.name, ids, tc.want)
		}
	}
}
