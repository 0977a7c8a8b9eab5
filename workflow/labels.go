package workflow

// taskLabels are the task kinds as the inbox shows them, in Chinese.
var taskLabels = map[TaskKind]string{
	TaskApprove:             "审批申领",
	TaskRevise:              "修改登记表",
	TaskSubmitToIssuer:      "报送核发机关",
	TaskRecordDecision:      "登记核发决定",
	TaskRecordReceipt:       "登记领取",
	TaskPlatformEmergency:   "录入自治区应急管理信息平台",
	TaskPlatformRandom:      "录入“双随机一公开”监管平台",
	TaskHandleComplaint:     "办理投诉举报",
	TaskNotifyComplainant:   "告知投诉举报人",
	TaskReturnCertificate:   "交回证件",
	TaskSendForCancellation: "送司法部门注销",
	TaskPublishLossNotice:   "发布遗失声明",
	TaskApplyReissue:        "申请补领",
	TaskDecideRetention:     "决定证件是否保留",
	TaskDecideSuspension:    "决定暂扣或交回",
	TaskReviewSuspension:    "暂扣定期复查",
	TaskRecordCancellation:  "登记注销",
	TaskReviewNotice:        "核对人事部门通报",
}

// Label is the kind in Chinese (审批申领), or the code for a kind without
// one.
func (k TaskKind) Label() string { return labelOf(taskLabels, k) }

// roleLabels are the roles in Chinese.
var roleLabels = map[Role]string{
	RoleLegalClerk: "法制机构",
	RolePrincipal:  "主要负责人",
	RoleHR:         "组织人事机构",
	RoleOfficer:    "执法人员",
	RoleJustice:    "司法部门联络人",
	RoleSupervisor: "监督人员",
	RoleAdmin:      "系统管理员",
}

// Label is the role in Chinese (法制机构), or the code for a role without
// one.
func (r Role) Label() string { return labelOf(roleLabels, r) }

// labelOf is k's label in labels, or k itself.
func labelOf[K ~string](labels map[K]string, k K) string {
	if l, ok := labels[k]; ok {
		return l
	}
	return string(k)
}

// certificateLabels are the certificate states in Chinese.
var certificateLabels = map[CertificateState]string{
	CertIssued:    "已核发，未领取",
	CertReceived:  "有效",
	CertSuspended: "暂扣",
	CertReturned:  "已交回，待注销",
	CertCancelled: "已注销",
	CertLost:      "已报告遗失",
	CertVoided:    "已声明作废",
}

// Label is the certificate state in Chinese (已交回，待注销), or the code
// for a state without one.
func (s CertificateState) Label() string { return labelOf(certificateLabels, s) }

// actLabels are the acts on tasks and cases (workflow/inbox.go) as a
// case's history shows them.
var actLabels = map[EventName]string{
	ActClaim:    "认领任务",
	ActUnclaim:  "放回任务",
	ActReassign: "转交",
	ActRemind:   "催办",
	ActCopy:     "抄送",
}
