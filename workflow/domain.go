package workflow

import (
	"encoding/json"
	"time"
)

// UnitKind says what an org unit is. Departments (应急管理部门) form the
// administrative tree; internal units and 派出机关 hang below them.
type UnitKind string

const (
	// UnitDepartment is an emergency-management department (应急管理厅/局) of a
	// region: 自治区, 地州市 or 县市区. Cases belong to departments.
	UnitDepartment UnitKind = "department"
	// UnitLeadership is a department's 领导班子.
	UnitLeadership UnitKind = "leadership"
	// UnitLegal is a department's 法制机构 (or the unit carrying 法制 duties).
	UnitLegal UnitKind = "legal"
	// UnitHR is a department's 组织人事机构.
	UnitHR UnitKind = "hr"
	// UnitBusiness is an internal 业务机构 with enforcement duties.
	UnitBusiness UnitKind = "business"
	// UnitInstitution is a 直属事业单位.
	UnitInstitution UnitKind = "institution"
	// UnitTownship is a 乡镇人民政府, 街道办事处 or 开发区管理机构 (派出机关),
	// entrusted by a county department (Art. 2, 5).
	UnitTownship UnitKind = "township"
)

// Valid reports whether k is a known kind.
func (k UnitKind) Valid() bool {
	switch k {
	case UnitDepartment, UnitLeadership, UnitLegal, UnitHR, UnitBusiness, UnitInstitution, UnitTownship:
		return true
	}
	return false
}

// Level is a department's administrative level.
type Level string

const (
	// LevelRegion is 自治区.
	LevelRegion Level = "region"
	// LevelPrefecture is 地州市 (including 伊犁州 and the 地区 under it).
	LevelPrefecture Level = "prefecture"
	// LevelCounty is 县市区 (and national development zones with their own department).
	LevelCounty Level = "county"
)

// OrgUnit is a node of the org tree. The tree has no fixed depth: 伊犁州 has
// 塔城地区 and 阿勒泰地区 below it, so scope follows ParentID, never a level.
type OrgUnit struct {
	ID       int64    `json:"id"`
	ParentID int64    `json:"parent_id,omitempty"`
	Kind     UnitKind `json:"kind"`
	Level    Level    `json:"level,omitempty"` // departments only
	Name     string   `json:"name"`
	Region   string   `json:"region_code,omitempty"` // 行政区划代码, departments only
	// DeptID is the department the unit belongs to (itself for departments);
	// Path is the department chain as "/1/5/23/", kept by the store, so
	// "its subtree" is a prefix match at any depth.
	DeptID int64  `json:"dept_id"`
	Path   string `json:"-"`
	// LeadershipKind is the per-county rule of Art. 5(1): the kind of
	// certificate a county's 司法部门 assigns to its leadership, when it is
	// not 执法监督证. Empty means the default.
	LeadershipKind CertificateKind `json:"leadership_kind,omitempty"`
	Version        int64           `json:"version"`
}

// Sex is 男 or 女.
type Sex string

const (
	SexMale   Sex = "男"
	SexFemale Sex = "女"
)

// Education is the highest education level, ordered.
type Education string

const (
	EduJuniorHigh Education = "初中"
	EduHighSchool Education = "高中"
	EduSecondary  Education = "中专"
	EduCollege    Education = "大专"
	EduBachelor   Education = "本科"
	EduMaster     Education = "硕士研究生"
	EduDoctor     Education = "博士研究生"
)

var educationRank = map[Education]int{
	EduJuniorHigh: 1, EduHighSchool: 2, EduSecondary: 2, EduCollege: 3, EduBachelor: 4, EduMaster: 5, EduDoctor: 6,
}

// Valid reports whether e is a known level.
func (e Education) Valid() bool { _, ok := educationRank[e]; return ok }

// AtLeastCollege reports whether e is 大专 or higher (Art. 9(1)(4)).
func (e Education) AtLeastCollege() bool { return educationRank[e] >= educationRank[EduCollege] }

// Employment is a person's employment status.
type Employment string

const (
	EmploymentActive   Employment = "active"
	EmploymentLeaving  Employment = "leaving" // an open departure
	EmploymentDeparted Employment = "departed"
)

// Valid reports whether e is a known status.
func (e Employment) Valid() bool {
	return e == EmploymentActive || e == EmploymentLeaving || e == EmploymentDeparted
}

