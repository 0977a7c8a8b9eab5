package tune

import (
	"runtime/debug"
	"testing"
)

func TestGC(t *testing.T) {
	limit, percent := debug.SetMemoryLimit(-1), debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetMemoryLimit(limit); debug.SetGCPercent(percent) })

	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	if !GC() {
		t.Fatal("GC did not set the runtime with neither GOGC nor GOMEMLIMIT set")
	}
	if got := debug.SetMemoryLimit(-1); got != DefaultHeap {
		t.Fatalf("memory limit %d, want %d", got, DefaultHeap)
	}
	if got := debug.SetGCPercent(-1); got != -1 {
		t.Fatalf("GC percent %d, want off (-1)", got)
	}

	for _, env := range []string{"GOGC", "GOMEMLIMIT"} {
		debug.SetGCPercent(100)
		debug.SetMemoryLimit(1 << 40)
		t.Setenv(env, "200")
		if GC() {
			t.Fatalf("GC overrode the operator's %s", env)
		}
		if got := debug.SetGCPercent(100); got != 100 {
			t.Fatalf("with %s set, GC percent changed to %d", env, got)
		}
		t.Setenv(env, "")
	}
}
