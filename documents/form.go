package documents

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"certflow/templates"
	"certflow/workflow"
)

// Form is the view model every document template gets. One Form describes
// one document of one case: the job that renders a document fills it from
// the case, its person, the certificate and the event that produced it.
// Values are plain data; RenderHTML escapes every one of them.
type Form struct {
	// Kind selects the template templates/documents/<Kind>.html.
	Kind workflow.DocKind
	// Title is the document's Chinese title; empty means the title of
	// workflow.DocumentKinds.
	Title string
	// Article is the article the document rests on, as the workflow cites
	// it ("Art. 17", "Art. 9(1)(4)"); empty means the article of
	// workflow.DocumentKinds. ArticleCN renders it as 第十七条.
	Article string
	// CaseNumber is the case's number, e.g. 650100-2026-0012.
	CaseNumber string
	// GeneratedAt is when the document was generated; shown in Asia/Shanghai.
	GeneratedAt time.Time

	Department  Department
	Person      Person
	Trainings   Trainings
	Certificate Certificate
	// Certificates lists every certificate a document enumerates: the
	// person's certificates on the departure clearance, the certificates
	// sent for 注销 on the cancellation transmittal (which falls back to
	// Certificate when the list is empty).
	Certificates []Certificate
	Application  Application
	// Decision is the event that produced the document: who decided, when,
	// and the comment given. A zero Date means the generation date.
	Decision Decision
	// Fields holds the values only one path knows (the ground of a
	// suspension, where a certificate was lost, a complaint's channel…).
	// Each kind accepts the keys FieldKeys lists and no others; date values
	// are YYYY-MM-DD.
	Fields map[string]string
	// Rows are the people of a batch list (申领汇总表), in order.
	Rows []BatchRow
}

// Department is the emergency-management department that runs the case and
// issues the document.
type Department struct {
	Name       string // e.g. 乌鲁木齐市应急管理局
	RegionCode string // 行政区划代码, e.g. 650100
	// LegalOffice is the name of its 法制机构, e.g. 乌鲁木齐市应急管理局政策法规处.
	LegalOffice string
	// HROffice is the name of its 组织人事机构 (自治区 level: manages the
	// Ministry certificate).
	HROffice string
	// Justice is the 司法部门 at the same level, the addressee of letters
	// to justice, e.g. 乌鲁木齐市司法局.
	Justice string
}

// LegalOfficeName is LegalOffice, or the department's 法制机构 generically.
func (d Department) LegalOfficeName() string {
	if d.LegalOffice != "" {
		return d.LegalOffice
	}
	return d.Name + "法制机构"
}

// HROfficeName is HROffice, or 自治区应急管理部门组织人事机构 (Art. 3, 18).
func (d Department) HROfficeName() string {
	if d.HROffice != "" {
		return d.HROffice
	}
	return "自治区应急管理部门组织人事机构"
}

// Self is how the department names itself in a letter: 我厅 or 我局.
func (d Department) Self() string {
	if strings.HasSuffix(d.Name, "厅") {
		return "我厅"
	}
	return "我局"
}

// JusticeYou is how a letter addresses the 司法部门: 你厅 or 你局.
func (d Department) JusticeYou() string {
	if strings.HasSuffix(d.Justice, "厅") {
		return "你厅"
	}
	return "你局"
}

// Person is the officer the document is about.
type Person struct {
	Name      string
	Sex       workflow.Sex
	BirthDate workflow.Date
	// Age in full years; RenderHTML computes it from BirthDate at the
	// generation date when it is 0.
	Age             int
	IDNumber        workflow.IDNumber // 公民身份号码
	Title           string            // 职务
	Education       workflow.Education
	Major           string
	Staffed         bool   // 在编
	EnforcementPost bool   // 在执法岗位上工作 (Art. 9(1)(4))
	Unit            string // the unit's full name, e.g. 乌鲁木齐市应急管理局危险化学品安全监督管理处
}

// TrainingResult is the outcome of one kind of training.
type TrainingResult struct {
	Date   workflow.Date
	Passed bool
}

