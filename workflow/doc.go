// Package workflow is certflow's domain and engine: org units, people,
// trainings, certificates, cases, tasks and events, the certificate paths of
// 《自治区应急管理系统行政执法证件管理办法》 as data (one table per path, run by
// github.com/looplab/fsm), the guards that cite the regulation's articles, and
// Engine.Fire, which runs one command in one transaction.
//
// The package imports no other certflow package. Stores implement Store; the
// HTTP API and the binary call Engine.
//
// Article references follow ../shared/regulation/rules.md: "Art. 9(1)(4)" is
// article 9, first set of conditions, item (4).
package workflow