// Person is a staff member who may hold certificates.
type Person struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Sex        Sex        `json:"sex"`
	BirthDate  Date       `json:"birth_date"`
	IDNumber   IDNumber   `json:"id_number"`
	Title      string     `json:"title"` // 职务
	Education  Education  `json:"education"`
	Major      string     `json:"major"`
	Staffed    bool       `json:"staffed"`          // 在编
	Post       bool       `json:"enforcement_post"` // 在执法岗位
	OrgUnitID  int64      `json:"org_unit_id"`
	Employment Employment `json:"employment"`
	Version    int64      `json:"version"`
}

// TrainingKind is a kind of training record.
type TrainingKind string

const (
	// TrainingEmergency is 应急管理业务培训 with exam (Art. 9(1)(2), 10, 11).
	TrainingEmergency TrainingKind = "emergency"
	// TrainingLaw is 综合法律知识培训 by justice (Art. 9(1)(3), 12).
	TrainingLaw TrainingKind = "law"
	// TrainingAcademy is 应急管理干部网络学院 study: a score, a reference, never a gate (Art. 10).
	TrainingAcademy TrainingKind = "academy"
)

// Valid reports whether k is known.
func (k TrainingKind) Valid() bool {
	return k == TrainingEmergency || k == TrainingLaw || k == TrainingAcademy
}

// Training is one training record of a person.
type Training struct {
	ID       int64        `json:"id"`
	PersonID int64        `json:"person_id"`
	Kind     TrainingKind `json:"kind"`
	Date     Date         `json:"date"`
	Passed   bool         `json:"passed"`
	Score    *float64     `json:"score,omitempty"`
	Topics   []int        `json:"topics,omitempty"` // Art. 11 items (1)–(12)
	Version  int64        `json:"version"`
}

// CertificateKind is a kind of certificate (Art. 4, 13).
type CertificateKind string

const (
	// KindSupervision is 执法监督证, issued by justice.
	KindSupervision CertificateKind = "supervision"
	// KindEnforcement is 行政执法证, issued by justice.
	KindEnforcement CertificateKind = "enforcement"
	// KindMinistry is 应急管理部行政执法证, issued by the Ministry.
	KindMinistry CertificateKind = "ministry"
)

// Family is who issues a certificate kind.
type Family string

const (
	// FamilyJustice certificates are issued by 司法部门 and managed by the legal office (Art. 3).
	FamilyJustice Family = "justice"
	// FamilyMinistry certificates are issued by 应急管理部 and managed by 自治区 HR (Art. 3, 13).
	FamilyMinistry Family = "ministry"
)

// Family returns who issues k.
func (k CertificateKind) Family() Family {
	if k == KindMinistry {
		return FamilyMinistry
	}
	return FamilyJustice
}

// Kinds lists the certificate kinds family f issues.
func (f Family) Kinds() []CertificateKind {
	if f == FamilyMinistry {
		return []CertificateKind{KindMinistry}
	}
	return []CertificateKind{KindSupervision, KindEnforcement}
}

// Label is the Chinese name of k.
func (k CertificateKind) Label() string {
	switch k {
	case KindSupervision:
		return "执法监督证"
	case KindEnforcement:
		return "行政执法证"
	case KindMinistry:
		return "应急管理部行政执法证"
	}
	return string(k)
}

// Category is an 执法类别 (Art. 6).
type Category string

const (
	CategorySafety    Category = "安全生产监督管理"
	CategoryFire      Category = "消防监督管理"
	CategoryEmergency Category = "应急管理"
)

// Valid reports whether c is one of Art. 6's three categories.
func (c Category) Valid() bool {
	return c == CategorySafety || c == CategoryFire || c == CategoryEmergency
}

// CertificateState is a state of the certificate's own lifecycle.
type CertificateState string

