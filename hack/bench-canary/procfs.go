package main

import (
	"github.com/sluicemesh/sluice/hack/procmem"

	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicksPerSecond is USER_HZ, the unit of utime and stime in
// /proc/<pid>/stat: 100 by the Linux ABI, so no sysconf (and no cgo).
const clockTicksPerSecond = 100

// parseCPU returns utime+stime from /proc/<pid>/stat text. The command name
// is in parentheses and may hold spaces, so fields count from the last ')'.
func parseCPU(text string) (time.Duration, error) {
	end := strings.LastIndexByte(text, ')')
	if end < 0 {
		return 0, fmt.Errorf("stat %q: no command name", text)
	}
	// After ")": field 3 (state) onwards, numbered as in proc(5).
	fields := strings.Fields(text[end+1:])
	const state, utime, stime = 3, 14, 15
	if len(fields) < stime-state+1 {
		return 0, fmt.Errorf("stat: %d fields after the name, want at least %d", len(fields), stime-state+1)
	}
	var ticks int64
	for _, f := range []int{utime, stime} {
		n, err := strconv.ParseInt(fields[f-state], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("stat field %d: %w", f, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicksPerSecond, nil
}

// processSample is the manager's CPU and memory at one instant.
type processSample struct {
	at  time.Time
	cpu time.Duration
	mem procmem.Memory
}

func sampleProcess(pid int) (processSample, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return processSample{}, err
	}
	cpu, err := parseCPU(string(stat))
	if err != nil {
		return processSample{}, err
	}
	mem, err := procmem.Read(pid)
	return processSample{at: time.Now(), cpu: cpu, mem: mem}, err
}
