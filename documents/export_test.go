package documents

// The helpers of the internal tests, for the external ones (package
// documents_test), which drive real stores and jobs.
var (
	NeedChromium    = needChromium
	PDFText         = pdfText
	PDFPages        = pdfPages
	CheckFonts      = checkFonts
	CheckLineStarts = checkLineStarts
	LineDiff        = lineDiff
	UpdateGolden    = update
)