// Label is the result as a form shows it: 合格（2025年6月12日）.
func (r TrainingResult) Label() string {
	switch {
	case r.Date.IsZero() && !r.Passed:
		return "无记录"
	case r.Passed:
		return joinDate("合格", r.Date)
	default:
		return joinDate("不合格", r.Date)
	}
}

// Short is the result in a list cell: 合格 2025.06.12.
func (r TrainingResult) Short() string {
	word := "不合格"
	switch {
	case r.Date.IsZero() && !r.Passed:
		return "无记录"
	case r.Passed:
		word = "合格"
	}
	if r.Date.IsZero() {
		return word
	}
	return word + " " + shortDate(r.Date)
}

func joinDate(s string, d workflow.Date) string {
	if d.IsZero() {
		return s
	}
	return s + "（" + chineseDate(d) + "）"
}

// Trainings are the person's training results (Art. 9, 10).
type Trainings struct {
	Emergency TrainingResult // 应急管理业务培训 (Art. 9(1)(2), 9(2)(2))
	Law       TrainingResult // 综合法律知识培训 by 司法部门 (Art. 9(1)(3))
	// AcademyScore is the 应急管理干部网络学院 score: a reference, never a
	// gate (Art. 10). Nil means no score was reported.
	AcademyScore *float64
}

// AcademyLabel is the 网络学院 score as shown: 86.5分, or 无记录.
func (t Trainings) AcademyLabel() string {
	if t.AcademyScore == nil {
		return "无记录"
	}
	return strconv.FormatFloat(*t.AcademyScore, 'f', -1, 64) + "分"
}

// Categories is a list of 执法类别 (Art. 6).
type Categories []workflow.Category

// Has reports whether c is in the list.
func (cs Categories) Has(c workflow.Category) bool { return slices.Contains(cs, c) }

// Join is the list as written on a form: 安全生产监督管理、应急管理.
func (cs Categories) Join() string {
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = string(c)
	}
	return strings.Join(s, "、")
}

// Certificate is a certificate as a document shows it.
type Certificate struct {
	Kind       workflow.CertificateKind
	Number     string
	Issuer     string // 发证机关, e.g. 乌鲁木齐市司法局
	Categories Categories
	Region     string // 执法区域
	IssuedOn   workflow.Date
	ValidUntil workflow.Date
	ReceivedOn workflow.Date
	ReturnedOn workflow.Date
	State      workflow.CertificateState
	// Replaces is the number of the certificate this one replaces (补发, Art. 19).
	Replaces string
}

// StateLabel is the certificate's state in Chinese.
func (c Certificate) StateLabel() string { return c.State.Label() }

// Application is the data of an application case (workflow.ApplicationData).
type Application struct {
	Kind                workflow.CertificateKind
	ProposedCategories  Categories // by the legal office (Art. 6)
	AgreedCategories    Categories // by the principal leader
	ConfirmedCategories Categories // 核定 by the issuer
	Region              string     // 执法区域
	Specialities        string     // 擅长执法领域 (Art. 14(5))
}

// Decision is the event that produced a document.
type Decision struct {
	Event   workflow.EventName
	Comment string
	Actor   string // the name of who fired the event
	Date    workflow.Date
}

// Approval is the decision when it is the principal leader's approval
// (同意), else none: a form made at submission leaves the leader's box
// blank for the leader to fill in, not the clerk's comment and date.
func (f Form) Approval() Decision {
	if f.Decision.Event == workflow.EvApprove {
		return f.Decision
	}
	return Decision{}
}

// BatchRow is one person of a batch list (申领汇总表, Art. 5).
type BatchRow struct {
	Person     Person
	Trainings  Trainings
	Categories Categories // proposed 执法类别
	Remark     string
}

// shanghai is where generation times are shown: China keeps one time zone.
var shanghai = func() *time.Location {
	if loc, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return loc
	}
	return time.FixedZone("CST", 8*60*60) // no DST since 1991
}()

// Generated is GeneratedAt in Asia/Shanghai: 2026年3月18日 10:30.
func (f Form) Generated() string {
	return f.GeneratedAt.In(shanghai).Format("2006年1月2日 15:04")
}

// DocDate is the date the document carries: the decision's date, else the
// generation date in Asia/Shanghai.
func (f Form) DocDate() workflow.Date {
	if !f.Decision.Date.IsZero() {
		return f.Decision.Date
	}
	return workflow.DateOf(f.GeneratedAt.In(shanghai))
}

