package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"certflow/workflow"
)

const lossReport = `{"lost_on":"2026-03-10","lost_place":"乌鲁木齐市公交1路车上","circumstances":"乘坐公交车时连同钱包一并遗失"}`

// lossScript drives a loss path: office opens (and fires every event) for
// the holder of a fresh received certificate of cast's family; issuer
// records the issuer's decision.
func lossScript(c pathCast, path workflow.PathName, office, issuer string) script {
	return script{
		path:   path,
		viewer: office,
		open: func(w *World) workflow.CaseView {
			app := w.receivedCertificate(c)
			return w.openAs(office, workflow.OpenCaseInput{Path: path, CertificateID: app.CertificateID, Data: json.RawMessage(lossReport)})
		},
		step: func(w *World, v workflow.CaseView, ev workflow.EventName) step {
			switch ev {
			case workflow.EvPublishNotice:
				return step{ev, office, "", `{"medium":"新疆日报","published_on":"2026-03-10"}`}
			case workflow.EvFound:
				return step{ev, office, "", `{"found_on":"2026-03-10"}`}
			case workflow.EvApplyReissue:
				return step{ev, office, "", ""}
			case workflow.EvCloseLoss:
				return step{ev, office, "持证人已调离，不再申请补发", ""}
			case workflow.EvIssue:
				return step{ev, issuer, "", fmt.Sprintf(`{"number":"BF-%d","valid_until":"2031-03-08"}`, w.seq.Add(1))}
			case workflow.EvRefuse:
				return step{ev, issuer, "不符合补发条件", ""}
			case workflow.EvRecordReceipt:
				return step{ev, office, "", `{"received_on":"2026-03-10"}`}
			}
			panic("no loss step for " + ev)
		},
		// The holder leaves before applying for 补发: certflow closes the
		// case (end_loss).
		follow: func(w *World, v workflow.CaseView, _ workflow.EventName) {
			dep := w.openAs(c.hr, workflow.OpenCaseInput{Path: workflow.PathDeparture, PersonID: v.PersonID, Data: json.RawMessage(`{"reason":"辞职"}`)})
			w.MustFire(c.hr, dep, workflow.EvComplete, "", "")
		},
		routes: map[workflow.State][]workflow.EventName{
			workflow.LossReported:  nil,
			workflow.LossVoided:    {workflow.EvPublishNotice},
			workflow.LossSubmitted: {workflow.EvPublishNotice, workflow.EvApplyReissue},
			workflow.LossReissued:  {workflow.EvPublishNotice, workflow.EvApplyReissue, workflow.EvIssue},
			workflow.LossReceived:  {workflow.EvPublishNotice, workflow.EvApplyReissue, workflow.EvIssue, workflow.EvRecordReceipt},
			workflow.LossFound:     {workflow.EvFound},
			workflow.LossRefused:   {workflow.EvPublishNotice, workflow.EvApplyReissue, workflow.EvRefuse},
			workflow.LossClosed:    {workflow.EvPublishNotice, workflow.EvCloseLoss},
		},
	}
}

// The clerk records justice's decisions in the matrix (the liaison sees a
// case only once it reached justice, so it would get 404, not 409, in the
// earlier states); "liaison records the reissue" covers the liaison.
var (
	lossJusticeScript  = lossScript(casts[0], workflow.PathLoss, "clerk", "clerk")
	lossMinistryScript = lossScript(casts[1], workflow.PathMinistryLoss, "region-hr", "region-hr")
)

