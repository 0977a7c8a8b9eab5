package documents

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"certflow/workflow"
)

// FieldKey documents one key of Form.Fields that a document kind reads.
type FieldKey struct {
	Key      string
	Meaning  string
	Required bool
	// Date: the value is a date, YYYY-MM-DD.
	Date bool
}

// spec is what one kind needs from a Form.
type spec struct {
	// required are paths into Form ("Person.Name", "Certificate.Number");
	// Fields keys are required through FieldKey.Required.
	required []string
	fields   []FieldKey
	// extra checks what paths cannot say (each row of a batch list).
	extra func(*Form) []string
}

// every kind needs these.
var commonRequired = []string{"CaseNumber", "GeneratedAt", "Department.Name"}

var specs = map[workflow.DocKind]spec{
	workflow.DocRegistrationForm: {
		required: []string{"Person.Name", "Person.Sex", "Person.IDNumber", "Person.Unit",
			"Application.Kind", "Application.ProposedCategories"},
		fields: []FieldKey{{Key: "remark", Meaning: "备注"}},
	},
	workflow.DocBatchList: {
		required: []string{"Rows"},
		fields:   []FieldKey{{Key: "note", Meaning: "appended to the notes under the list"}},
		extra: func(f *Form) []string {
			var missing []string
			for i, r := range f.Rows {
				if strings.TrimSpace(r.Person.Name) == "" {
					missing = append(missing, fmt.Sprintf("Rows[%d].Person.Name", i))
				}
				if r.Person.IDNumber == "" {
					missing = append(missing, fmt.Sprintf("Rows[%d].Person.IDNumber", i))
				}
			}
			return missing
		},
	},
	workflow.DocCategoryProposal: {
		required: []string{"Person.Name", "Person.Unit", "Application.Kind", "Application.ProposedCategories"},
		fields: []FieldKey{
			{Key: "duties", Meaning: "所在机构职责和工作需要: the duties of the officer's unit the proposal rests on (Art. 6)"},
			{Key: "reason", Meaning: "建议理由: the legal office's reason for the proposed categories"},
		},
	},
	workflow.DocReceipt: {
		required: []string{"Person.Name", "Certificate.Kind", "Certificate.Number", "Certificate.ValidUntil", "Certificate.ReceivedOn"},
	},
	workflow.DocInfoChange: {
		required: []string{"Person.Name", "Certificate.Kind", "Certificate.Number"},
		fields: []FieldKey{
			{Key: "change", Meaning: "登记事项: 首次录入, 转岗, 退休, 辞职, 辞退, 调离 or 其他 (Art. 14)", Required: true},
			{Key: "change_on", Meaning: "发生变化日期 (or the 领取 date of a first entry)", Date: true},
			{Key: "change_detail", Meaning: "变更内容"},
			{Key: "due_on", Meaning: "录入截止日期: one calendar month after change_on", Date: true},
			{Key: "platform_emergency_on", Meaning: "date entered into 自治区应急管理信息平台", Date: true},
			{Key: "platform_random_on", Meaning: "date entered into 自治区“双随机一公开”监管平台", Date: true},
		},
	},
	workflow.DocSuspensionDecision: {
		required: []string{"Person.Name", "Certificate.Kind", "Certificate.Number"},
		fields: []FieldKey{
			{Key: "ground", Meaning: "the ground of Art. 17, as a phrase: 转借行政执法证件 (item 1), 利用行政执法证件谋取私利 (2), … (3)", Required: true},
			{Key: "facts", Meaning: "the facts found, as sentences (经查，… follows the ground)", Required: true},
		},
	},
	workflow.DocSurrenderLetter: {
		required: []string{"Department.Justice", "Person.Name", "Person.IDNumber", "Certificate.Kind", "Certificate.Number"},
		fields: []FieldKey{
			{Key: "ground", Meaning: "the ground of Art. 17, as a phrase", Required: true},
			{Key: "facts", Meaning: "the facts found, as sentences", Required: true},
			{Key: "contact", Meaning: "联系人及电话"},
		},
	},
	workflow.DocRestorationNotice: {
		required: []string{"Person.Name", "Certificate.Kind", "Certificate.Number"},
		fields: []FieldKey{
			{Key: "suspended_on", Meaning: "the date of the suspension being lifted", Required: true, Date: true},
		},
	},
	workflow.DocReturnReceipt: {
		required: []string{"Person.Name", "Certificate.Kind", "Certificate.Number"},
		fields: []FieldKey{
			{Key: "reason", Meaning: "交回原因: 退休, 辞职, 辞退, 调离, 暂扣 … (Art. 17, 18)", Required: true},
			{Key: "returned_on", Meaning: "交回日期", Required: true, Date: true},
		},
	},
	workflow.DocCancellationTransmittal: {
		required: []string{"Department.Justice", "Person.Name", "Person.IDNumber"},
		fields: []FieldKey{
			{Key: "reason", Meaning: "why the certificates were returned: 退休, 辞职, 辞退, 调离 …", Required: true},
			{Key: "returned_on", Meaning: "交回日期 for certificates without a ReturnedOn", Date: true},
			{Key: "contact", Meaning: "联系人及电话"},
		},
		extra: func(f *Form) []string {
			if len(f.ListedCertificates()) == 0 {
				return []string{"Certificates (or Certificate.Number)"}
			}
			return nil
		},
	},
	workflow.DocDepartureClearance: {
		required: []string{"Person.Name"},
		fields: []FieldKey{
			{Key: "reason", Meaning: "离岗原因: 退休, 辞职, 辞退 or 调离 (Art. 18)", Required: true},
			{Key: "departure_on", Meaning: "离岗日期", Date: true},
		},
	},
	workflow.DocLossReport: {
		required: []string{"Person.Name", "Certificate.Kind", "Certificate.Number"},
		fields: []FieldKey{
			{Key: "lost_on", Meaning: "遗失日期", Required: true, Date: true},
			{Key: "lost_place", Meaning: "遗失地点"},
			{Key: "circumstances", Meaning: "遗失经过", Required: true},
			{Key: "reported_on", Meaning: "报告日期 (default: the document date)", Date: true},
		},
	},
	workflow.DocLossNotice: {
		required: []string{"Person.Name", "Certificate.Kind", "Certificate.Number"},
		fields: []FieldKey{
			{Key: "medium", Meaning: "发布媒体, as 司法部门 requires"},
			{Key: "published_on", Meaning: "发布日期", Date: true},
		},
	},
	workflow.DocReissueApplication: {
		required: []string{"Person.Name", "Person.IDNumber", "Certificate.Kind", "Certificate.Number"},
		fields: []FieldKey{
			{Key: "lost_on", Meaning: "遗失日期", Required: true, Date: true},
			{Key: "circumstances", Meaning: "遗失经过"},
			{Key: "notice_medium", Meaning: "遗失声明发布媒体"},
			{Key: "notice_on", Meaning: "遗失声明发布日期", Date: true},
		},
	},
	workflow.DocComplaintForm: {
		fields: []FieldKey{
			{Key: "type", Meaning: "举报, 控告 or 申诉 (Art. 20)", Required: true},
			{Key: "channel", Meaning: "受理渠道: 来信, 来访, 电话, 网络, 司法部门转办, 监察机关转办 …", Required: true},
			{Key: "received_on", Meaning: "收到日期", Date: true},
			{Key: "complainant", Meaning: "name of the complainant; empty: 匿名"},
			{Key: "complainant_contact", Meaning: "联系方式"},
			{Key: "facts", Meaning: "反映的主要事实及诉求", Required: true},
			{Key: "due_on", Meaning: "办理期限", Date: true},
		},
	},
	workflow.DocOutcomeNotice: {
		fields: []FieldKey{
			{Key: "complainant", Meaning: "the addressee", Required: true},
			{Key: "outcome", Meaning: "处理结果, as sentences", Required: true},
			{Key: "type", Meaning: "举报, 控告 or 申诉"},
			{Key: "channel", Meaning: "受理渠道"},
			{Key: "received_on", Meaning: "收到日期", Date: true},
		},
	},
}

