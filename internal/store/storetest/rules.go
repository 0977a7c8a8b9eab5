package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"certflow/workflow"
)

// guardArticles submits an application for person and returns the articles
// of the refusal, or nil when it passed.
func (w *World) guardArticles(c pathCast, personID int64, data string) []workflow.Violation {
	w.T.Helper()
	v := w.Open(c.office, c.path, personID, data)
	_, err := w.Fire(c.office, v, workflow.EvSubmitForApproval, "", "")
	if err == nil {
		return nil
	}
	var ge *workflow.GuardError
	if !errors.As(err, &ge) {
		w.T.Fatalf("want a guard refusal, got %v", err)
	}
	return ge.Violations
}

func hasArticle(vs []workflow.Violation, article, condition string) bool {
	return slices.ContainsFunc(vs, func(v workflow.Violation) bool {
		return v.Article == article && strings.Contains(v.Condition, condition)
	})
}

// testEligibility checks every condition of Art. 4, 5, 6, 9 and 10: one
// applicant who passes, one who fails with the article in the error.
func testEligibility(t *testing.T, open Opener) {
	w := NewWorld(t, open)
	justice, ministry := casts[0], casts[1]
	var leadershipCounty, leadershipUnit int64
	setLeadershipCounty := func() (clerk string, person int64) {
		if leadershipCounty != 0 {
			return "syb-clerk", w.ClonePerson("lina", func(p *workflow.Person) { p.OrgUnitID = leadershipUnit })
		}
		// A county whose justice bureau gives its leadership 行政执法证 (Art. 5(1), second sentence).
		var county, leadership int64
		err := w.Store.Update(w.Ctx, func(tx workflow.Tx) error {
			c := workflow.OrgUnit{ParentID: w.Data.Units["urumqi"], Kind: workflow.UnitDepartment, Level: workflow.LevelCounty,
				Name: "乌鲁木齐市沙依巴克区应急管理局", Region: "650103", LeadershipKind: workflow.KindEnforcement}
			if err := tx.CreateOrgUnit(w.Ctx, &c); err != nil {
				return err
			}
			l := workflow.OrgUnit{ParentID: c.ID, Kind: workflow.UnitLeadership, Name: "局领导班子"}
			if err := tx.CreateOrgUnit(w.Ctx, &l); err != nil {
				return err
			}
			county, leadership = c.ID, l.ID
			leadershipCounty, leadershipUnit = c.ID, l.ID
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := addUser(w, "syb-clerk", workflow.RoleLegalClerk, county); err != nil {
			t.Fatal(err)
		}
		return "syb-clerk", w.ClonePerson("lina", func(p *workflow.Person) { p.OrgUnitID = leadership })
	}
	prefectureTownship := func() int64 {
		var id int64
		err := w.Store.Update(w.Ctx, func(tx workflow.Tx) error {
			u := workflow.OrgUnit{ParentID: w.Data.Units["urumqi"], Kind: workflow.UnitTownship, Name: "乌鲁木齐经济技术开发区管委会"}
			err := tx.CreateOrgUnit(w.Ctx, &u)
			id = u.ID
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return w.ClonePerson("zhaolei", func(p *workflow.Person) { p.OrgUnitID = id })
	}
	tests := []struct {
		name      string
		run       func() []workflow.Violation
		article   string // "" means: passes
		condition string
	}{
		{"business unit, all four conditions", func() []workflow.Violation {
			return w.guardArticles(justice, w.ClonePerson("zhangwei", nil), categories)
		}, "", ""},
		{"legal office staff get 执法监督证", func() []workflow.Violation {
			return w.guardArticles(justice, w.ClonePerson("lina", nil), categories)
		}, "", ""},
		{"township staff, trained, applied by the county", func() []workflow.Violation {
			return w.guardArticles(justice, w.ClonePerson("zhaolei", nil), categories)
		}, "", ""},
		{"9(1)(1) not 在编", func() []workflow.Violation {
			return w.guardArticles(justice, w.ClonePerson("sunli", nil), categories)
		}, "Art. 9(1)(1)", "not 在编"},
		{"9(1)(3) no law training", func() []workflow.Violation {
			return w.guardArticles(justice, w.ClonePerson("liuyang", nil), categories)
		}, "Art. 9(1)(3)", "综合法律知识培训"},
		{"9(1)(4) education below 大专", func() []workflow.Violation {
			return w.guardArticles(justice, w.ClonePerson("wangqiang", nil), categories)
		}, "Art. 9(1)(4)", "education below 大专"},
		{"9(1)(4) not in an enforcement post", func() []workflow.Violation {
			return w.guardArticles(justice, w.ClonePerson("zhangwei", func(p *workflow.Person) { p.Post = false }), categories)
		}, "Art. 9(1)(4)", "enforcement post"},
		{"10 township staff untrained", func() []workflow.Violation {
			return w.guardArticles(justice, w.ClonePerson("chenjing", nil), categories)
		}, "Art. 10", "派出机关"},
		{"9(1)(2) untrained (township)", func() []workflow.Violation {
			return w.guardArticles(justice, w.ClonePerson("chenjing", nil), categories)
		}, "Art. 9(1)(2)", "应急管理业务培训"},
		{"5 HR staff get no justice certificate", func() []workflow.Violation {
			return w.guardArticles(justice, w.ClonePerson("maxin", nil), categories)
		}, "Art. 5", "组织人事机构"},
		{"5 business staff asked for 执法监督证", func() []workflow.Violation {
			return w.guardArticles(justice, w.ClonePerson("zhangwei", nil), `{"kind":"supervision","proposed_categories":["应急管理"]}`)
		}, "Art. 5", "receive 行政执法证, not 执法监督证"},
		{"5 county leadership setting: 行政执法证 passes", func() []workflow.Violation {
			clerk, p := setLeadershipCounty()
			return w.guardArticles(pathCast{path: justice.path, office: clerk}, p, categories)
		}, "", ""},
		{"5 county leadership setting: 执法监督证 refused", func() []workflow.Violation {
			clerk, p := setLeadershipCounty()
			return w.guardArticles(pathCast{path: justice.path, office: clerk}, p, `{"kind":"supervision","proposed_categories":["应急管理"]}`)
		}, "Art. 5", "receive 行政执法证, not 执法监督证"},
		{"5 派出机关 staff applied by a county, not a prefecture", func() []workflow.Violation {
			return w.guardArticles(pathCast{path: justice.path, office: "city-clerk"}, prefectureTownship(), categories)
		}, "Art. 5", "county department"},
		{"6 no categories proposed", func() []workflow.Violation {
			return w.guardArticles(justice, w.ClonePerson("zhangwei", nil), `{}`)
		}, "Art. 6", "no 执法类别"},
		{"ministry: eligible", func() []workflow.Violation {
			return w.guardArticles(ministry, w.ClonePerson("zhoujie", nil), categories)
		}, "", ""},
		{"ministry 9(2)(1) 派出机关 staff", func() []workflow.Violation {
			return w.guardArticles(ministry, w.ClonePerson("zhaolei", nil), categories)
		}, "Art. 9(2)(1)", "派出机关"},
		{"ministry 9(2)(1) not 在编", func() []workflow.Violation {
			return w.guardArticles(ministry, w.ClonePerson("sunli", nil), categories)
		}, "Art. 9(2)(1)", "not 在编"},
		{"ministry needs no law training or 大专", func() []workflow.Violation {
			return w.guardArticles(ministry, w.ClonePerson("wangqiang", nil), categories)
		}, "", ""},
		{"leaving after the draft opened", func() []workflow.Violation {
			// Leaving after the draft opened (no case opens for someone
			// leaving: testNoApplicationOnTheWayOut).
			person := w.ClonePerson("zhangwei", nil)
			v := w.Open(justice.office, justice.path, person, categories)
			err := w.Store.Update(w.Ctx, func(tx workflow.Tx) error {
				p, err := tx.Person(w.Ctx, person)
				if err != nil {
					return err
				}
				p.Employment = workflow.EmploymentLeaving
				return tx.UpdatePerson(w.Ctx, &p)
			})
			if err != nil {
				w.T.Fatal(err)
			}
			_, err = w.Fire(justice.office, v, workflow.EvSubmitForApproval, "", "")
			var ge *workflow.GuardError
			if !errors.As(err, &ge) {
				w.T.Fatalf("want a guard refusal, got %v", err)
			}
			return ge.Violations
		}, "Art. 18", "the person is leaving"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w.T = t
			got := tc.run()
			switch {
			case tc.article == "" && got != nil:
				t.Fatalf("want it to pass, got %v", got)
			case tc.article != "" && !hasArticle(got, tc.article, tc.condition):
				t.Fatalf("want %s: …%s…, got %v", tc.article, tc.condition, got)
			}
		})
	}
	t.Run("ministry 9(2)(2) untrained, by training record", func(t *testing.T) {
		w.T = t
		p := w.ClonePerson("zhoujie", nil)
		failTraining(w, p, workflow.TrainingEmergency)
		if got := w.guardArticles(ministry, p, categories); !hasArticle(got, "Art. 9(2)(2)", "应急管理业务培训") {
			t.Fatalf("got %v", got)
		}
	})
	t.Run("9(1)(2) untrained, by training record", func(t *testing.T) {
		w.T = t
		p := w.ClonePerson("zhangwei", nil)
		failTraining(w, p, workflow.TrainingEmergency)
		got := w.guardArticles(justice, p, categories)
		if !hasArticle(got, "Art. 9(1)(2)", "应急管理业务培训") || hasArticle(got, "Art. 10", "") {
			t.Fatalf("got %v (Art. 10 is for 派出机关 staff only)", got)
		}
	})
	t.Run("4 already holds a certificate of the family", func(t *testing.T) {
		w.T = t
		v := w.reach(justice, workflow.AppReceived)
		again := w.Open("clerk", workflow.PathApplication, v.PersonID, categories)
		_, err := w.Fire("clerk", again, workflow.EvSubmitForApproval, "", "")
		var ge *workflow.GuardError
		if !errors.As(err, &ge) || !hasArticle(ge.Violations, "Art. 4", "already holds 行政执法证") {
			t.Fatalf("got %v", err)
		}
		// A justice-issued certificate does not block the Ministry one.
		if got := w.guardArticles(ministry, v.PersonID, categories); got != nil {
			t.Fatalf("ministry application refused: %v", got)
		}
	})
	t.Run("4 one application in progress per person", func(t *testing.T) {
		w.T = t
		person := w.ClonePerson("zhangwei", nil)
		first := w.Open("clerk", workflow.PathApplication, person, categories)
		w.refused(t, "a second application", func() error {
			_, err := w.Engine.OpenCase(w.Ctx, w.Actor("clerk"), workflow.OpenCaseInput{Path: workflow.PathApplication, PersonID: person, Data: json.RawMessage(categories)})
			if ge := (*workflow.GuardError)(nil); !errors.As(err, &ge) || !hasArticle(ge.Violations, "Art. 4", first.Number) {
				return fmt.Errorf("want Art. 4 naming %s: %w", first.Number, err)
			}
			return nil
		}, func(err error) bool { return err == nil })
		// Once the first is withdrawn, the next may start.
		w.MustFire("clerk", first, workflow.EvWithdraw, "重新制表", "")
		w.Open("clerk", workflow.PathApplication, person, categories)
	})
	t.Run("4 a second application begun elsewhere is not issued", func(t *testing.T) {
		w.T = t
		// Two applications in progress at once, as a race of two openings
		// (or data from before the rule) leaves them: the second
		// certificate is refused when justice issues it.
		a := w.Open("clerk", workflow.PathApplication, w.ClonePerson("zhangwei", nil), categories)
		var b workflow.CaseView
		err := w.Store.Update(w.Ctx, func(tx workflow.Tx) error {
			c, err := tx.Case(w.Ctx, a.ID)
			if err != nil {
				return err
			}
			c.ID, c.Number = 0, ""
			if err := tx.CreateCase(w.Ctx, &c); err != nil {
				return err
			}
			b.Case = c
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []struct {
			user string
			ev   workflow.EventName
		}{{"clerk", workflow.EvSubmitForApproval}, {"leader", workflow.EvApprove}, {"clerk", workflow.EvSubmitToIssuer}} {
			a = w.MustFire(s.user, a, s.ev, "同意", "")
			b = w.MustFire(s.user, b, s.ev, "同意", "")
		}
		w.MustFire("justice", a, workflow.EvIssue, "", `{"number":"新0102-A4","valid_until":"2031-03-09"}`)
		_, err = w.Fire("justice", b, workflow.EvIssue, "", `{"number":"新0102-B4","valid_until":"2031-03-09"}`)
		if ge := (*workflow.GuardError)(nil); !errors.As(err, &ge) || !hasArticle(ge.Violations, "Art. 4", "already holds") {
			t.Fatalf("the second issue: %v", err)
		}
	})
	t.Run("all failed conditions in one answer", func(t *testing.T) {
		w.T = t
		got := w.guardArticles(justice, w.ClonePerson("chenjing", func(p *workflow.Person) { p.Education = workflow.EduHighSchool }), categories)
		for _, a := range []string{"Art. 9(1)(2)", "Art. 9(1)(4)", "Art. 10"} {
			if !hasArticle(got, a, "") {
				t.Fatalf("missing %s in %v", a, got)
			}
		}
	})
}

// failTraining marks the person's trainings of kind as failed.
func failTraining(w *World, personID int64, kind workflow.TrainingKind) {
	w.T.Helper()
	err := w.Store.Update(w.Ctx, func(tx workflow.Tx) error {
		trs, err := tx.Trainings(w.Ctx, personID)
		if err != nil {
			return err
		}
		for _, tr := range trs {
			if tr.Kind == kind {
				tr.Passed = false
				if err := tx.UpdateTraining(w.Ctx, &tr); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		w.T.Fatal(err)
	}
}
