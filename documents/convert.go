package documents

import (
	"certflow/workflow"
)

// The helpers below fill a Form's parts from the workflow's records; the
// job that renders a document uses them, then sets what only it knows
// (unit names, Fields, the decision).

// DepartmentOf is the department u as a document names it. LegalOffice,
// HROffice and Justice are the caller's to set: the org tree does not hold
// them.
func DepartmentOf(u workflow.OrgUnit) Department {
	return Department{Name: u.Name, RegionCode: u.Region}
}

// PersonOf is p as documents show them; unit is the full name of p's unit.
// The age is computed at rendering, from the document's date.
func PersonOf(p workflow.Person, unit string) Person {
	return Person{
		Name: p.Name, Sex: p.Sex, BirthDate: p.BirthDate, IDNumber: p.IDNumber, Title: p.Title,
		Education: p.Education, Major: p.Major, Staffed: p.Staffed, EnforcementPost: p.Post, Unit: unit,
	}
}

// TrainingsOf sums up a person's training records: for each kind the
// latest passed record, or the latest record when none passed; the latest
// 网络学院 score.
func TrainingsOf(records []workflow.Training) Trainings {
	var out Trainings
	var academy workflow.Date
	pick := func(cur *TrainingResult, t workflow.Training) {
		switch {
		case t.Passed && (!cur.Passed || t.Date.After(cur.Date)):
			*cur = TrainingResult{Date: t.Date, Passed: true}
		case !t.Passed && !cur.Passed && !cur.Date.After(t.Date):
			*cur = TrainingResult{Date: t.Date}
		}
	}
	for _, t := range records {
		switch t.Kind {
		case workflow.TrainingEmergency:
			pick(&out.Emergency, t)
		case workflow.TrainingLaw:
			pick(&out.Law, t)
		case workflow.TrainingAcademy:
			if t.Score != nil && (out.AcademyScore == nil || !t.Date.Before(academy)) {
				s := *t.Score
				out.AcademyScore, academy = &s, t.Date
			}
		}
	}
	return out
}

// CertificateOf is c as documents show it. Replaces (the number of the
// certificate c replaces) is the caller's to set.
func CertificateOf(c workflow.Certificate) Certificate {
	return Certificate{
		Kind: c.Kind, Number: c.Number, Issuer: c.Issuer, Categories: Categories(c.Categories), Region: c.Region,
		IssuedOn: c.IssuedOn, ValidUntil: c.ValidUntil, ReceivedOn: c.ReceivedOn, State: c.State,
	}
}

// ApplicationOf is the data of an application case.
func ApplicationOf(d workflow.ApplicationData) Application {
	return Application{
		Kind:                d.Kind,
		ProposedCategories:  Categories(d.ProposedCategories),
		AgreedCategories:    Categories(d.AgreedCategories),
		ConfirmedCategories: Categories(d.ConfirmedCategories),
		Region:              d.Region,
		Specialities:        d.Specialities,
	}
}
