package workflow

// AllPaths returns the table of every path certflow runs, in display order.
func AllPaths() []Path {
	all := []Path{
		applicationPath(FamilyJustice),
		applicationPath(FamilyMinistry),
		platformPath(),
		hrNoticePath(),
		suspensionPath(),
		departurePath(),
		cancellationPath(FamilyJustice),
		cancellationPath(FamilyMinistry),
		lossPath(),
		complaintPath(),
	}
	// TEMPORARY while loss and complaint are being written: skip empty tables.
	out := all[:0]
	for _, p := range all {
		if p.Name != "" {
			out = append(out, p)
		}
	}
	return out
}
