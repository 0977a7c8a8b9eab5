package documents

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"certflow/workflow"
)

// A township batch (workflow.PathTownshipBatch, Art. 5) has one document,
// its 申领汇总表, and what is stored for it is what the clerk prints, has
// signed and sealed, and files: the summary list followed, person by
// person in the list's order, by the forms of their application. The
// forms are the stored PDFs of those cases, byte for byte (pdfcpu merges
// them), not new renderings: the bundle shows what each case recorded.

// BatchForms are the documents of each application that follow the
// summary list, in this order: the latest of each kind.
var BatchForms = []workflow.DocKind{workflow.DocRegistrationForm, workflow.DocCategoryProposal}

// errBatchWaiting: a form of the batch is still pending; the job retries.
var errBatchWaiting = errors.New("documents: batch: a form is not rendered yet")

// batchData decodes a batch case's data.
func batchData(c workflow.Case) (workflow.BatchData, error) {
	var d workflow.BatchData
	if err := json.Unmarshal(c.Data, &d); err != nil {
		return d, fmt.Errorf("%w: batch %s: case data: %v", ErrInvalidForm, c.Number, err)
	}
	return d, nil
}

// batchRows fills the rows of the list from the batch's applications.
func batchRows(ctx context.Context, tx workflow.Tx, batch workflow.Case, f *Form) error {
	d, err := batchData(batch)
	if err != nil {
		return err
	}
	f.Rows = make([]BatchRow, 0, len(d.Applications))
	for _, id := range d.Applications {
		cc, err := tx.CaseContext(ctx, id)
		if err != nil {
			return fmt.Errorf("documents: batch %s: application %d: %w", batch.Number, id, err)
		}
		trs, err := tx.Trainings(ctx, cc.Person.ID)
		if err != nil {
			return err
		}
		var app workflow.ApplicationData
		_ = json.Unmarshal(cc.Case.Data, &app)
		// What the county applies for: what the principal leader agreed
		// to, once agreed (Art. 6), else what the legal office proposed.
		cats := app.AgreedCategories
		if len(cats) == 0 {
			cats = app.ProposedCategories
		}
		f.Rows = append(f.Rows, BatchRow{Person: PersonOf(cc.Person, cc.Unit.Name), Trainings: TrainingsOf(trs), Categories: Categories(cats)})
	}
	return nil
}

// batchNote follows the list's own note that a 登记表 is attached for
// each person.
const batchNote = "每名人员同时附《执法类别建议审批表》（《办法》第六条第二款）。"

// batchAttachments returns the stored PDFs that follow the summary list of
// batch case caseID: for each application, in order, the latest document of each of
// BatchForms. A form still pending is errBatchWaiting (retry); a form that
// failed, is missing, or whose stored bytes are lost is an error no retry
// mends (final), naming the case and the form.
func batchAttachments(ctx context.Context, engine *workflow.Engine, caseID int64) (pdfs [][]byte, final bool, err error) {
	err = engine.Store().View(ctx, func(tx workflow.Tx) error {
		batch, err := tx.Case(ctx, caseID)
		if err != nil {
			return err
		}
		d, err := batchData(batch)
		if err != nil {
			final = true
			return err
		}
		dt, err := workflow.Documents(tx)
		if err != nil {
			return err
		}
		var waiting []string
		for _, id := range d.Applications {
			c, err := tx.Case(ctx, id)
			if err != nil {
				final = true
				return fmt.Errorf("documents: batch %s: application %d: %w", batch.Number, id, err)
			}
			docs, err := dt.DocumentsOf(ctx, id, 0)
			if err != nil {
				return err
			}
			for _, kind := range BatchForms {
				var latest *workflow.Document
				for i := range docs {
					if docs[i].Kind == kind {
						latest = &docs[i]
					}
				}
				title := string(kind)
				if k, ok := workflow.DocumentKindOf(kind); ok {
					title = k.Title
				}
				switch {
				case latest == nil:
					final = true
					return fmt.Errorf("documents: batch %s: application %s has no %s", batch.Number, c.Number, title)
				case latest.State == workflow.DocFailed:
					final = true
					return fmt.Errorf("documents: batch %s: the %s of application %s (document %d) failed to render (%s): rerender it, then this batch",
						batch.Number, title, c.Number, latest.ID, latest.Error)
				case latest.State != workflow.DocRendered:
					waiting = append(waiting, fmt.Sprintf("%s of %s (document %d)", title, c.Number, latest.ID))
					continue
				}
				pdf, err := StoredPDF(ctx, tx, *latest)
				if err != nil {
					final = errors.Is(err, ErrContentLost)
					return fmt.Errorf("documents: batch %s: %w", batch.Number, err)
				}
				pdfs = append(pdfs, pdf)
			}
		}
		if waiting != nil {
			return fmt.Errorf("%w: %s", errBatchWaiting, strings.Join(waiting, ", "))
		}
		return nil
	})
	return pdfs, final, err
}