func lossData(t testing.TB, v workflow.CaseView) workflow.LossData {
	t.Helper()
	var d workflow.LossData
	if err := json.Unmarshal(v.Data, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// testLoss covers the loss and reissue path (Art. 19) on both tables.
func testLoss(t *testing.T, open Opener) {
	w := NewWorld(t, open)
	t.Run("lost, voided, reissued: only the reissued certificate is valid, once received", func(t *testing.T) {
		w.T = t
		app := w.receivedCertificate(casts[0])
		oldID := app.CertificateID
		if c := w.certificate(oldID); !c.ValidOn(Today) {
			t.Fatal("the received certificate is not valid")
		}
		v := w.openAs("clerk", workflow.OpenCaseInput{Path: workflow.PathLoss, CertificateID: oldID, Data: json.RawMessage(lossReport)})
		if v.State != workflow.LossReported || v.OrgUnitID != w.Data.Units["tianshan"] {
			t.Fatalf("opened %s at unit %d", v.State, v.OrgUnitID)
		}
		wantOpen(t, v, workflow.TaskPublishLossNotice)
		if due := openTasks(v)[workflow.TaskPublishLossNotice].DueOn; due != workflow.MustDate("2026-03-17") {
			t.Fatalf("notice due %s, want 2026-03-17 (5 working days from Tuesday 2026-03-10)", due)
		}
		if len(v.Documents) != 1 || v.Documents[0].Doc != workflow.DocLossReport {
			t.Fatalf("documents %+v", v.Documents)
		}
		if c := w.certificate(oldID); c.State != workflow.CertLost || c.ValidOn(Today) {
			t.Fatalf("reported certificate %s, valid %v", c.State, c.ValidOn(Today))
		}
		v = w.MustFire("clerk", v, workflow.EvPublishNotice, "", `{"medium":"新疆日报","published_on":"2026-03-10"}`)
		wantOpen(t, v, workflow.TaskApplyReissue)
		if c := w.certificate(oldID); c.State != workflow.CertVoided || c.ValidOn(Today) {
			t.Fatalf("after the notice %s, valid %v", c.State, c.ValidOn(Today))
		}
		if d := lossData(t, v); d.NoticeMedium != "新疆日报" || d.NoticeOn != Today || d.LostNumber != w.certificate(oldID).Number {
			t.Fatalf("data %+v", d)
		}
		v = w.MustFire("clerk", v, workflow.EvApplyReissue, "", "")
		wantOpen(t, v, workflow.TaskRecordDecision)
		if got := allowedNames(v, w, "justice"); fmt.Sprint(got) != "[issue refuse]" {
			t.Fatalf("liaison may fire %v", got)
		}
		old := w.certificate(oldID)
		// A reissue keeps its predecessor's number only in the history.
		if _, err := w.Fire("justice", v, workflow.EvIssue, "", `{"number":"`+old.Number+`"}`); !isInput(err) {
			t.Fatalf("reissue under the lost number: %v", err)
		}
		if _, err := w.Fire("justice", v, workflow.EvIssue, "", `{"number":"BF-X","categories":["消防监督管理"]}`); !isGuard(err, "Art. 6") {
			t.Fatalf("reissue with a category the lost one lacked: %v", err)
		}
		v = w.MustFire("justice", v, workflow.EvIssue, "", `{"number":"BF-0001"}`)
		wantOpen(t, v, workflow.TaskRecordReceipt)
		if v.CertificateID == oldID {
			t.Fatal("the case still points at the lost certificate")
		}
		nc := w.certificate(v.CertificateID)
		if nc.Replaces != oldID || nc.Number != "BF-0001" || nc.Kind != old.Kind || nc.Region != old.Region ||
			fmt.Sprint(nc.Categories) != fmt.Sprint(old.Categories) || nc.ValidUntil != old.ValidUntil || nc.Issuer != old.Issuer || nc.IssuedOn != Today {
			t.Fatalf("reissued %+v\nlost %+v", nc, old)
		}
		if nc.State != workflow.CertIssued || nc.ValidOn(Today) {
			t.Fatalf("reissued before receipt: %s, valid %v", nc.State, nc.ValidOn(Today))
		}
		before := len(w.casesOf(v.PersonID, workflow.PathPlatformEntry))
		v = w.MustFire("clerk", v, workflow.EvRecordReceipt, "", `{"received_on":"2026-03-10"}`)
		wantOpen(t, v)
		nc = w.certificate(nc.ID)
		if nc.State != workflow.CertReceived || !nc.ValidOn(Today) || nc.ReceivedOn != Today {
			t.Fatalf("received reissue %+v", nc)
		}
		if c := w.certificate(oldID); c.ValidOn(Today) {
			t.Fatal("the voided certificate is valid again")
		}
		if d := lossData(t, v); d.LostCertificateID != oldID || d.NewCertificateID != nc.ID || d.NewNumber != "BF-0001" {
			t.Fatalf("data %+v", d)
		}
		// 领取 of the new certificate starts the Art. 14 month.
		pcs := w.casesOf(v.PersonID, workflow.PathPlatformEntry)
		if len(pcs) != before+1 || pcs[len(pcs)-1].State != workflow.PlatPending {
			t.Fatalf("platform cases %+v (had %d)", pcs, before)
		}
		docs := map[workflow.DocKind]int{}
		for _, d := range v.Documents {
			docs[d.Doc]++
		}
		if fmt.Sprint(docs) != fmt.Sprint(map[workflow.DocKind]int{workflow.DocLossReport: 1, workflow.DocLossNotice: 1,
			workflow.DocReissueApplication: 1, workflow.DocReceipt: 1}) {
			t.Fatalf("documents %v", docs)
		}
		// A voided certificate cannot be reported lost again.
		if _, err := w.Engine.OpenCase(w.Ctx, w.Actor("clerk"), workflow.OpenCaseInput{Path: workflow.PathLoss, CertificateID: oldID, Data: json.RawMessage(lossReport)}); !isGuard(err, "Art. 19") {
			t.Fatalf("second report of a voided certificate: %v", err)
		}
	})

	t.Run("reissued numbers are unique per issuer", func(t *testing.T) {
		w.T = t
		other := w.receivedCertificate(casts[0])
		taken := w.certificate(other.CertificateID).Number
		v := lossJusticeScript.walk(w, workflow.LossSubmitted)
		_, err := w.Fire("justice", v, workflow.EvIssue, "", `{"number":"`+taken+`"}`)
		var in *workflow.InputError
		if !errors.As(err, &in) || in.Field != "number" {
			t.Fatalf("duplicate number: %v", err)
		}
	})

	t.Run("found before the notice: the certificate is back in use", func(t *testing.T) {
		w.T = t
		v := lossJusticeScript.walk(w, workflow.LossReported)
		v = w.MustFire("clerk", v, workflow.EvFound, "", "")
		wantOpen(t, v)
		if c := w.certificate(v.CertificateID); c.State != workflow.CertReceived || !c.ValidOn(Today) {
			t.Fatalf("found certificate %s", c.State)
		}
	})

	t.Run("the holder reports their own loss and does nothing else", func(t *testing.T) {
		w.T = t
		zw := w.Data.People["zhangwei"]
		app := w.Open("clerk", workflow.PathApplication, zw, categories)
		for _, ev := range routes[workflow.AppReceived] {
			s := casts[0].stepFor(ev, w.seq.Add(1))
			app = w.MustFire(s.user, app, s.event, s.comment, s.data)
		}
		v := w.openAs("officer", workflow.OpenCaseInput{Path: workflow.PathLoss, CertificateID: app.CertificateID, Data: json.RawMessage(lossReport)})
		if d := lossData(t, v); !d.ReportedByHolder {
			t.Fatalf("data %+v", d)
		}
		if got := allowedNames(v, w, "officer"); len(got) != 0 {
			t.Fatalf("the holder may fire %v", got)
		}
		other := w.receivedCertificate(casts[0])
		before := w.Counts()
		if _, err := w.Fire("officer", v, workflow.EvPublishNotice, "", `{"medium":"新疆日报","published_on":"2026-03-10"}`); !isForbidden(err) {
			t.Fatalf("holder records the notice: %v", err)
		}
		if _, err := w.Fire("officer", v, workflow.EvFound, "", ""); !isForbidden(err) {
			t.Fatalf("holder records finding it: %v", err)
		}
		// Another holder's certificate is out of the officer's sight.
		if _, err := w.Engine.OpenCase(w.Ctx, w.Actor("officer"), workflow.OpenCaseInput{Path: workflow.PathLoss, CertificateID: other.CertificateID, Data: json.RawMessage(lossReport)}); !errors.Is(err, workflow.ErrNotFound) {
			t.Fatalf("officer reports another's loss: %v", err)
		}
		if fmt.Sprint(w.Counts()) != fmt.Sprint(before) {
			t.Fatal("refused commands wrote rows")
		}
		w.MustFire("clerk", v, workflow.EvPublishNotice, "", `{"medium":"新疆日报","published_on":"2026-03-10"}`)
	})

	t.Run("Ministry certificate: 自治区 HR acts, justice never sees it", func(t *testing.T) {
		w.T = t
		app := w.receivedCertificate(casts[1])
		in := workflow.OpenCaseInput{Path: workflow.PathLoss, CertificateID: app.CertificateID, Data: json.RawMessage(lossReport)}
		before := w.Counts()
		if _, err := w.Engine.OpenCase(w.Ctx, w.Actor("region-clerk"), in); !isGuard(err, "Art. 19") {
			t.Fatalf("Ministry certificate on the legal office's path: %v", err)
		}
		if _, err := w.Engine.OpenCase(w.Ctx, w.Actor("clerk"), workflow.OpenCaseInput{Path: workflow.PathMinistryLoss, CertificateID: app.CertificateID, Data: json.RawMessage(lossReport)}); err == nil {
			t.Fatal("a county clerk opened a Ministry loss")
		}
		if fmt.Sprint(w.Counts()) != fmt.Sprint(before) {
			t.Fatal("refused openings wrote rows")
		}
		in.Path = workflow.PathMinistryLoss
		v := w.openAs("region-hr", in)
		if v.OrgUnitID != w.Data.Units["region"] {
			t.Fatalf("Ministry loss runs at unit %d, want 自治区 %d", v.OrgUnitID, w.Data.Units["region"])
		}
		if allowed := allowedNames(v, w, "region-clerk"); len(allowed) != 0 {
			t.Fatalf("the 自治区 legal office may fire %v on a Ministry loss", allowed)
		}
		for _, ev := range []workflow.EventName{workflow.EvPublishNotice, workflow.EvApplyReissue, workflow.EvIssue, workflow.EvRecordReceipt} {
			s := lossMinistryScript.step(w, v, ev)
			v = w.MustFire(s.user, v, s.event, s.comment, s.data)
			if _, err := w.Engine.CaseView(w.Ctx, w.Actor("justice"), v.ID); !errors.Is(err, workflow.ErrNotFound) {
				t.Fatalf("justice sees the Ministry loss in %s: %v", v.State, err)
			}
		}
		nc := w.certificate(v.CertificateID)
		if nc.Kind != workflow.KindMinistry || nc.Replaces != app.CertificateID || !nc.ValidOn(Today) || w.certificate(app.CertificateID).State != workflow.CertVoided {
			t.Fatalf("reissued Ministry certificate %+v", nc)
		}
	})

	t.Run("no 补发 for someone leaving (Art. 18)", func(t *testing.T) {
		w.T = t
		v := lossJusticeScript.walk(w, workflow.LossVoided)
		err := w.Store.Update(w.Ctx, func(tx workflow.Tx) error {
			p, err := tx.Person(w.Ctx, v.PersonID)
			if err != nil {
				return err
			}
			p.Employment = workflow.EmploymentLeaving
			return tx.UpdatePerson(w.Ctx, &p)
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Fire("clerk", v, workflow.EvApplyReissue, "", ""); !isGuard(err, "Art. 18") {
			t.Fatalf("补发 for a leaver: %v", err)
		}
		v = w.MustFire("clerk", v, workflow.EvCloseLoss, "持证人辞职", "")
		if v.State != workflow.LossClosed {
			t.Fatal(v.State)
		}
	})

	t.Run("bad reports write nothing", func(t *testing.T) {
		w.T = t
		app := w.receivedCertificate(casts[0])
		for _, data := range []string{
			`{"circumstances":"遗失"}`,
			`{"lost_on":"2026-03-11","circumstances":"遗失"}`,
			`{"lost_on":"2026-03-10"}`,
			`{"lost_on":"2026-03-10","circumstances":"遗失","number":"x"}`,
			`{"lost_on":"2020-01-01","circumstances":"遗失"}`,
		} {
			before := w.Counts()
			_, err := w.Engine.OpenCase(w.Ctx, w.Actor("clerk"), workflow.OpenCaseInput{Path: workflow.PathLoss, CertificateID: app.CertificateID, Data: json.RawMessage(data)})
			if !isInput(err) {
				t.Fatalf("%s: %v", data, err)
			}
			if fmt.Sprint(w.Counts()) != fmt.Sprint(before) {
				t.Fatalf("%s wrote rows", data)
			}
		}
		v := lossJusticeScript.walk(w, workflow.LossReported)
		for _, data := range []string{`{"medium":"新疆日报"}`, `{"published_on":"2026-03-10"}`, `{"medium":"新疆日报","published_on":"2026-03-09"}`} {
			before := w.Counts()
			if _, err := w.Fire("clerk", v, workflow.EvPublishNotice, "", data); !isInput(err) {
				t.Fatalf("%s: %v", data, err)
			}
			if fmt.Sprint(w.Counts()) != fmt.Sprint(before) {
				t.Fatalf("%s wrote rows", data)
			}
		}
	})
}
