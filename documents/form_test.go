package documents

import (
	"errors"
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"certflow/templates"
	"certflow/workflow"
)

func TestRenderHTMLEveryKind(t *testing.T) {
	t.Parallel()
	for _, k := range workflow.DocumentKinds {
		t.Run(string(k.Kind), func(t *testing.T) {
			t.Parallel()
			f := SampleForm(k.Kind)
			html, err := RenderHTML(f)
			if err != nil {
				t.Fatal(err)
			}
			s := string(html)
			for _, want := range []string{
				"<title>" + k.Title + "</title>",
				`<h1 class="title`,
				"编号：" + f.CaseNumber,
				"生成时间：2026年3月18日 10:30",
				"依据：《自治区应急管理系统行政执法证件管理办法》" + ArticleCN(k.Article),
				"@page { size: A4",
				"line-break: strict; word-break: normal;",
			} {
				if !strings.Contains(s, want) {
					t.Errorf("HTML lacks %q", want)
				}
			}
			for _, bad := range []string{"<script", "<no value>", "font-weight: bold", "font-weight:bold", "ZgotmplZ"} {
				if strings.Contains(s, bad) {
					t.Errorf("HTML contains %q", bad)
				}
			}
		})
	}
}

func TestEveryKindHasTemplateAndSpec(t *testing.T) {
	t.Parallel()
	versions := map[string]workflow.DocKind{}
	for _, k := range workflow.DocumentKinds {
		if _, ok := specs[k.Kind]; !ok {
			t.Errorf("%s: no spec", k.Kind)
		}
		v := TemplateVersion(k.Kind)
		if !regexp.MustCompile(`^[0-9a-f]{12}$`).MatchString(v) {
			t.Errorf("%s: TemplateVersion %q", k.Kind, v)
		}
		if v != TemplateVersion(k.Kind) {
			t.Errorf("%s: TemplateVersion is not stable", k.Kind)
		}
		if other, dup := versions[v]; dup {
			t.Errorf("%s and %s share TemplateVersion %s", k.Kind, other, v)
		}
		versions[v] = k.Kind
		// Every required path names a real field (missingPath panics otherwise).
		empty := Form{Kind: k.Kind}
		for _, path := range RequiredFields(k.Kind) {
			if !missingPath(&empty, path) {
				t.Errorf("%s: %s is not missing on an empty Form", k.Kind, path)
			}
		}
	}
	if got := TemplateVersion("no_such_kind"); got != "" {
		t.Errorf("TemplateVersion of an unknown kind = %q", got)
	}
	// No template without a kind.
	names, err := fs.Glob(templates.Documents, "documents/*.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		kind := strings.TrimSuffix(strings.TrimPrefix(name, "documents/"), ".html")
		if _, ok := workflow.DocumentKindOf(workflow.DocKind(kind)); !ok && kind != "base" {
			t.Errorf("template %s belongs to no document kind", name)
		}
	}
}

// TestTemplatesReadDeclaredFields: a template reads only the Fields keys
// its kind declares, and reads every one it declares.
func TestTemplatesReadDeclaredFields(t *testing.T) {
	t.Parallel()
	re := regexp.MustCompile(`\.Fields\.([A-Za-z0-9_]+)`)
	for _, k := range workflow.DocumentKinds {
		src, err := fs.ReadFile(templates.Documents, TemplateName(k.Kind))
		if err != nil {
			t.Fatal(err)
		}
		var used []string
		for _, m := range re.FindAllStringSubmatch(string(src), -1) {
			used = append(used, m[1])
		}
		var declared []string
		for _, f := range FieldKeys(k.Kind) {
			declared = append(declared, f.Key)
			if !slices.Contains(used, f.Key) {
				t.Errorf("%s declares Fields key %q but its template never reads it", k.Kind, f.Key)
			}
		}
		for _, u := range used {
			if !slices.Contains(declared, u) {
				t.Errorf("%s template reads undeclared Fields key %q", k.Kind, u)
			}
		}
	}
}

func TestMissingRequiredField(t *testing.T) {
	t.Parallel()
	tests := []struct {
		kind   workflow.DocKind
		change func(*Form)
		field  string
	}{
		{workflow.DocRegistrationForm, func(f *Form) { f.Person.Name = "" }, "Person.Name"},
		{workflow.DocRegistrationForm, func(f *Form) { f.Person.Name = "   " }, "Person.Name"},
		{workflow.DocRegistrationForm, func(f *Form) { f.Application.ProposedCategories = nil }, "Application.ProposedCategories"},
		{workflow.DocReceipt, func(f *Form) { f.Certificate.ReceivedOn = workflow.Date{} }, "Certificate.ReceivedOn"},
		{workflow.DocSuspensionDecision, func(f *Form) { delete(f.Fields, "ground") }, "Fields.ground"},
		{workflow.DocSurrenderLetter, func(f *Form) { f.Department.Justice = "" }, "Department.Justice"},
		{workflow.DocBatchList, func(f *Form) { f.Rows[1].Person.Name = "" }, "Rows[1].Person.Name"},
		{workflow.DocBatchList, func(f *Form) { f.Rows = nil }, "Rows"},
		{workflow.DocCancellationTransmittal, func(f *Form) { f.Certificate, f.Certificates = Certificate{}, nil }, "Certificates"},
		{workflow.DocComplaintForm, func(f *Form) { f.Fields["facts"] = "" }, "Fields.facts"},
		{workflow.DocOutcomeNotice, func(f *Form) { f.CaseNumber = "" }, "CaseNumber"},
		{workflow.DocLossNotice, func(f *Form) { f.GeneratedAt = time.Time{} }, "GeneratedAt"},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind)+"/"+tt.field, func(t *testing.T) {
			t.Parallel()
			f := SampleForm(tt.kind)
			tt.change(&f)
			_, err := RenderHTML(f)
			if err == nil {
				t.Fatal("RenderHTML succeeded")
			}
			if !errors.Is(err, ErrInvalidForm) {
				t.Errorf("error %v does not wrap ErrInvalidForm", err)
			}
			var mf *MissingFieldError
			if !errors.As(err, &mf) {
				t.Fatalf("error %v is no *MissingFieldError", err)
			}
			if !strings.Contains(err.Error(), tt.field) {
				t.Errorf("error %q does not name %s", err, tt.field)
			}
		})
	}
}

