package main

import (
	"bufio"
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

// memory is resident memory from /proc/<pid>/status, in bytes.
type memory struct {
	rss  int64 // VmRSS: resident now
	peak int64 // VmHWM: the highest VmRSS since the process started
}

// parseMemory reads VmRSS and VmHWM from /proc/<pid>/status text.
func parseMemory(text string) (memory, error) {
	var m memory
	found := 0
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), ":")
		if !ok || (key != "VmRSS" && key != "VmHWM") {
			continue
		}
		fields := strings.Fields(value)
		if len(fields) != 2 || fields[1] != "kB" {
			return memory{}, fmt.Errorf("status %s: unexpected value %q", key, value)
		}
		kb, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return memory{}, fmt.Errorf("status %s: %w", key, err)
		}
		if key == "VmRSS" {
			m.rss = kb * 1024
		} else {
			m.peak = kb * 1024
		}
		found++
	}
	if found != 2 {
		return memory{}, fmt.Errorf("status: VmRSS or VmHWM missing")
	}
	return m, nil
}

// processSample is the manager's CPU and memory at one instant.
type processSample struct {
	at  time.Time
	cpu time.Duration
	mem memory
}

func sampleProcess(pid int) (processSample, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return processSample{}, err
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return processSample{}, err
	}
	cpu, err := parseCPU(string(stat))
	if err != nil {
		return processSample{}, err
	}
	mem, err := parseMemory(string(status))
	return processSample{at: time.Now(), cpu: cpu, mem: mem}, err
}
