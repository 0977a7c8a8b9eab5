package workflow

// complaintPath is the complaint path (Art. 20). Placeholder: being written.
func complaintPath() Path { return Path{} }