func TestInvalidForm(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		form   func() Form
		substr string
	}{
		{"unknown kind", func() Form { return Form{Kind: "no_such_kind"} }, `unknown document kind "no_such_kind"`},
		{"unknown Fields key", func() Form {
			f := SampleForm(workflow.DocSuspensionDecision)
			f.Fields["grond"] = "x"
			return f
		}, `unknown Fields key "grond"`},
		{"bad date", func() Form {
			f := SampleForm(workflow.DocRestorationNotice)
			f.Fields["suspended_on"] = "2025/12/10"
			return f
		}, "Fields.suspended_on"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := RenderHTML(tt.form())
			if !errors.Is(err, ErrInvalidForm) {
				t.Fatalf("error %v does not wrap ErrInvalidForm", err)
			}
			if !strings.Contains(err.Error(), tt.substr) {
				t.Errorf("error %q lacks %q", err, tt.substr)
			}
		})
	}
}

func TestRenderHTMLEscapes(t *testing.T) {
	t.Parallel()
	const evil = `<script>alert("x")</script><img src=x onerror=alert(1)>`
	for _, k := range workflow.DocumentKinds {
		f := SampleForm(k.Kind)
		f.Person.Name = evil
		f.Department.Name = evil + "应急管理局"
		for i := range f.Rows {
			f.Rows[i].Person.Name = evil
		}
		for key := range f.Fields {
			if !slices.ContainsFunc(FieldKeys(k.Kind), func(fk FieldKey) bool { return fk.Key == key && fk.Date }) {
				f.Fields[key] = evil
			}
		}
		html, err := RenderHTML(f)
		if err != nil {
			t.Fatalf("%s: %v", k.Kind, err)
		}
		s := string(html)
		if strings.Contains(s, "<script") || strings.Contains(s, "<img") {
			t.Errorf("%s: markup from data reached the HTML", k.Kind)
		}
		if !strings.Contains(s, "&lt;script&gt;") {
			t.Errorf("%s: the escaped name is missing", k.Kind)
		}
	}
}

func TestArticleCN(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"Art. 13":      "第十三条",
		"Art. 5":       "第五条",
		"Art. 10":      "第十条",
		"Art. 20":      "第二十条",
		"Art. 21":      "第二十一条",
		"Art. 9(1)":    "第九条第一款",
		"Art. 9(1)(4)": "第九条第一款第（四）项",
		"Art.17":       "第十七条",
		"第十三条":         "第十三条",
		"Art. x":       "Art. x",
		"":             "",
	}
	for in, want := range tests {
		if got := ArticleCN(in); got != want {
			t.Errorf("ArticleCN(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFormHelpers(t *testing.T) {
	t.Parallel()
	d := workflow.MustDate
	tests := []struct{ got, want string }{
		{TrainingResult{}.Label(), "无记录"},
		{TrainingResult{Date: d("2025-06-12"), Passed: true}.Label(), "合格（2025年6月12日）"},
		{TrainingResult{Date: d("2025-06-12")}.Label(), "不合格（2025年6月12日）"},
		{TrainingResult{Date: d("2025-06-12"), Passed: true}.Short(), "合格 2025.06.12"},
		{Trainings{}.AcademyLabel(), "无记录"},
		{Trainings{AcademyScore: score(86.5)}.AcademyLabel(), "86.5分"},
		{Categories{workflow.CategorySafety, workflow.CategoryEmergency}.Join(), "安全生产监督管理、应急管理"},
		{Department{Name: "新疆维吾尔自治区应急管理厅"}.Self(), "我厅"},
		{Department{Name: "乌鲁木齐市应急管理局"}.Self(), "我局"},
		{Department{Justice: "新疆维吾尔自治区司法厅"}.JusticeYou(), "你厅"},
		{Department{Name: "乌鲁木齐市应急管理局"}.LegalOfficeName(), "乌鲁木齐市应急管理局法制机构"},
		{Form{GeneratedAt: SampleGeneratedAt.UTC()}.Generated(), "2026年3月18日 10:30"},
		{chineseDate(Form{GeneratedAt: SampleGeneratedAt.UTC().Add(14 * 3600e9)}.DocDate()), "2026年3月19日"},
		{Form{Department: Department{HROffice: "人事处"}, Certificate: Certificate{Kind: workflow.KindMinistry}}.ReturnOffice(), "人事处"},
	}
	for i, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%d: got %q, want %q", i, tt.got, tt.want)
		}
	}
}
