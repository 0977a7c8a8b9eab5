package documents

import (
	"fmt"
	"time"

	"certflow/workflow"
)

// SampleGeneratedAt is the generation time of every SampleForm: fixed, so
// golden files stay stable.
var SampleGeneratedAt = time.Date(2026, 3, 18, 10, 30, 0, 0, shanghai)

// SampleForm returns a realistic Form of kind: made-up people of 乌鲁木齐
// with valid 公民身份号码, filled as the transition that produces the kind
// would. Tests, benchmarks and the template preview use it. An unknown kind
// gets a Form with only Kind set.
func SampleForm(kind workflow.DocKind) Form {
	f := Form{
		Kind:        kind,
		CaseNumber:  "650100-2026-0012",
		GeneratedAt: SampleGeneratedAt,
		Department:  sampleCity,
		Person:      sampleOfficer,
		Trainings:   sampleTrainings,
		Application: sampleApplication,
		Certificate: sampleCertificate,
	}
	d := workflow.MustDate
	switch kind {
	case workflow.DocRegistrationForm:
		f.Certificate = Certificate{}
		f.Fields = map[string]string{"remark": "首次申领"}
	case workflow.DocBatchList:
		f.CaseNumber = "650121-2026-0003"
		f.Department = sampleCounty
		f.Person, f.Trainings, f.Application, f.Certificate = Person{}, Trainings{}, Application{}, Certificate{}
		f.Rows = sampleTownshipRows()
	case workflow.DocCategoryProposal:
		// Produced when the application goes to the principal leader:
		// nothing agreed or confirmed yet.
		f.Certificate = Certificate{}
		f.Application.AgreedCategories, f.Application.ConfirmedCategories = nil, nil
		f.Fields = map[string]string{
			"duties": "负责危险化学品生产、储存、使用、经营企业的安全生产监督管理工作；组织开展危险化学品安全生产执法检查和重大危险源监督检查；" +
				"参与危险化学品生产安全事故应急救援和调查处理。",
			"reason": "该同志所在机构承担危险化学品安全生产监督检查和事故应急处置职责，工作需要持证开展安全生产执法和应急管理执法。",
		}
	case workflow.DocReceipt:
	case workflow.DocInfoChange:
		f.Fields = map[string]string{
			"change":                "转岗",
			"change_on":             "2026-03-10",
			"change_detail":         "由危险化学品安全监督管理处调整至安全生产基础处，仍在执法岗位工作，执法类别和执法区域不变。",
			"due_on":                "2026-04-10",
			"platform_emergency_on": "2026-03-17",
		}
	case workflow.DocSuspensionDecision:
		f.Person, f.Certificate = sampleSuspended, sampleSuspendedCertificate
		f.Decision = Decision{Actor: "刘振华", Date: d("2026-03-18")}
		f.Fields = map[string]string{
			"ground": "转借行政执法证件",
			"facts":  "2026年2月26日，你将本人行政执法证件交由非执法人员在新疆某商贸有限公司的现场检查中出示使用。",
		}
	case workflow.DocSurrenderLetter:
		f.CaseNumber = "650100-2026-0007"
		f.Person, f.Certificate = sampleSuspended, sampleSuspendedCertificate
		f.Decision = Decision{Actor: "刘振华", Date: d("2026-03-18")}
		f.Fields = map[string]string{
			"ground":  "利用行政执法证件谋取私利",
			"facts":   "2025年12月至2026年1月，其多次利用执法检查之机向检查对象索取财物，已移送纪检监察机关处理。",
			"contact": "马丽，0991-5551234",
		}
	case workflow.DocRestorationNotice:
		f.Person, f.Certificate = sampleSuspended, sampleSuspendedCertificate
		f.Decision = Decision{Actor: "刘振华", Date: d("2026-03-18"), Comment: "你已深刻认识错误并完成整改，暂扣的情形已经消除"}
		f.Fields = map[string]string{"suspended_on": "2025-12-10"}
	case workflow.DocReturnReceipt:
		f.Person, f.Certificate = sampleRetiring, sampleRetiringCertificate
		f.Fields = map[string]string{"reason": "退休", "returned_on": "2026-03-16"}
	case workflow.DocCancellationTransmittal:
		f.Person = sampleRetiring
		c := sampleRetiringCertificate
		c.ReturnedOn, c.State = d("2026-03-16"), workflow.CertReturned
		f.Certificate = c
		f.Fields = map[string]string{"reason": "退休", "contact": "马丽，0991-5551234"}
	case workflow.DocDepartureClearance:
		f.Person = sampleRetiring
		justice := sampleRetiringCertificate
		justice.ReturnedOn, justice.State = d("2026-03-16"), workflow.CertReturned
		ministry := Certificate{
			Kind: workflow.KindMinistry, Number: "YJ650000201800271", Issuer: "应急管理部",
			Categories: Categories{workflow.CategorySafety}, Region: "新疆维吾尔自治区",
			IssuedOn: d("2018-09-01"), ValidUntil: d("2028-08-31"), ReturnedOn: d("2026-03-17"), State: workflow.CertReturned,
		}
		f.Certificates = []Certificate{justice, ministry}
		f.Certificate = Certificate{}
		f.Decision = Decision{Comment: "证件已全部交回，同意办理退休手续。", Actor: "周红梅"}
		f.Fields = map[string]string{"reason": "退休", "departure_on": "2026-03-31"}
	case workflow.DocLossReport:
		f.Fields = map[string]string{
			"lost_on":       "2026-03-12",
			"lost_place":    "乌鲁木齐市水磨沟区南湖北路公交车上",
			"circumstances": "2026年3月12日下午，本人乘坐公交车前往检查单位途中，装有行政执法证件的证件夹遗失，经多方寻找未果。",
			"reported_on":   "2026-03-12",
		}
	case workflow.DocLossNotice:
		f.Fields = map[string]string{"medium": "乌鲁木齐晚报", "published_on": "2026-03-15"}
	case workflow.DocReissueApplication:
		f.Fields = map[string]string{
			"lost_on":       "2026-03-12",
			"circumstances": "2026年3月12日下午，持证人乘坐公交车前往检查单位途中遗失证件夹，经多方寻找未果，已于当日报告。",
			"notice_medium": "乌鲁木齐晚报",
			"notice_on":     "2026-03-15",
		}
	case workflow.DocComplaintForm:
		f.CaseNumber = "650100-2026-0031"
		f.Person, f.Certificate = sampleSuspended, sampleSuspendedCertificate
		f.Decision = Decision{Actor: "马丽", Date: d("2026-03-05")}
		f.Fields = map[string]string{
			"type":                "举报",
			"channel":             "来信",
			"received_on":         "2026-03-05",
			"complainant":         "赵某某",
			"complainant_contact": "138****5678",
			"facts": "举报人反映：2026年2月26日，乌鲁木齐市应急管理局执法人员到其所在的新疆某商贸有限公司检查时，" +
				"现场出示行政执法证件的人员与证件照片不符，疑似转借行政执法证件。请求核实并依法处理。",
			"due_on": "2026-05-04",
		}
	case workflow.DocOutcomeNotice:
		f.CaseNumber = "650100-2026-0031"
		f.Person, f.Certificate = sampleSuspended, sampleSuspendedCertificate
		f.Decision = Decision{Actor: "刘振华", Date: d("2026-03-18")}
		f.Fields = map[string]string{
			"complainant": "赵某某",
			"type":        "举报",
			"channel":     "来信",
			"received_on": "2026-03-05",
			"outcome": "经调查核实，你反映的执法人员将行政执法证件转借他人使用的问题属实。本部门已依照《自治区应急管理系统行政执法证件管理办法》" +
				"第十七条的规定暂扣其行政执法证件，并依法依纪对其作出处分。",
		}
	default:
		return Form{Kind: kind}
	}
	return f
}

