// Package demo loads a small, realistic data set: an org tree from 自治区
// down to a street office, officers who do and do not meet Art. 9 and
// Art. 10, and one user per role with a known token and password, so a
// newcomer can walk every step of the application path at once, by API or
// on the web. Tests use the same data.
package demo

import (
	"context"
	"fmt"
	"time"

	"certflow/internal/auth"
	"certflow/workflow"
)

// Data names what Load created.
type Data struct {
	Units  map[string]int64 // by short key: "region", "urumqi", "tianshan", ...
	People map[string]int64 // by short key: "zhangwei", ...
	Users  map[string]User  // by login name: "clerk", "leader", ...
}

// User is a demo user and their token.
type User struct {
	ID    int64
	Token string
	Roles string // for the listing `serve --demo` prints
}

type unitSpec struct {
	key, parent string
	kind        workflow.UnitKind
	level       workflow.Level
	name        string
	region      string
}

var units = []unitSpec{
	{"region", "", workflow.UnitDepartment, workflow.LevelRegion, "新疆维吾尔自治区应急管理厅", "650000"},
	{"region.leadership", "region", workflow.UnitLeadership, "", "厅领导班子", ""},
	{"region.legal", "region", workflow.UnitLegal, "", "政策法规处", ""},
	{"region.hr", "region", workflow.UnitHR, "", "人事处", ""},
	{"region.business", "region", workflow.UnitBusiness, "", "安全生产执法局", ""},
	{"region.institution", "region", workflow.UnitInstitution, "", "自治区安全生产应急救援中心", ""},
	{"urumqi", "region", workflow.UnitDepartment, workflow.LevelPrefecture, "乌鲁木齐市应急管理局", "650100"},
	{"urumqi.leadership", "urumqi", workflow.UnitLeadership, "", "局领导班子", ""},
	{"urumqi.legal", "urumqi", workflow.UnitLegal, "", "政策法规科", ""},
	{"urumqi.business", "urumqi", workflow.UnitBusiness, "", "安全生产执法支队", ""},
	{"tianshan", "urumqi", workflow.UnitDepartment, workflow.LevelCounty, "乌鲁木齐市天山区应急管理局", "650102"},
	{"tianshan.leadership", "tianshan", workflow.UnitLeadership, "", "局领导班子", ""},
	{"tianshan.legal", "tianshan", workflow.UnitLegal, "", "法制股", ""},
	{"tianshan.hr", "tianshan", workflow.UnitHR, "", "办公室（人事）", ""},
	{"tianshan.business", "tianshan", workflow.UnitBusiness, "", "安全生产执法大队", ""},
	{"tianshan.institution", "tianshan", workflow.UnitInstitution, "", "天山区应急管理服务中心", ""},
	{"yanerwo", "tianshan", workflow.UnitTownship, "", "天山区燕儿窝街道办事处", ""},
	{"yili", "region", workflow.UnitDepartment, workflow.LevelPrefecture, "伊犁哈萨克自治州应急管理局", "654000"},
	{"tacheng", "yili", workflow.UnitDepartment, workflow.LevelPrefecture, "塔城地区应急管理局", "654200"},
	{"tacheng.legal", "tacheng", workflow.UnitLegal, "", "政策法规科", ""},
	{"tacheng.business", "tacheng", workflow.UnitBusiness, "", "安全生产执法支队", ""},
}

type personSpec struct {
	key, unit, name, idPrefix string
	birth                     string
	title                     string
	edu                       workflow.Education
	major                     string
	staffed, post             bool
	emergency, law            bool
	academy                   float64
}

