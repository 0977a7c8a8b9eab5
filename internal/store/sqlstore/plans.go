package sqlstore

import "certflow/workflow"

// An IndexedStatement is a statement every transition runs and the
// indexes it is written for: its plan must use one of them.
type IndexedStatement struct {
	Name, SQL string
	Indexes   []string
}

// casesOfCertificate and casesOfPerson are ListCases's statements for the
// cases about one certificate, and about one person.
var (
	casesOfCertificate, _ = listCasesSQL(workflow.CaseFilter{Scope: workflow.Scope{All: true}, Path: workflow.PathSuspension, CertificateID: 1})
	casesOfPerson, _      = listCasesSQL(workflow.CaseFilter{Scope: workflow.Scope{All: true}, Path: workflow.PathRetention, PersonID: 1})
)

// IndexedStatements are the hot statements whose plan must not depend on
// table statistics. A planner that has none — a fresh database, a table
// still empty or never analyzed — weighs indexes on guessed sizes, and
// PostgreSQL keeps the generic plan it makes then for the connection's
// life (until an ANALYZE invalidates it): a wrong pick there scans a
// growing index on every transition (sqlCloseTasks). The stores' tests
// explain each statement on a fresh database and require one of its
// indexes.
func IndexedStatements() []IndexedStatement {
	return []IndexedStatement{
		{"sqlCloseTasks", sqlCloseTasks, []string{"tasks_case"}},
		// A certificate has as few tasks as a case.
		{"sqlCloseCertificateTasks", sqlCloseCertificateTasks, []string{"tasks_case", "tasks_certificate"}},
		{"sqlCaseTasks", sqlCaseTasks, []string{"tasks_case"}},
		// The cases about a certificate (Path.OneOpen, EventDef.Follows).
		{"ListCases by certificate", casesOfCertificate, []string{"cases_certificate"}},
		// The cases about a person (Path.OneOpen, EventDef.Follows).
		{"ListCases by person", casesOfPerson, []string{"cases_person"}},
	}
}