// sampleID builds a valid 公民身份号码 from region, birth date (YYYYMMDD)
// and a 3-digit sequence (odd: 男, even: 女).
func sampleID(region, birth, seq string) workflow.IDNumber {
	first := region + birth + seq
	return workflow.IDNumber(first + string(workflow.IDCheckChar(first)))
}

func score(v float64) *float64 { return &v }

var (
	sampleCity = Department{
		Name: "乌鲁木齐市应急管理局", RegionCode: "650100",
		LegalOffice: "乌鲁木齐市应急管理局政策法规处", Justice: "乌鲁木齐市司法局",
	}
	sampleCounty = Department{
		Name: "乌鲁木齐县应急管理局", RegionCode: "650121",
		LegalOffice: "乌鲁木齐县应急管理局法制股", Justice: "乌鲁木齐县司法局",
	}
	sampleOfficer = Person{
		Name: "阿依古丽·买买提", Sex: workflow.SexFemale, BirthDate: workflow.MustDate("1988-05-12"),
		IDNumber: sampleID("650102", "19880512", "264"), Title: "一级主任科员",
		Education: workflow.EduBachelor, Major: "化学工程与工艺", Staffed: true, EnforcementPost: true,
		Unit: "乌鲁木齐市应急管理局危险化学品安全监督管理处",
	}
	sampleTrainings = Trainings{
		Emergency:    TrainingResult{Date: workflow.MustDate("2025-11-20"), Passed: true},
		Law:          TrainingResult{Date: workflow.MustDate("2025-12-05"), Passed: true},
		AcademyScore: score(92.5),
	}
	sampleApplication = Application{
		Kind:                workflow.KindEnforcement,
		ProposedCategories:  Categories{workflow.CategorySafety, workflow.CategoryEmergency},
		AgreedCategories:    Categories{workflow.CategorySafety, workflow.CategoryEmergency},
		ConfirmedCategories: Categories{workflow.CategorySafety, workflow.CategoryEmergency},
		Region:              "乌鲁木齐市行政区域",
		Specialities:        "危险化学品安全监管、工贸行业安全监管",
	}
	sampleCertificate = Certificate{
		Kind: workflow.KindEnforcement, Number: "6501002026000318", Issuer: "乌鲁木齐市司法局",
		Categories: Categories{workflow.CategorySafety, workflow.CategoryEmergency}, Region: "乌鲁木齐市行政区域",
		IssuedOn: workflow.MustDate("2026-03-02"), ValidUntil: workflow.MustDate("2031-03-01"),
		ReceivedOn: workflow.MustDate("2026-03-16"), State: workflow.CertReceived,
	}
	sampleSuspended = Person{
		Name: "王建军", Sex: workflow.SexMale, BirthDate: workflow.MustDate("1979-10-03"),
		IDNumber: sampleID("650103", "19791003", "153"), Title: "四级主任科员",
		Education: workflow.EduCollege, Major: "安全工程", Staffed: true, EnforcementPost: true,
		Unit: "乌鲁木齐市应急管理局执法监察支队",
	}
	sampleSuspendedCertificate = Certificate{
		Kind: workflow.KindEnforcement, Number: "6501002022000145", Issuer: "乌鲁木齐市司法局",
		Categories: Categories{workflow.CategorySafety}, Region: "乌鲁木齐市行政区域",
		IssuedOn: workflow.MustDate("2022-06-20"), ValidUntil: workflow.MustDate("2027-06-19"),
		ReceivedOn: workflow.MustDate("2022-06-28"), State: workflow.CertSuspended,
	}
	sampleRetiring = Person{
		Name: "李国庆", Sex: workflow.SexMale, BirthDate: workflow.MustDate("1966-03-21"),
		IDNumber: sampleID("650104", "19660321", "031"), Title: "二级调研员",
		Education: workflow.EduBachelor, Major: "采矿工程", Staffed: true, EnforcementPost: true,
		Unit: "乌鲁木齐市应急管理局非煤矿山安全监督管理处",
	}
	sampleRetiringCertificate = Certificate{
		Kind: workflow.KindEnforcement, Number: "6501002021000087", Issuer: "乌鲁木齐市司法局",
		Categories: Categories{workflow.CategorySafety, workflow.CategoryFire}, Region: "乌鲁木齐市行政区域",
		IssuedOn: workflow.MustDate("2021-04-15"), ValidUntil: workflow.MustDate("2026-04-14"),
		ReceivedOn: workflow.MustDate("2021-04-22"), State: workflow.CertReceived,
	}
)

