package documents

import (
	"reflect"
	"strings"
	"testing"

	"certflow/workflow"
)

func TestTrainingsOf(t *testing.T) {
	t.Parallel()
	d := workflow.MustDate
	tests := []struct {
		name    string
		records []workflow.Training
		want    Trainings
	}{
		{"none", nil, Trainings{}},
		{"latest pass wins over a later fail", []workflow.Training{
			{Kind: workflow.TrainingEmergency, Date: d("2024-05-01"), Passed: true},
			{Kind: workflow.TrainingEmergency, Date: d("2025-05-01"), Passed: false},
			{Kind: workflow.TrainingEmergency, Date: d("2023-05-01"), Passed: true},
		}, Trainings{Emergency: TrainingResult{Date: d("2024-05-01"), Passed: true}}},
		{"only fails: the latest", []workflow.Training{
			{Kind: workflow.TrainingLaw, Date: d("2025-01-01")},
			{Kind: workflow.TrainingLaw, Date: d("2025-03-01")},
		}, Trainings{Law: TrainingResult{Date: d("2025-03-01")}}},
		{"latest academy score", []workflow.Training{
			{Kind: workflow.TrainingAcademy, Date: d("2025-01-01"), Score: score(70)},
			{Kind: workflow.TrainingAcademy, Date: d("2025-09-01"), Score: score(88.5)},
			{Kind: workflow.TrainingAcademy, Date: d("2025-10-01")},
		}, Trainings{AcademyScore: score(88.5)}},
	}
	for _, tt := range tests {
		if got := TrainingsOf(tt.records); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

func TestFormFromWorkflowRenders(t *testing.T) {
	t.Parallel()
	p := workflow.Person{Name: "张伟", Sex: workflow.SexMale, BirthDate: workflow.MustDate("1985-02-14"),
		IDNumber: sampleID("650102", "19850214", "011"), Title: "科员", Education: workflow.EduBachelor,
		Major: "安全工程", Staffed: true, Post: true}
	f := Form{
		Kind:        workflow.DocRegistrationForm,
		CaseNumber:  "650100-2026-0099",
		GeneratedAt: SampleGeneratedAt,
		Department:  DepartmentOf(workflow.OrgUnit{Name: "乌鲁木齐市应急管理局", Region: "650100"}),
		Person:      PersonOf(p, "乌鲁木齐市应急管理局执法监察支队"),
		Trainings:   TrainingsOf([]workflow.Training{{Kind: workflow.TrainingEmergency, Date: workflow.MustDate("2025-11-20"), Passed: true}}),
		Application: ApplicationOf(workflow.ApplicationData{Kind: workflow.KindEnforcement, ProposedCategories: []workflow.Category{workflow.CategorySafety}}),
		Certificate: CertificateOf(workflow.Certificate{Number: "X1", Categories: []workflow.Category{workflow.CategoryFire}}),
	}
	html, err := RenderHTML(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"张伟", "41岁", "无记录", "乌鲁木齐市应急管理局执法监察支队"} {
		if !contains(html, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
}

func contains(b []byte, s string) bool { return strings.Contains(string(b), s) }
