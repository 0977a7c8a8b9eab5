package workflow

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestParseIDNumber(t *testing.T) {
	valid := "65010219850312001" + string(IDCheckChar("65010219850312001"))
	tests := []struct {
		in      string
		wantErr string
	}{
		{valid, ""},
		{"11010519491231002X", ""}, // GB 11643's own example
		{"11010519491231002x", ""}, // lower-case x is normalised
		{"110105194912310021", "check digit"},
		{"11010519491231002", "18 characters"},
		{"1101051949123100211", "18 characters, got 19"},
		// Typed with a Chinese input method: full-width digits are not
		// the number's, and the error counts characters, not bytes.
		{"１１０１０５１９４９１２３１００２Ｘ", "half-width (ASCII) digits and X: character 1 is '１'"},
		{"11010519491231002Ｘ", "character 18 is 'Ｘ'"},
		{"1101051949123100２", "character 17 is '２'"},
		{"1101051949123100AX", "must be a digit"},
		{"11010519491331002" + string(IDCheckChar("11010519491331002")), "birth date"},
	}
	for _, tc := range tests {
		got, err := ParseIDNumber(tc.in)
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s: %v", tc.in, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s: error %v, want …%s…", tc.in, err, tc.wantErr)
		case tc.wantErr == "" && got != IDNumber(strings.ToUpper(tc.in)):
			t.Errorf("%s: got %s", tc.in, got)
		}
	}
	n := IDNumber("11010519491231002X")
	if n.BirthDate() != MustDate("1949-12-31") || n.Sex() != SexFemale {
		t.Errorf("birth %s sex %s", n.BirthDate(), n.Sex())
	}
}

func TestAddMonths(t *testing.T) {
	tests := []struct{ from, want string }{
		{"2026-01-31", "2026-02-28"},
		{"2028-01-31", "2028-02-29"},
		{"2026-03-31", "2026-04-30"},
		{"2026-12-15", "2027-01-15"},
		{"2026-02-28", "2026-03-28"},
	}
	for _, tc := range tests {
		if got := MustDate(tc.from).AddMonths(1); got != MustDate(tc.want) {
			t.Errorf("%s + 1 month = %s, want %s", tc.from, got, tc.want)
		}
	}
	if got := Age(MustDate("1996-02-29"), MustDate("2026-02-28")); got != 29 {
		t.Errorf("age %d", got)
	}
}

// TestAddWorkingDays: "及时" counts Monday to Friday, from the day after
// the start, whatever day the start is.
func TestAddWorkingDays(t *testing.T) {
	tests := []struct {
		from string
		n    int
		want string
	}{
		{"2026-03-09", 5, "2026-03-16"}, // Monday → Monday
		{"2026-03-10", 5, "2026-03-17"}, // Tuesday → Tuesday
		{"2026-03-13", 5, "2026-03-20"}, // Friday → Friday
		{"2026-03-14", 5, "2026-03-20"}, // Saturday → Friday
		{"2026-03-15", 5, "2026-03-20"}, // Sunday → Friday
		{"2026-03-13", 1, "2026-03-16"}, // Friday + 1 → Monday
		{"2026-03-14", 1, "2026-03-16"}, // Saturday + 1 → Monday
		{"2026-03-10", 0, "2026-03-10"},
		{"2026-03-10", 10, "2026-03-24"},
		{"2026-12-30", 5, "2027-01-06"}, // over the new year
		{"2028-02-25", 3, "2028-03-01"}, // Friday, over Feb 29
	}
	for _, tc := range tests {
		if got := MustDate(tc.from).AddWorkingDays(tc.n); got != MustDate(tc.want) {
			t.Errorf("%s + %d working days = %s, want %s", tc.from, tc.n, got, tc.want)
		}
	}
}

// TestPathTables: every table is consistent, every state reachable from the
// initial one, every non-final state has a way out, and the Mermaid diagram
// names every transition.
func TestPathTables(t *testing.T) {
	for _, p := range AllPaths() {
		if err := p.validate(); err != nil {
			t.Fatal(err)
		}
		reach := map[State]bool{p.Initial: true}
		for changed := true; changed; {
			changed = false
			for _, e := range p.Events {
				for _, f := range e.From {
					if reach[f] && !reach[e.To] {
						reach[e.To], changed = true, true
					}
				}
			}
		}
		m := p.Mermaid()
		for _, s := range p.States {
			if !reach[s.Name] {
				t.Errorf("%s: state %s unreachable", p.Name, s.Name)
			}
			if !s.Final && len(p.EventsFrom(s.Name)) == 0 {
				t.Errorf("%s: non-final state %s has no event", p.Name, s.Name)
			}
			if s.Final && len(p.EventsFrom(s.Name)) != 0 {
				t.Errorf("%s: final state %s has events", p.Name, s.Name)
			}
		}
		for _, e := range p.Events {
			for _, f := range e.From {
				if line := string(f) + " --> " + string(e.To) + ": " + string(e.Name); !strings.Contains(m, line) {
					t.Errorf("%s: diagram lacks %q", p.Name, line)
				}
			}
			for _, g := range e.Guards {
				if !strings.HasPrefix(g.Article, "Art. ") {
					t.Errorf("%s/%s: guard cites %q", p.Name, e.Name, g.Article)
				}
			}
			// Every task a path opens or closes, and the role it is
			// for, has its Chinese label (the inbox and reminders show it).
			kinds := slices.Concat(e.Closes, e.Discards)
			for _, spec := range e.Opens {
				kinds = append(kinds, spec.Kind)
				if spec.Role.Label() == string(spec.Role) {
					t.Errorf("%s/%s: role %s has no label", p.Name, e.Name, spec.Role)
				}
			}
			for _, k := range kinds {
				if k.Label() == string(k) {
					t.Errorf("%s/%s: task kind %s has no label", p.Name, e.Name, k)
				}
			}
		}
	}
	for _, r := range Roles {
		if r.Label() == string(r) {
			t.Errorf("role %s has no label", r)
		}
	}
	// Every state of the certificate's lifecycle reads in Chinese (the
	// documents and the comment of a case certflow ends print it).
	for _, ev := range certificateLifecycle {
		for _, st := range append(slices.Clone(ev.Src), ev.Dst) {
			if s := CertificateState(st); s.Label() == st {
				t.Errorf("certificate state %s has no label", s)
			}
		}
	}
}

