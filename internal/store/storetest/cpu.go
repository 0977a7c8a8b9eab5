package storetest

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// machineCPU returns the CPU time every process on the machine has used
// since boot, in clock ticks (USER_HZ, 100 per second on Linux), and
// false where /proc/stat cannot be read. A benchmark that also loads a
// database server on the same machine divides its difference by the
// operations done: CPU per operation, what bounds throughput on a shared
// machine, varies far less between runs than wall time does.
func machineCPU() (int64, bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, false
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0, false
	}
	var busy int64
	for i, v := range f[1:8] { // user nice system idle iowait irq softirq
		if i == 3 || i == 4 {
			continue // idle, iowait
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, false
		}
		busy += n
	}
	return busy, true
}

// processCPU is the CPU time this process has used, user and system.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