// ArticleCN is Article in Chinese: "Art. 13" → 第十三条, "Art. 9(1)(4)" →
// 第九条第一款第（四）项. An article in another form is returned as is.
func (f Form) ArticleCN() string { return ArticleCN(f.Article) }

// ReturnOffice is who receives the certificate back, a loss report or the
// like: 自治区 HR for the Ministry certificate, else the legal office
// (Art. 3, 18, 19).
func (f Form) ReturnOffice() string { return f.ReturnOfficeFor(f.Certificate) }

// ReturnOfficeFor is ReturnOffice for certificate c.
func (f Form) ReturnOfficeFor(c Certificate) string {
	if c.Kind == workflow.KindMinistry {
		return f.Department.HROfficeName()
	}
	return f.Department.LegalOfficeName()
}

// ListedCertificates is Certificates, or Certificate alone when the list is
// empty.
func (f Form) ListedCertificates() []Certificate {
	if len(f.Certificates) > 0 {
		return f.Certificates
	}
	if f.Certificate.Number == "" {
		return nil
	}
	return []Certificate{f.Certificate}
}

// ArticleCN renders an article citation of the workflow ("Art. 13",
// "Art. 9(1)", "Art. 9(1)(4)") as the regulation writes it: 第十三条,
// 第九条第一款, 第九条第一款第（四）项. Anything else is returned unchanged.
func ArticleCN(article string) string {
	rest, ok := strings.CutPrefix(strings.TrimSpace(article), "Art.")
	if !ok {
		return article
	}
	rest = strings.TrimSpace(rest)
	var nums []int
	for i, part := range strings.Split(strings.ReplaceAll(rest, ")", ""), "(") {
		n, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil || n <= 0 || n >= 100 || i > 2 {
			return article
		}
		nums = append(nums, n)
	}
	s := "第" + chineseNumber(nums[0]) + "条"
	if len(nums) > 1 {
		s += "第" + chineseNumber(nums[1]) + "款"
	}
	if len(nums) > 2 {
		s += "第（" + chineseNumber(nums[2]) + "）项"
	}
	return s
}

// chineseNumber writes 1–99 in Chinese numerals: 9 九, 13 十三, 20 二十, 21 二十一.
func chineseNumber(n int) string {
	digits := []string{"", "一", "二", "三", "四", "五", "六", "七", "八", "九"}
	switch {
	case n < 10:
		return digits[n]
	case n < 20:
		return "十" + digits[n%10]
	default:
		return digits[n/10] + "十" + digits[n%10]
	}
}

// chineseDate writes d as official documents do: 2026年3月18日.
func chineseDate(d workflow.Date) string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%d年%d月%d日", d.Year, d.Month, d.Day)
}

// shortDate writes d compactly for list cells: 2026.03.18.
func shortDate(d workflow.Date) string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%04d.%02d.%02d", d.Year, d.Month, d.Day)
}

// complaintTypes are the three ways of Art. 20.
var complaintTypes = []string{"举报", "控告", "申诉"}

// funcs are the functions document templates may call. None returns markup:
// every value is escaped by html/template.
var funcs = template.FuncMap{
	// date writes a workflow.Date as 2026年3月18日, "" when unset.
	"date": chineseDate,
	// sdate writes a workflow.Date compactly for list cells: 2026.03.18.
	"sdate": shortDate,
	// fdate writes a YYYY-MM-DD Fields value as a date; other text as is.
	"fdate": func(s string) string {
		if d, err := workflow.ParseDate(s); err == nil {
			return chineseDate(d)
		}
		return s
	},
	// check is the content of a tick box (span.box draws the box): √ or
	// nothing.
	"check": func(b bool) string {
		if b {
			return "√"
		}
		return ""
	},
	// inc is i+1, for 序号.
	"inc": func(i int) int { return i + 1 },
	// categories are Art. 6's three 执法类别, in its order.
	"categories": func() []workflow.Category {
		return []workflow.Category{workflow.CategorySafety, workflow.CategoryFire, workflow.CategoryEmergency}
	},
	// complaintTypes are 举报, 控告, 申诉 (Art. 20).
	"complaintTypes": func() []string { return complaintTypes },
}