func TestCertificateLifecycle(t *testing.T) {
	tests := []struct {
		from CertificateState
		ev   CertificateEvent
		want CertificateState // "" = refused
	}{
		{CertIssued, CertEventReceive, CertReceived},
		{CertReceived, CertEventSuspend, CertSuspended},
		{CertSuspended, CertEventRestore, CertReceived},
		{CertSuspended, CertEventReturn, CertReturned},
		{CertReturned, CertEventCancel, CertCancelled},
		{CertReceived, CertEventLose, CertLost},
		{CertLost, CertEventVoid, CertVoided},
		{CertCancelled, CertEventSuspend, ""},
		{CertVoided, CertEventRestore, ""},
		{CertReceived, CertEventReceive, ""},
	}
	for _, tc := range tests {
		got, err := NextCertificateState(tc.from, tc.ev)
		if tc.want == "" {
			if err == nil {
				t.Errorf("%s on %s: allowed, want refused", tc.ev, tc.from)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s on %s = %s, %v; want %s", tc.ev, tc.from, got, err, tc.want)
		}
	}
	c := Certificate{State: CertReceived, ValidUntil: MustDate("2030-06-30")}
	if !c.ValidOn(MustDate("2030-06-30")) || c.ValidOn(MustDate("2030-07-01")) {
		t.Error("validity boundary")
	}
	// Only a received certificate is ever valid; which ones are still out
	// (and so block a departure, Art. 18).
	for _, tc := range []struct {
		state      CertificateState
		valid, out bool
	}{
		{CertIssued, false, true}, {CertReceived, true, true}, {CertSuspended, false, true}, {CertLost, false, true},
		{CertReturned, false, false}, {CertCancelled, false, false}, {CertVoided, false, false},
	} {
		c := Certificate{State: tc.state, ValidUntil: MustDate("2030-06-30")}
		if c.ValidOn(MustDate("2026-01-01")) != tc.valid || c.Outstanding() != tc.out {
			t.Errorf("%s: valid %v, outstanding %v; want %v, %v", tc.state, c.ValidOn(MustDate("2026-01-01")), c.Outstanding(), tc.valid, tc.out)
		}
	}
	c.State = CertSuspended
	if c.ValidOn(MustDate("2026-01-01")) || !c.Outstanding() {
		t.Error("a suspended certificate is invalid but still outstanding")
	}
}

func TestGuardErrorText(t *testing.T) {
	err := &GuardError{Violations: []Violation{{"Art. 9(1)(4)", "education below 大专"}, {"Art. 9(1)(4)", "not working in an enforcement post"}, {"Art. 10", "x"}}}
	if got := err.Error(); got != "Art. 9(1)(4): education below 大专; Art. 9(1)(4): not working in an enforcement post; Art. 10: x" {
		t.Errorf("got %q", got)
	}
	if got := strings.Join(err.Articles(), ","); got != "Art. 9(1)(4),Art. 10" {
		t.Errorf("articles %q", got)
	}
}

// A completed departure's Art. 14 change report: the reason as the change,
// from the effective date, never from a day still to come.
func TestPlatformChange(t *testing.T) {
	today := MustDate("2026-05-15")
	for _, tc := range []struct {
		reason    DepartureReason
		effective string
		change    ChangeKind
		details   string
		on        string
	}{
		{DepartRetire, "2026-05-09", ChangeRetirement, "", "2026-05-09"},
		{DepartMove, "2026-05-20", ChangeMove, "", "2026-05-15"},
		{DepartStopDuty, "2026-05-01", ChangeOther, string(DepartStopDuty), "2026-05-01"},
	} {
		in := platformChange(DepartureData{Reason: tc.reason, EffectiveOn: MustDate(tc.effective)}, 7, today)
		var d PlatformData
		if err := json.Unmarshal(in.Data, &d); err != nil {
			t.Fatal(err)
		}
		if in.Path != PathPlatformEntry || in.PersonID != 7 || d.Reason != "change" || d.Change != tc.change ||
			d.Details != tc.details || d.ChangedOn != MustDate(tc.on) {
			t.Errorf("%s on %s: %+v %+v", tc.reason, tc.effective, in, d)
		}
	}
}
