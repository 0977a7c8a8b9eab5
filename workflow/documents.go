package workflow

// The documents the regulation's transitions produce (rules.md, the
// documents table). Each is rendered from templates/documents/<kind>.html.
const (
	// DocBatchList is the 申领汇总表 of a county's application for its 派出机关 staff (Art. 5).
	DocBatchList DocKind = "batch_list"
	// DocInfoChange is the 执法人员信息登记（变更）表 (Art. 14).
	DocInfoChange DocKind = "info_change_form"
	// DocSuspensionDecision is the 行政执法证件暂扣决定书 (Art. 17).
	DocSuspensionDecision DocKind = "suspension_decision"
	// DocSurrenderLetter is the 证件交回函 to justice (Art. 17).
	DocSurrenderLetter DocKind = "surrender_letter"
	// DocRestorationNotice is the 恢复使用通知书 (Art. 17).
	DocRestorationNotice DocKind = "restoration_notice"
	// DocReturnReceipt is the 证件交回凭证 given to the holder (Art. 18).
	DocReturnReceipt DocKind = "return_receipt"
	// DocCancellationTransmittal is the 注销送交函 to justice (Art. 18).
	DocCancellationTransmittal DocKind = "cancellation_transmittal"
	// DocDepartureClearance is HR's 离岗证件清退确认单 (Art. 18).
	DocDepartureClearance DocKind = "departure_clearance"
	// DocLossReport is the holder's 遗失报告 (Art. 19).
	DocLossReport DocKind = "loss_report"
	// DocLossNotice is the 遗失声明 text to publish (Art. 19).
	DocLossNotice DocKind = "loss_notice"
	// DocReissueApplication is the 补发申请表 (Art. 19).
	DocReissueApplication DocKind = "reissue_application"
	// DocComplaintForm is the 举报/控告/申诉登记表 (Art. 20).
	DocComplaintForm DocKind = "complaint_form"
	// DocOutcomeNotice is the 处理结果告知书 (Art. 20).
	DocOutcomeNotice DocKind = "outcome_notice"
)

// DocumentKinds lists every document kind with its Chinese title and the
// article it rests on, in the order of rules.md.
var DocumentKinds = []DocumentKind{
	{DocRegistrationForm, "行政执法证件登记表", "Art. 13"},
	{DocBatchList, "行政执法证件申领汇总表", "Art. 5"},
	{DocCategoryProposal, "执法类别建议审批表", "Art. 6"},
	{DocReceipt, "行政执法证件领取签收单", "Art. 14"},
	{DocInfoChange, "执法人员信息登记（变更）表", "Art. 14"},
	{DocSuspensionDecision, "行政执法证件暂扣决定书", "Art. 17"},
	{DocSurrenderLetter, "行政执法证件交回函", "Art. 17"},
	{DocRestorationNotice, "行政执法证件恢复使用通知书", "Art. 17"},
	{DocReturnReceipt, "行政执法证件交回凭证", "Art. 18"},
	{DocCancellationTransmittal, "行政执法证件注销送交函", "Art. 18"},
	{DocDepartureClearance, "离岗证件清退确认单", "Art. 18"},
	{DocLossReport, "行政执法证件遗失报告", "Art. 19"},
	{DocLossNotice, "遗失声明", "Art. 19"},
	{DocReissueApplication, "行政执法证件补发申请表", "Art. 19"},
	{DocComplaintForm, "举报、控告、申诉登记表", "Art. 20"},
	{DocOutcomeNotice, "处理结果告知书", "Art. 20"},
}

// DocumentKind describes a kind of document.
type DocumentKind struct {
	Kind    DocKind
	Title   string
	Article string
}

// DocumentKindOf returns the description of k.
func DocumentKindOf(k DocKind) (DocumentKind, bool) {
	for _, d := range DocumentKinds {
		if d.Kind == k {
			return d, true
		}
	}
	return DocumentKind{}, false
}
