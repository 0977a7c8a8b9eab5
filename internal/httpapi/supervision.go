package httpapi

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"certflow/workflow"
)

func caseID(c workflow.Case) int64 { return c.ID }

// listCases lists the cases the caller reaches, filtered.
func (a *api) listCases(w http.ResponseWriter, r *http.Request) {
	var f workflow.CaseFilter
	var err error
	if f.PersonID, err = queryID(r, "person_id"); err != nil {
		a.writeError(w, r, err)
		return
	}
	if f.CertificateID, err = queryID(r, "certificate_id"); err != nil {
		a.writeError(w, r, err)
		return
	}
	var names []workflow.PathName
	for _, p := range a.engine.Paths() {
		names = append(names, p.Name)
	}
	if f.Path, err = oneOf(r, "path", names); err != nil {
		a.writeError(w, r, err)
		return
	}
	state, err := queryOne(r, "state")
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	f.State = workflow.State(state)
	if f.After, f.Limit, err = cursor(r); err != nil {
		a.writeError(w, r, err)
		return
	}
	cases, err := a.engine.Cases(r.Context(), actor(r.Context()), f)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, newPage(cases, f.Limit, caseID))
}

// departureBlockers answers "who blocks a departure" (Art. 18), for the
// caller's scope or one person.
func (a *api) departureBlockers(w http.ResponseWriter, r *http.Request) {
	person, err := queryID(r, "person_id")
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	bs, err := a.engine.DepartureBlockers(r.Context(), actor(r.Context()), person)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, struct {
		Items []workflow.DepartureBlocker `json:"items"`
	}{bs})
}

// overdueList is the overdue answer: the tasks and the counts by org unit
// and kind.
type overdueList struct {
	Items     []workflow.OverdueTask  `json:"items"`
	Counts    []workflow.OverdueCount `json:"counts"`
	NextAfter *int64                  `json:"next_after,omitempty"`
}

func (a *api) overdue(w http.ResponseWriter, r *http.Request) {
	unit, err := queryID(r, "org_unit_id")
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	after, limit, err := cursor(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	tasks, counts, err := a.engine.Overdue(r.Context(), actor(r.Context()), unit, after, limit)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	p := newPage(tasks, limit, func(t workflow.OverdueTask) int64 { return t.ID })
	a.writeJSON(w, r, http.StatusOK, overdueList{Items: p.Items, Counts: counts, NextAfter: p.NextAfter})
}

// platformExport downloads the Art. 14 fields of the chosen people as
// .xlsx (default) or CSV, for entry into the two platforms.
func (a *api) platformExport(w http.ResponseWriter, r *http.Request) {
	var ids []int64
	given, err := queryAll(r, "person_id")
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	for _, s := range given {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id <= 0 {
			a.writeError(w, r, workflow.Invalid("person_id", fmt.Sprintf("%q is not an ID", s)))
			return
		}
		ids = append(ids, id)
	}
	format, err := queryOne(r, "format")
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if format == "" {
		format = "xlsx"
	}
	if format != "xlsx" && format != "csv" {
		a.writeError(w, r, workflow.Invalid("format", "xlsx or csv"))
		return
	}
	rows, err := a.engine.PlatformExport(r.Context(), actor(r.Context()), ids)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	var body bytes.Buffer
	contentType := "text/csv; charset=utf-8"
	if format == "csv" {
		body.WriteString("\ufeff") // so that Excel reads UTF-8
		cw := csv.NewWriter(&body)
		_ = cw.Write(workflow.PlatformHeader)
		for _, row := range rows {
			cells := row.Cells()
			for i := range cells {
				cells[i] = csvSafe(cells[i])
			}
			_ = cw.Write(cells)
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			a.writeError(w, r, err)
			return
		}
	} else {
		contentType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
		if err := writeXLSX(&body, rows); err != nil {
			a.writeError(w, r, err)
			return
		}
	}
	name := fmt.Sprintf("执法人员信息录入-%s.%s", a.engine.Now().In(chinaTime).Format("20060102"), format)
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="platform-export.%s"; filename*=UTF-8''%s`, format, url.PathEscape(name)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body.Bytes())
}

var chinaTime = time.FixedZone("CST", 8*3600)

// csvSafe keeps a spreadsheet from reading a cell as a formula (a name
// entered as =HYPERLINK(…) or =cmd|…): a cell that begins with = + - @ or
// a tab or carriage return gets a leading apostrophe, as OWASP advises. The
// xlsx export stores strings as strings and needs none.
func csvSafe(cell string) string {
	if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
		return "'" + cell
	}
	return cell
}

func writeXLSX(buf *bytes.Buffer, rows []workflow.PlatformRow) error {
	f := excelize.NewFile()
	defer f.Close()
	sheet := "执法人员信息"
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	write := func(r int, cells []string) error {
		for c, v := range cells {
			cell, err := excelize.CoordinatesToCellName(c+1, r)
			if err != nil {
				return err
			}
			if err := f.SetCellStr(sheet, cell, v); err != nil {
				return err
			}
		}
		return nil
	}
	if err := write(1, workflow.PlatformHeader); err != nil {
		return err
	}
	for i, row := range rows {
		if err := write(i+2, row.Cells()); err != nil {
			return err
		}
	}
	_ = f.SetColWidth(sheet, "A", "P", 14)
	return f.Write(buf)
}
