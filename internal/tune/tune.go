// Package tune sets the Go runtime up for certflow's server: many small
// requests, a live heap of a few megabytes, and latency that matters.
package tune

import (
	"os"
	"runtime/debug"
)

// DefaultHeap is the heap size at which GC collects (GOMEMLIMIT), when the
// operator has not chosen GOGC or GOMEMLIMIT.
const DefaultHeap = 256 << 20

// GC makes the collector run when the heap reaches DefaultHeap instead of
// whenever it doubles. certflow's live heap is a few megabytes, so with
// the default GOGC=100 the collector ran every 16 ms under load, and a
// request that met it took three to four times its median (the p99 of
// the PostgreSQL inbox and overdue benchmarks). Should the live heap ever
// near the limit, the runtime caps the collector at about half the CPU
// rather than let memory grow past it. An operator's GOGC or GOMEMLIMIT
// wins: GC then changes nothing. It reports whether it set the runtime.
func GC() bool {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return false
	}
	debug.SetMemoryLimit(DefaultHeap)
	debug.SetGCPercent(-1)
	return true
}