// FieldKeys lists the Fields keys a document kind reads, with their meaning;
// nil for an unknown kind or a kind that reads none.
func FieldKeys(kind workflow.DocKind) []FieldKey { return slices.Clone(specs[kind].fields) }

// RequiredFields lists the paths into Form that a document kind requires,
// Fields keys included as "Fields.<key>".
func RequiredFields(kind workflow.DocKind) []string {
	s := specs[kind]
	out := append(slices.Clone(commonRequired), s.required...)
	for _, k := range s.fields {
		if k.Required {
			out = append(out, "Fields."+k.Key)
		}
	}
	return out
}

// check validates f against s: every error names the field.
func (s spec) check(f *Form) error {
	var errs []error
	for _, path := range RequiredFields(f.Kind) {
		if missingPath(f, path) {
			errs = append(errs, &MissingFieldError{Kind: f.Kind, Field: path})
		}
	}
	if s.extra != nil {
		for _, path := range s.extra(f) {
			errs = append(errs, &MissingFieldError{Kind: f.Kind, Field: path})
		}
	}
	for _, key := range slices.Sorted(maps.Keys(f.Fields)) {
		v := f.Fields[key]
		i := slices.IndexFunc(s.fields, func(k FieldKey) bool { return k.Key == key })
		if i < 0 {
			known := make([]string, len(s.fields))
			for j, k := range s.fields {
				known[j] = k.Key
			}
			errs = append(errs, fmt.Errorf("%w: %s: unknown Fields key %q (known: %s)", ErrInvalidForm, f.Kind, key, strings.Join(known, ", ")))
			continue
		}
		if s.fields[i].Date && v != "" {
			if _, err := workflow.ParseDate(v); err != nil {
				errs = append(errs, fmt.Errorf("%w: %s: Fields.%s: %v", ErrInvalidForm, f.Kind, key, err))
			}
		}
	}
	return errors.Join(errs...)
}

// missingPath reports whether the value at path (field names separated by
// dots, "Fields.<key>" for the map) is empty: zero, blank text or an empty
// list.
func missingPath(f *Form, path string) bool {
	if key, ok := strings.CutPrefix(path, "Fields."); ok {
		return strings.TrimSpace(f.Fields[key]) == ""
	}
	v := reflect.ValueOf(*f)
	for _, name := range strings.Split(path, ".") {
		v = v.FieldByName(name)
		if !v.IsValid() {
			panic("documents: spec names no field " + path)
		}
	}
	switch v.Kind() {
	case reflect.String:
		return strings.TrimSpace(v.String()) == ""
	case reflect.Slice, reflect.Map:
		return v.Len() == 0
	}
	return v.IsZero()
}