// Certificate is an issued certificate.
type Certificate struct {
	ID         int64            `json:"id"`
	PersonID   int64            `json:"person_id"`
	Kind       CertificateKind  `json:"kind"`
	Number     string           `json:"number"`
	Issuer     string           `json:"issuer"`
	Categories []Category       `json:"categories"`
	Region     string           `json:"region"` // 执法区域
	IssuedOn   Date             `json:"issued_on"`
	ReceivedOn Date             `json:"received_on"`
	ValidUntil Date             `json:"valid_until"`
	State      CertificateState `json:"state"`
	Replaces   int64            `json:"replaces,omitempty"`
	CaseID     int64            `json:"case_id"`
	OrgUnitID  int64            `json:"org_unit_id"` // the managing department
	Version    int64            `json:"version"`
	// Valid says, where a list fills it in, whether the certificate may
	// be shown for enforcement today (ValidOn): received, not suspended,
	// returned or lost, and not past valid_until.
	Valid bool `json:"valid"`
}

// Case is one run of a path about one person.
type Case struct {
	ID       int64    `json:"id"`
	Number   string   `json:"number"` // e.g. 650100-2026-0012
	Path     PathName `json:"path"`
	State    State    `json:"state"`
	Version  int64    `json:"version"`
	PersonID int64    `json:"person_id"`
	// CertificateID is the certificate the case is about, once there is one.
	CertificateID int64           `json:"certificate_id,omitempty"`
	OrgUnitID     int64           `json:"org_unit_id"` // the department that runs the case
	Preparer      int64           `json:"preparer_user_id"`
	Data          json.RawMessage `json:"data"`
	CreatedAt     time.Time       `json:"created_at"`
	UpdatedAt     time.Time       `json:"updated_at"`
}

// TaskStatus is open or closed.
type TaskStatus string

const (
	TaskOpen   TaskStatus = "open"
	TaskClosed TaskStatus = "closed"
)

// Task is work someone must do on a case: assigned to a role at a department.
type Task struct {
	ID        int64    `json:"id"`
	CaseID    int64    `json:"case_id"`
	Kind      TaskKind `json:"kind"`
	Role      Role     `json:"role"`
	OrgUnitID int64    `json:"org_unit_id"`
	// CertificateID is the certificate the task is about, when the case
	// has several (a departure's return tasks).
	CertificateID int64      `json:"certificate_id,omitempty"`
	Status        TaskStatus `json:"status"`
	DueOn         Date       `json:"due_on"`
	CreatedAt     time.Time  `json:"created_at"`
	ClosedAt      *time.Time `json:"closed_at,omitempty"`
	// AssigneeID is the user who holds the task, by claiming it or given
	// it by 转交 (workflow/inbox.go); 0 for a group task.
	AssigneeID int64      `json:"assignee_user_id,omitempty"`
	AssignedAt *time.Time `json:"assigned_at,omitempty"`
	// Submitter is who fired the event that opened the task, when that
	// event prepares the case (EventDef.Prepares): like the case's
	// preparer, the inbox does not offer them what only others may do.
	Submitter int64 `json:"-"`
	// Priority is PriorityNormal or PriorityUrgent (urged by 催办).
	Priority   int        `json:"priority"`
	RemindedAt *time.Time `json:"reminded_at,omitempty"`
}

// Event is one row of a case's history.
type Event struct {
	ID         int64           `json:"id"`
	CaseID     int64           `json:"case_id"`
	Seq        int64           `json:"seq"` // the case version this event produced
	Event      EventName       `json:"event"`
	From       State           `json:"from"`
	To         State           `json:"to"`
	Actor      int64           `json:"actor_user_id"`
	OnBehalfOf int64           `json:"on_behalf_of_user_id,omitempty"`
	At         time.Time       `json:"at"`
	Comment    string          `json:"comment,omitempty"`
	Data       json.RawMessage `json:"data,omitempty"`
	// ActorName and OnBehalfOfName name the users, as a case's history
	// reads them (Tx.CaseEvents); Label is the event (or act on a task) in
	// Chinese, as the case view shows it.
	ActorName      string `json:"actor_name,omitempty"`
	OnBehalfOfName string `json:"on_behalf_of_name,omitempty"`
	Label          string `json:"label,omitempty"`
}

// DocumentJob asks for one document to be rendered after the transition
// commits. It is the River job's arguments as they are: the store enqueues
// it in the transition's own transaction, so a document job exists exactly
// when its transition committed.
type DocumentJob struct {
	ID      int64   `json:"id"` // the document row, set by the store
	Doc     DocKind `json:"doc"`
	CaseID  int64   `json:"case_id"`
	EventID int64   `json:"event_id"`
	Article string  `json:"article"`
}

// Kind names the document job in River's tables.
func (DocumentJob) Kind() string { return "render_document" }
