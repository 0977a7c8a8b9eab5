package workflow

// AllPaths returns the table of every path certflow runs, in display order.
func AllPaths() []Path {
	all := []Path{
		applicationPath(FamilyJustice),
		applicationPath(FamilyMinistry),
		platformPath(),
		retentionPath(),
		hrNoticePath(),
		suspensionPath(),
		departurePath(),
		cancellationPath(FamilyJustice),
		cancellationPath(FamilyMinistry),
		lossPath(),
		ministryLossPath(),
		complaintPath(),
		townshipBatchPath(),
	}
	return all
}