// sampleTownshipRows are 26 people of the 派出机关 of 乌鲁木齐县: enough for
// the batch list to run onto a second page.
func sampleTownshipRows() []BatchRow {
	people := []struct {
		name, sex, birth, unit, title string
		edu                           workflow.Education
	}{
		{"张伟", "男", "19850214", "水西沟镇人民政府", "应急管理办公室主任", workflow.EduBachelor},
		{"李娜", "女", "19900708", "水西沟镇人民政府", "安全生产监管员", workflow.EduCollege},
		{"艾尔肯·吐尔逊", "男", "19870319", "板房沟镇人民政府", "应急管理办公室主任", workflow.EduBachelor},
		{"刘晓燕", "女", "19921125", "板房沟镇人民政府", "安全生产监管员", workflow.EduBachelor},
		{"努尔兰·别克", "男", "19860602", "永丰镇人民政府", "副镇长", workflow.EduBachelor},
		{"陈静", "女", "19930417", "永丰镇人民政府", "安全生产监管员", workflow.EduCollege},
		{"马福林", "男", "19810923", "托里乡人民政府", "应急管理办公室主任", workflow.EduCollege},
		{"古丽娜尔·阿不都拉", "女", "19950130", "托里乡人民政府", "安全生产监管员", workflow.EduBachelor},
		{"杨建新", "男", "19840812", "甘沟乡人民政府", "应急管理办公室主任", workflow.EduBachelor},
		{"王芳", "女", "19910305", "甘沟乡人民政府", "安全生产监管员", workflow.EduCollege},
		{"哈力木拉提·加帕尔", "男", "19890716", "萨尔达坂乡人民政府", "应急管理办公室主任", workflow.EduBachelor},
		{"赵丽", "女", "19940221", "萨尔达坂乡人民政府", "安全生产监管员", workflow.EduCollege},
		{"周强", "男", "19830504", "水西沟镇人民政府", "综合执法队员", workflow.EduCollege},
		{"孙雪梅", "女", "19961009", "水西沟镇人民政府", "综合执法队员", workflow.EduBachelor},
		{"买买提江·艾力", "男", "19880127", "板房沟镇人民政府", "综合执法队员", workflow.EduCollege},
		{"吴霞", "女", "19921218", "板房沟镇人民政府", "综合执法队员", workflow.EduCollege},
		{"叶尔兰·努尔别克", "男", "19900611", "永丰镇人民政府", "综合执法队员", workflow.EduBachelor},
		{"郑红", "女", "19870829", "永丰镇人民政府", "应急管理办公室副主任", workflow.EduBachelor},
		{"韩军", "男", "19820406", "托里乡人民政府", "综合执法队员", workflow.EduCollege},
		{"阿依努尔·托合提", "女", "19971103", "托里乡人民政府", "综合执法队员", workflow.EduBachelor},
		{"冯志刚", "男", "19850730", "甘沟乡人民政府", "综合执法队员", workflow.EduCollege},
		{"何玉兰", "女", "19930914", "甘沟乡人民政府", "综合执法队员", workflow.EduCollege},
		{"巴合提别克·沙布尔", "男", "19860125", "萨尔达坂乡人民政府", "综合执法队员", workflow.EduBachelor},
		{"许婷", "女", "19950612", "萨尔达坂乡人民政府", "综合执法队员", workflow.EduBachelor},
		{"高永平", "男", "19800318", "经济开发区管理委员会", "安全生产监管员", workflow.EduBachelor},
		{"迪丽努尔·买买提", "女", "19940807", "经济开发区管理委员会", "安全生产监管员", workflow.EduBachelor},
	}
	rows := make([]BatchRow, len(people))
	for i, p := range people {
		seq := 2*i + 1 // odd: 男
		if p.sex == "女" {
			seq = 2*i + 2
		}
		birth := workflow.MustDate(p.birth[:4] + "-" + p.birth[4:6] + "-" + p.birth[6:])
		cats := Categories{workflow.CategorySafety}
		if i%3 == 0 {
			cats = append(cats, workflow.CategoryEmergency)
		}
		remark := ""
		if i == 4 {
			remark = "分管应急"
		}
		rows[i] = BatchRow{
			Person: Person{
				Name: p.name, Sex: workflow.Sex(p.sex), BirthDate: birth,
				IDNumber: sampleID("650121", p.birth, fmt.Sprintf("%03d", 100+seq)),
				Title:    p.title, Education: p.edu, Staffed: true, EnforcementPost: true,
				Unit: "乌鲁木齐县" + p.unit,
			},
			Trainings: Trainings{
				Emergency: TrainingResult{Date: workflow.MustDate("2025-10-24"), Passed: true},
				Law:       TrainingResult{Date: workflow.MustDate("2025-11-14"), Passed: true},
			},
			Categories: cats,
			Remark:     remark,
		}
	}
	return rows
}
