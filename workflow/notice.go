package workflow

import (
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// HR's notice (Art. 14 third paragraph): 自治区 HR tells the legal office the
// 网络学院 scores and the list of Ministry certificate holders with numbers
// and validity; it becomes a task for the legal office, due "及时".
const PathHRNotice PathName = "hr_notice"

// HR-notice states and events.
const (
	NoticeSent         State     = "sent"
	NoticeAcknowledged State     = "acknowledged"
	EvAcknowledge      EventName = "acknowledge"
	TaskReviewNotice   TaskKind  = "review_hr_notice"
)

// HRNoticeData is what HR sends.
type HRNoticeData struct {
	Subject string `json:"subject"` // e.g. 网络学院学习成绩, 应急管理部行政执法证持证人员名单
	Content string `json:"content"`
}

func hrNoticePath() Path {
	return Path{
		Name: PathHRNotice, Title: "组织人事机构抄告（Art. 14）", Initial: NoticeSent,
		Subject: SubjectAny, Department: DeptRegion,
		States: []StateDef{
			{NoticeSent, "已抄告，待法制机构处理", false, false},
			{NoticeAcknowledged, "法制机构已处理", true, false},
		},
		Events: []EventDef{
			{
				Name: EvOpen, Label: "抄告法制机构", From: []State{StateNew}, To: NoticeSent,
				Actors: []Role{RoleHR}, Effect: openHRNotice,
				Opens: []TaskSpec{{Kind: TaskReviewNotice, Role: RoleLegalClerk,
					Due: func(t *Transition) Date { return t.Snap.Today.AddWorkingDays(t.Snap.Settings.TimelyWorkingDays) }}},
			},
			{
				Name: EvAcknowledge, Label: "已处理", From: []State{NoticeSent}, To: NoticeAcknowledged,
				Actors: []Role{RoleLegalClerk}, Closes: []TaskKind{TaskReviewNotice},
			},
		},
	}
}

func openHRNotice(t *Transition) error {
	var d HRNoticeData
	if err := decodeInput(t.Input, &d); err != nil {
		return err
	}
	d.Subject, d.Content = strings.TrimSpace(d.Subject), strings.TrimSpace(d.Content)
	switch {
	case d.Subject == "":
		return Invalid("subject", "required")
	case d.Content == "":
		return Invalid("content", "required")
	case utf8.RuneCountInString(d.Content) > 20000:
		return Invalid("content", "longer than 20000 characters")
	}
	b, err := json.Marshal(&d)
	t.Data = b
	return err
}