const baseTemplate = "documents/base.html"

// TemplateName is the file the template of kind is read from, e.g.
// documents/registration_form.html (in package templates).
func TemplateName(kind workflow.DocKind) string { return "documents/" + string(kind) + ".html" }

// TemplateVersion identifies the template of kind as it is compiled into
// this binary: the first 12 hex digits of the SHA-256 of base.html and
// <kind>.html. Stored with each rendered document, it tells which layout a
// stored PDF was made with. It is "" for an unknown kind.
func TemplateVersion(kind workflow.DocKind) string {
	base, err := fs.ReadFile(templates.Documents, baseTemplate)
	if err != nil {
		return ""
	}
	own, err := fs.ReadFile(templates.Documents, TemplateName(kind))
	if err != nil {
		return ""
	}
	h := sha256.New()
	h.Write(base)
	h.Write([]byte{0})
	h.Write(own)
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// compiled parses every kind's template once.
var compiled = sync.OnceValues(func() (map[workflow.DocKind]*template.Template, error) {
	out := make(map[workflow.DocKind]*template.Template, len(workflow.DocumentKinds))
	for _, k := range workflow.DocumentKinds {
		t, err := template.New("base.html").Funcs(funcs).Option("missingkey=zero").
			ParseFS(templates.Documents, baseTemplate, TemplateName(k.Kind))
		if err != nil {
			return nil, fmt.Errorf("documents: template %s: %w", k.Kind, err)
		}
		out[k.Kind] = t
	}
	return out, nil
})

// ErrInvalidForm is wrapped by every error about the Form itself: an
// unknown kind, a missing required field, an unknown Fields key, a bad date.
// Rendering such a form again cannot succeed: a job fails at once.
var ErrInvalidForm = errors.New("documents: invalid form")

// MissingFieldError says a document kind requires a field the Form lacks.
// Field is a path into Form: "Person.Name", "Fields.ground", "Rows[2].Person.Name".
type MissingFieldError struct {
	Kind  workflow.DocKind
	Field string
}

func (e *MissingFieldError) Error() string {
	title := ""
	if d, ok := workflow.DocumentKindOf(e.Kind); ok {
		title = " " + d.Title
	}
	return fmt.Sprintf("documents: %s%s: missing required field %s", e.Kind, title, e.Field)
}

// Is makes errors.Is(err, ErrInvalidForm) true.
func (e *MissingFieldError) Is(target error) bool { return target == ErrInvalidForm }

// RenderHTML checks f against its kind (required fields, known Fields keys,
// dates) and executes the kind's template. The HTML is self-contained (no
// script, no external resource): the same bytes are the on-screen preview
// and the renderer's input. Every value is escaped by html/template.
func RenderHTML(f Form) ([]byte, error) {
	tmpls, err := compiled()
	if err != nil {
		return nil, err
	}
	t, ok := tmpls[f.Kind]
	if !ok {
		return nil, fmt.Errorf("%w: unknown document kind %q", ErrInvalidForm, f.Kind)
	}
	if err := f.normalize(); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "base.html", f); err != nil {
		return nil, fmt.Errorf("documents: %s: %w", f.Kind, err)
	}
	return buf.Bytes(), nil
}

// normalize fills defaults and validates f against its kind's spec.
func (f *Form) normalize() error {
	d, _ := workflow.DocumentKindOf(f.Kind)
	if f.Title == "" {
		f.Title = d.Title
	}
	if f.Article == "" {
		f.Article = d.Article
	}
	if f.Person.Age == 0 && !f.Person.BirthDate.IsZero() && !f.GeneratedAt.IsZero() {
		f.Person.Age = workflow.Age(f.Person.BirthDate, f.DocDate())
	}
	f.Rows = slices.Clone(f.Rows) // ages are filled in below: not in the caller's rows
	for i := range f.Rows {
		p := &f.Rows[i].Person
		if p.Age == 0 && !p.BirthDate.IsZero() && !f.GeneratedAt.IsZero() {
			p.Age = workflow.Age(p.BirthDate, f.DocDate())
		}
	}
	return specs[f.Kind].check(f)
}