// People cover each Art. 9 / Art. 10 / Art. 5 outcome; the comment says
// what the application path will answer for them.
var people = []personSpec{
	{"zhangwei", "tianshan.business", "张伟", "650102", "1985-03-12", "执法大队副大队长", workflow.EduBachelor, "安全工程", true, true, true, true, 92}, // eligible, 行政执法证
	{"lina", "tianshan.legal", "李娜", "650102", "1990-07-08", "法制股股长", workflow.EduMaster, "法学", true, true, true, true, 88},               // eligible, 执法监督证
	{"wangqiang", "tianshan.business", "王强", "650102", "1979-11-30", "科员", workflow.EduSecondary, "化工工艺", true, true, true, true, 75},     // Art. 9(1)(4) education
	{"liuyang", "tianshan.business", "刘洋", "650102", "1993-01-31", "科员", workflow.EduCollege, "消防工程", true, true, true, false, 81},        // Art. 9(1)(3) no law training
	{"chenjing", "yanerwo", "陈静", "650102", "1995-05-20", "应急管理办公室干事", workflow.EduCollege, "行政管理", true, true, false, true, 0},           // Art. 10 / 9(1)(2) township, untrained
	{"zhaolei", "yanerwo", "赵磊", "650102", "1988-09-09", "应急管理办公室主任", workflow.EduBachelor, "公共管理", true, true, true, true, 85},           // eligible township, 行政执法证
	{"sunli", "tianshan.institution", "孙丽", "650102", "1996-02-29", "聘用人员", workflow.EduBachelor, "环境工程", false, true, true, true, 90},    // Art. 9(1)(1) not 在编
	{"zhoujie", "region.business", "周杰", "650000", "1982-12-01", "执法局二级调研员", workflow.EduBachelor, "采矿工程", true, true, true, true, 95},    // eligible, also Ministry
	{"maxin", "tianshan.hr", "马欣", "650102", "1991-04-16", "人事专员", workflow.EduBachelor, "人力资源管理", true, false, true, true, 70},           // Art. 5: HR staff get no justice certificate
	{"aili", "tacheng.business", "艾力", "654200", "1987-06-18", "执法支队科员", workflow.EduBachelor, "安全工程", true, true, true, true, 80},        // another region
}

type userSpec struct {
	name   string
	person string
	roles  [][2]string // role, unit key
}

var users = []userSpec{
	{"clerk", "", [][2]string{{"legal_clerk", "tianshan"}}},
	{"leader", "", [][2]string{{"principal_leader", "tianshan"}}},
	{"deputy", "", [][2]string{{"principal_leader", "tianshan"}}},
	{"clerk-leader", "", [][2]string{{"legal_clerk", "tianshan"}, {"principal_leader", "tianshan"}}},
	{"justice", "", [][2]string{{"justice_liaison", "tianshan"}}},
	{"hr", "", [][2]string{{"hr", "tianshan"}}},
	{"officer", "zhangwei", [][2]string{{"officer", "tianshan"}}},
	{"lina", "lina", [][2]string{{"legal_clerk", "tianshan"}}},
	{"supervisor", "", [][2]string{{"supervisor", "urumqi"}}},
	{"city-clerk", "", [][2]string{{"legal_clerk", "urumqi"}}},
	{"region-hr", "", [][2]string{{"hr", "region"}}},
	{"region-leader", "", [][2]string{{"principal_leader", "region"}}},
	{"region-clerk", "", [][2]string{{"legal_clerk", "region"}}},
	{"tacheng-clerk", "", [][2]string{{"legal_clerk", "tacheng"}}},
	{"admin", "", [][2]string{{"admin", "region"}}},
}

// Token is the known demo token of user name.
func Token(name string) string { return "demo-" + name }

// Password is the known demo password of user name, for the web login.
func Password(name string) string { return "demo-" + name + "-password" }

// passwordParams hash the demo passwords cheaply: they are published above,
// so their hashes protect nothing, and every conformance test loads the
// demo data. The first login rehashes with the server's parameters.
var passwordParams = auth.Params{Time: 1, Memory: 1024, Threads: 1, SaltLen: 16, KeyLen: 32}

