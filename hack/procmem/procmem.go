// Package procmem reads a process's resident memory from /proc, for the
// benchmark commands that report RSS beside their goals.
package procmem

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Memory is resident memory from /proc/<pid>/status, in bytes.
type Memory struct {
	RSS  int64 // VmRSS: resident now
	Peak int64 // VmHWM: the highest VmRSS since the process started
}

// Read reads the memory of process pid.
func Read(pid int) (Memory, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return Memory{}, err
	}
	return ParseStatus(string(data))
}

// ParseStatus reads VmRSS and VmHWM from /proc/<pid>/status text.
func ParseStatus(text string) (Memory, error) {
	var m Memory
	found := 0
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), ":")
		if !ok || (key != "VmRSS" && key != "VmHWM") {
			continue
		}
		fields := strings.Fields(value)
		if len(fields) != 2 || fields[1] != "kB" {
			return Memory{}, fmt.Errorf("status %s: unexpected value %q", key, value)
		}
		kb, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return Memory{}, fmt.Errorf("status %s: %w", key, err)
		}
		if key == "VmRSS" {
			m.RSS = kb * 1024
		} else {
			m.Peak = kb * 1024
		}
		found++
	}
	if found != 2 {
		return Memory{}, fmt.Errorf("status: VmRSS or VmHWM missing")
	}
	return m, nil
}
