package workflow

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// PlatformRow is one officer's line for the Art. 14 platforms: (1) name,
// sex, age, 职务, education and major; (2) certificate kind, number and
// validity; (3) both trainings; (4) region; (5) specialities.
type PlatformRow struct {
	Name          string `json:"name"`
	Sex           Sex    `json:"sex"`
	Age           int    `json:"age"`
	Title         string `json:"title"`
	Education     string `json:"education"`
	Major         string `json:"major"`
	Kind          string `json:"certificate_kind"`
	Number        string `json:"certificate_number"`
	ValidUntil    Date   `json:"valid_until"`
	Emergency     string `json:"emergency_training"`
	Law           string `json:"law_training"`
	AcademyScore  string `json:"academy_score"`
	Region        string `json:"region"`
	Specialities  string `json:"specialities"`
	Categories    string `json:"categories"`
	UnitName      string `json:"unit"`
	CertificateID int64  `json:"certificate_id"`
}

// PlatformHeader is the header row of the export, in the order of PlatformRow.Cells.
var PlatformHeader = []string{"姓名", "性别", "年龄", "职务", "学历", "专业", "执法证件类别", "证件编号", "有效期至",
	"应急管理业务培训", "综合法律知识培训", "网络学院成绩", "执法区域", "擅长执法领域", "执法类别", "所在单位"}

// Cells returns the row's values in PlatformHeader's order.
func (r PlatformRow) Cells() []string {
	return []string{r.Name, string(r.Sex), fmt.Sprint(r.Age), r.Title, r.Education, r.Major, r.Kind, r.Number, r.ValidUntil.String(),
		r.Emergency, r.Law, r.AcademyScore, r.Region, r.Specialities, r.Categories, r.UnitName}
}

func trainingText(ts []Training, k TrainingKind) string {
	last := ""
	for _, t := range ts {
		if t.Kind == k {
			if t.Passed {
				last = t.Date.String() + " 合格"
			} else if last == "" {
				last = t.Date.String() + " 不合格"
			}
		}
	}
	if last == "" {
		return "未参加"
	}
	return last
}

// PlatformExport returns the Art. 14 fields of the chosen people's
// certificates in use (received or suspended), for the clerk to enter into
// the platforms. People out of actor's reach are not found.
func (e *Engine) PlatformExport(ctx context.Context, actor *Actor, personIDs []int64) ([]PlatformRow, error) {
	if len(personIDs) == 0 {
		return nil, Invalid("person_id", "choose at least one person")
	}
	if len(personIDs) > 1000 {
		return nil, Invalid("person_id", "at most 1000 people per export")
	}
	today := e.today(e.Now())
	var rows []PlatformRow
	err := e.store.View(ctx, func(tx Tx) error {
		for _, id := range personIDs {
			p, err := e.visiblePerson(ctx, tx, actor, id)
			if err != nil {
				return err
			}
			unit, err := tx.OrgUnit(ctx, p.OrgUnitID)
			if err != nil {
				return err
			}
			trs, err := tx.Trainings(ctx, id)
			if err != nil {
				return err
			}
			certs, err := tx.CertificatesOf(ctx, id)
			if err != nil {
				return err
			}
			score := ""
			for _, t := range trs {
				if t.Kind == TrainingAcademy && t.Score != nil {
					score = fmt.Sprintf("%g", *t.Score)
				}
			}
			for _, c := range certs {
				if c.State != CertReceived && c.State != CertSuspended {
					continue
				}
				row := PlatformRow{Name: p.Name, Sex: p.Sex, Age: Age(p.BirthDate, today), Title: p.Title, Education: string(p.Education), Major: p.Major,
					Kind: c.Kind.Label(), Number: c.Number, ValidUntil: c.ValidUntil, Emergency: trainingText(trs, TrainingEmergency),
					Law: trainingText(trs, TrainingLaw), AcademyScore: score, Region: c.Region, UnitName: unit.Name, CertificateID: c.ID}
				cats := make([]string, len(c.Categories))
				for i, cat := range c.Categories {
					cats[i] = string(cat)
				}
				row.Categories = strings.Join(cats, "、")
				if app, err := tx.Case(ctx, c.CaseID); err == nil {
					var d ApplicationData
					if json.Unmarshal(app.Data, &d) == nil {
						row.Specialities = d.Specialities
					}
				}
				rows = append(rows, row)
			}
		}
		return nil
	})
	return rows, err
}