// idNumber builds a valid 公民身份号码 from a region code, a birth date and
// a sequence (odd: 男).
func idNumber(region, birth string, seq int) workflow.IDNumber {
	d := workflow.MustDate(birth)
	first17 := fmt.Sprintf("%s%04d%02d%02d%03d", region, d.Year, d.Month, d.Day, seq)
	return workflow.IDNumber(first17 + string(workflow.IDCheckChar(first17)))
}

var female = map[string]bool{"lina": true, "chenjing": true, "sunli": true, "maxin": true}

// Load creates the demo data set in store. Training dates lie before today.
func Load(ctx context.Context, store workflow.Store, today workflow.Date) (*Data, error) {
	d := &Data{Units: map[string]int64{}, People: map[string]int64{}, Users: map[string]User{}}
	err := store.Update(ctx, func(tx workflow.Tx) error {
		for _, u := range units {
			ou := workflow.OrgUnit{ParentID: d.Units[u.parent], Kind: u.kind, Level: u.level, Name: u.name, Region: u.region}
			if err := tx.CreateOrgUnit(ctx, &ou); err != nil {
				return fmt.Errorf("demo: unit %s: %w", u.key, err)
			}
			d.Units[u.key] = ou.ID
		}
		for i, p := range people {
			seq := 11 + 2*i // odd: 男
			if female[p.key] {
				seq++
			}
			id := idNumber(p.idPrefix, p.birth, seq)
			person := workflow.Person{
				Name: p.name, Sex: id.Sex(), BirthDate: id.BirthDate(), IDNumber: id, Title: p.title, Education: p.edu, Major: p.major,
				Staffed: p.staffed, Post: p.post, OrgUnitID: d.Units[p.unit], Employment: workflow.EmploymentActive,
			}
			if err := tx.CreatePerson(ctx, &person); err != nil {
				return fmt.Errorf("demo: person %s: %w", p.key, err)
			}
			d.People[p.key] = person.ID
			trained := today.AddMonths(-8)
			add := func(kind workflow.TrainingKind, passed bool, score *float64, topics []int) error {
				return tx.CreateTraining(ctx, &workflow.Training{PersonID: person.ID, Kind: kind, Date: trained, Passed: passed, Score: score, Topics: topics})
			}
			if err := add(workflow.TrainingEmergency, p.emergency, nil, []int{1, 2, 3, 7, 10}); err != nil {
				return err
			}
			if p.law {
				if err := add(workflow.TrainingLaw, true, nil, nil); err != nil {
					return err
				}
			}
			if p.academy > 0 {
				score := p.academy
				if err := add(workflow.TrainingAcademy, true, &score, nil); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, u := range users {
		var roles []workflow.RoleBinding
		desc := ""
		for _, r := range u.roles {
			roles = append(roles, workflow.RoleBinding{Role: workflow.Role(r[0]), OrgUnitID: d.Units[r[1]]})
			if desc != "" {
				desc += ", "
			}
			desc += r[0] + "@" + unitName(r[1])
		}
		hash, err := auth.HashPassword(Password(u.name), passwordParams)
		if err != nil {
			return nil, err
		}
		id, token, err := auth.CreateUser(ctx, store, auth.NewUser{Name: u.name, PersonID: d.People[u.person], Roles: roles,
			Token: Token(u.name), PasswordHash: hash})
		if err != nil {
			return nil, fmt.Errorf("demo: user %s: %w", u.name, err)
		}
		d.Users[u.name] = User{ID: id, Token: token, Roles: desc}
	}
	return d, nil
}

func unitName(key string) string {
	for _, u := range units {
		if u.key == key {
			return u.name
		}
	}
	return key
}

// Actor loads the actor of demo user name.
func (d *Data) Actor(ctx context.Context, store workflow.Store, name string) (*workflow.Actor, error) {
	return auth.Authenticate(ctx, store, d.Users[name].Token, time.Now())
}

// UserNames lists the demo users in a stable order.
func UserNames() []string {
	out := make([]string, len(users))
	for i, u := range users {
		out[i] = u.name
	}
	return out
}
