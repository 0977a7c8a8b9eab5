package storetest

import (
	"encoding/json"
	"fmt"
	"testing"

	"certflow/workflow"
)

// testValidity: every state a certificate reaches through the paths, and
// expiry, against the validity check the rest of the system uses
// (Certificate.ValidOn on the engine's today), on the certificate as the
// legal office lists it. Only a received certificate within its validity
// is valid: never a suspended, returned, cancelled, lost, voided, expired
// or not yet received one; a reissued one is, once received, and its
// predecessor is not.
func testValidity(t *testing.T, open Opener) {
	w := NewWorld(t, open)
	fire := func(v workflow.CaseView, user string, ev workflow.EventName, comment, data string) workflow.CaseView {
		return w.MustFire(user, v, ev, comment, data)
	}
	suspension := func(cert int64, ground int) workflow.CaseView {
		return w.openAs("clerk", workflow.OpenCaseInput{Path: workflow.PathSuspension, CertificateID: cert,
			Data: json.RawMessage(fmt.Sprintf(`{"ground":%d,"facts":"将证件转借他人使用"}`, ground))})
	}
	loss := func(cert int64) workflow.CaseView {
		return w.openAs("clerk", workflow.OpenCaseInput{Path: workflow.PathLoss, CertificateID: cert, Data: json.RawMessage(lossReport)})
	}
	const notice = `{"medium":"新疆日报","published_on":"2026-03-10"}`
	// reissued walks a loss to a reissued certificate; received says
	// whether its holder signed for it. It returns (lost, new).
	reissued := func(received bool) (int64, int64) {
		v := lossJusticeScript.walk(w, workflow.LossReissued)
		if received {
			v = fire(v, "clerk", workflow.EvRecordReceipt, "", "")
		}
		return lossData(t, v).LostCertificateID, v.CertificateID
	}
	issuedOn := func(issued, until string) int64 {
		v := w.submittedOn(casts[0], issued)
		v = fire(v, "clerk", workflow.EvIssue, "", fmt.Sprintf(`{"number":"V-%d","issued_on":"%s","valid_until":"%s"}`, w.seq.Add(1), issued, until))
		return fire(v, "clerk", workflow.EvRecordReceipt, "", `{"received_on":"`+issued+`"}`).CertificateID
	}
	tests := []struct {
		name  string
		reach func() int64
		state workflow.CertificateState
		valid bool
	}{
		{"issued, not yet received", func() int64 { return w.reach(casts[0], workflow.AppIssued).CertificateID }, workflow.CertIssued, false},
		{"received", func() int64 { return w.receivedCertificate(casts[0]).CertificateID }, workflow.CertReceived, true},
		{"Ministry, received", func() int64 { return w.receivedCertificate(casts[1]).CertificateID }, workflow.CertReceived, true},
		{"suspension proposed, not decided", func() int64 { return suspension(w.receivedCertificate(casts[0]).CertificateID, 1).CertificateID }, workflow.CertReceived, true},
		{"suspended (暂扣)", func() int64 {
			return fire(suspension(w.receivedCertificate(casts[0]).CertificateID, 1), "leader", workflow.EvSuspend, "", "").CertificateID
		}, workflow.CertSuspended, false},
		{"suspended, reviewed", func() int64 {
			v := fire(suspension(w.receivedCertificate(casts[0]).CertificateID, 1), "leader", workflow.EvSuspend, "", "")
			return fire(v, "clerk", workflow.EvReview, "继续暂扣", "").CertificateID
		}, workflow.CertSuspended, false},
		{"restored (恢复)", func() int64 {
			v := fire(suspension(w.receivedCertificate(casts[0]).CertificateID, 1), "leader", workflow.EvSuspend, "", "")
			return fire(v, "leader", workflow.EvRestore, "整改到位", "").CertificateID
		}, workflow.CertReceived, true},
		{"surrendered to justice (交回)", func() int64 {
			return fire(suspension(w.receivedCertificate(casts[0]).CertificateID, 2), "leader", workflow.EvSurrender, "", "").CertificateID
		}, workflow.CertReturned, false},
		{"cancelled after surrender", func() int64 {
			v := fire(suspension(w.receivedCertificate(casts[0]).CertificateID, 2), "leader", workflow.EvSurrender, "", "")
			return fire(v, "justice", workflow.EvRecordCancellation, "", "").CertificateID
		}, workflow.CertCancelled, false},
		{"returned on departure", func() int64 {
			dep := departureScript.walk(w, workflow.DepOpen)
			cert := w.outstanding(dep.PersonID)[0].ID
			fire(dep, "clerk", workflow.EvRecordReturn, "", fmt.Sprintf(`{"certificate_id":%d}`, cert))
			return cert
		}, workflow.CertReturned, false},
		{"cancelled after return", func() int64 { return cancellationScript.walk(w, workflow.CanCancelled).CertificateID }, workflow.CertCancelled, false},
		{"Ministry, cancelled after return", func() int64 {
			return ministryCancellationScript.walk(w, workflow.CanCancelled).CertificateID
		}, workflow.CertCancelled, false},
		{"reported lost", func() int64 { return loss(w.receivedCertificate(casts[0]).CertificateID).CertificateID }, workflow.CertLost, false},
		{"found before the notice", func() int64 {
			return fire(loss(w.receivedCertificate(casts[0]).CertificateID), "clerk", workflow.EvFound, "", "").CertificateID
		}, workflow.CertReceived, true},
		{"voided by the loss notice", func() int64 {
			return fire(loss(w.receivedCertificate(casts[0]).CertificateID), "clerk", workflow.EvPublishNotice, "", notice).CertificateID
		}, workflow.CertVoided, false},
		{"reissued, not yet received", func() int64 { _, n := reissued(false); return n }, workflow.CertIssued, false},
		{"reissued and received", func() int64 { _, n := reissued(true); return n }, workflow.CertReceived, true},
		{"predecessor of a received reissue", func() int64 { o, _ := reissued(true); return o }, workflow.CertVoided, false},
		{"Ministry reissue, received", func() int64 {
			return lossMinistryScript.walk(w, workflow.LossReceived).CertificateID
		}, workflow.CertReceived, true},
		{"last day of validity", func() int64 { return issuedOn("2026-01-05", Today.String()) }, workflow.CertReceived, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w.T = t
			c := listed(w, tc.reach())
			if c.State != tc.state {
				t.Fatalf("certificate is %s, want %s", c.State, tc.state)
			}
			if got := c.ValidOn(w.Engine.Today()); got != tc.valid || c.Valid != tc.valid {
				t.Fatalf("%s certificate valid until %s: valid=%v (listed %v) on %s, want %v", c.State, c.ValidUntil, got, c.Valid, w.Engine.Today(), tc.valid)
			}
		})
	}
	t.Run("a received certificate expires the day after its valid-until date", func(t *testing.T) {
		w.T = t
		id := issuedOn("2026-01-05", "2026-06-30")
		fixed := w.Engine
		defer func() { w.Engine = fixed }()
		for _, tc := range []struct {
			day   string
			valid bool
		}{{"2026-03-10", true}, {"2026-06-29", true}, {"2026-06-30", true}, {"2026-07-01", false}, {"2027-01-01", false}} {
			w.withClock(workflow.MustDate(tc.day), workflow.Options{})
			if c := listed(w, id); c.ValidOn(w.Engine.Today()) != tc.valid || c.Valid != tc.valid {
				t.Errorf("on %s: valid=%v, want %v", tc.day, !tc.valid, tc.valid)
			}
		}
	})
}

// listed returns certificate id as the admin's certificate list shows it.
func listed(w *World, id int64) workflow.Certificate {
	w.T.Helper()
	cs, err := w.Engine.Certificates(w.Ctx, w.Actor("admin"), workflow.CertificateFilter{PersonID: w.certificate(id).PersonID})
	if err != nil {
		w.T.Fatal(err)
	}
	for _, c := range cs {
		if c.ID == id {
			return c
		}
	}
	w.T.Fatalf("certificate %d is not listed", id)
	return workflow.Certificate{}
}
