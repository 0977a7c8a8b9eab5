package workflow

import (
	"context"
	"errors"
	"fmt"

	"github.com/looplab/fsm"
)

// Certificate states: the certificate's own lifecycle, driven by cases.
const (
	// CertIssued: justice (or the Ministry) issued it; not yet handed over.
	CertIssued CertificateState = "issued"
	// CertReceived: the holder signed for it (领取); valid until expiry.
	CertReceived CertificateState = "received"
	// CertSuspended: 暂扣 (Art. 17); fails every validity check.
	CertSuspended CertificateState = "suspended"
	// CertReturned: handed back (Art. 17, 18), awaiting 注销.
	CertReturned CertificateState = "returned"
	// CertCancelled: 注销 by justice. Final.
	CertCancelled CertificateState = "cancelled"
	// CertLost: reported lost (Art. 19).
	CertLost CertificateState = "lost"
	// CertVoided: declared void by the loss notice (遗失声明). Final.
	CertVoided CertificateState = "voided"
)

// CertificateEvent moves a certificate.
type CertificateEvent string

const (
	CertEventReceive  CertificateEvent = "receive"
	CertEventSuspend  CertificateEvent = "suspend"
	CertEventRestore  CertificateEvent = "restore"
	CertEventReturn   CertificateEvent = "return"
	CertEventCancel   CertificateEvent = "cancel"
	CertEventLose     CertificateEvent = "report_lost"
	CertEventVoid     CertificateEvent = "void"
	CertEventRecovery CertificateEvent = "found" // found again before the notice
)

// certificateLifecycle is the certificate's own table: cases drive it, and it
// refuses what cannot happen (a cancelled certificate cannot be suspended).
var certificateLifecycle = fsm.Events{
	{Name: string(CertEventReceive), Src: []string{string(CertIssued)}, Dst: string(CertReceived)},
	{Name: string(CertEventSuspend), Src: []string{string(CertReceived)}, Dst: string(CertSuspended)},
	{Name: string(CertEventRestore), Src: []string{string(CertSuspended)}, Dst: string(CertReceived)},
	{Name: string(CertEventReturn), Src: []string{string(CertIssued), string(CertReceived), string(CertSuspended)}, Dst: string(CertReturned)},
	{Name: string(CertEventCancel), Src: []string{string(CertReturned)}, Dst: string(CertCancelled)},
	{Name: string(CertEventLose), Src: []string{string(CertReceived)}, Dst: string(CertLost)},
	{Name: string(CertEventVoid), Src: []string{string(CertLost)}, Dst: string(CertVoided)},
	{Name: string(CertEventRecovery), Src: []string{string(CertLost)}, Dst: string(CertReceived)},
}

// NextCertificateState runs ev on a certificate in state from through the
// lifecycle table and returns the new state, or an *InvalidTransitionError.
func NextCertificateState(from CertificateState, ev CertificateEvent) (CertificateState, error) {
	f := fsm.NewFSM(string(from), certificateLifecycle, nil)
	if err := f.Event(context.Background(), string(ev)); err != nil {
		var inv fsm.InvalidEventError
		var unk fsm.UnknownEventError
		if errors.As(err, &inv) || errors.As(err, &unk) {
			return "", &InvalidTransitionError{Event: EventName("certificate." + string(ev)), State: State("certificate." + string(from))}
		}
		return "", fmt.Errorf("workflow: certificate lifecycle: %w", err)
	}
	return CertificateState(f.Current()), nil
}

// TakenBack reports whether the certificate was handed back (returned,
// and maybe cancelled since): what a case about it follows
// (FollowCertificateReturned).
func (c *Certificate) TakenBack() bool { return c.State == CertReturned || c.State == CertCancelled }

// Outstanding reports whether the certificate is still out with its holder
// or the office: not returned, cancelled or voided (Art. 18).
func (c *Certificate) Outstanding() bool {
	switch c.State {
	case CertIssued, CertReceived, CertSuspended, CertLost:
		return true
	}
	return false
}

// ValidOn reports whether the certificate may be shown for enforcement on
// day: received, not suspended, not past its validity (Art. 15, 16, 17).
func (c *Certificate) ValidOn(day Date) bool {
	return c.State == CertReceived && !day.After(c.ValidUntil)
}

// MaxValidityYears bounds the validity (有效期) recorded for a certificate,
// counted from its issue date. The measures are silent on how long a
// certificate runs: the issuer decides, and certflow records what it
// decided. The bound is certflow's decision, well above the validities
// issuers grant, so that it refuses only a typing error (9999-12-31): such
// a certificate would never expire, nor be reminded about.
const MaxValidityYears = 10

// MaxIssuerLength bounds, in characters, the issuer's name recorded with
// a 核发 or 补发: a department's full name fits many times over.
const MaxIssuerLength = 100

// checkValidity refuses a validity (有效期) a certificate issued on issued
// and recorded today cannot have: ending on or before its issue date, or
// already over, which would put an expired certificate in the holder's
// hands, or more than MaxValidityYears after its issue date.
func checkValidity(until, issued, today Date) error {
	switch limit := issued.AddMonths(12 * MaxValidityYears); {
	case !until.After(issued):
		return Invalid("valid_until", "must be after issued_on "+issued.String())
	case until.Before(today):
		return Invalid("valid_until", "ended on "+until.String()+": the certificate would be expired when recorded")
	case until.After(limit):
		return Invalid("valid_until", fmt.Sprintf("more than %d years after issued_on %s: the validity ends on %s at the latest", MaxValidityYears, issued, limit))
	}
	return nil
}
