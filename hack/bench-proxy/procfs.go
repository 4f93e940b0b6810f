package main

import (
	"github.com/sluicemesh/sluice/hack/procmem"

	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTicksPerSecond is USER_HZ, the unit of utime and stime in
// /proc/<pid>/stat: fixed at 100 by the Linux ABI on every architecture Go
// supports there, so it needs no sysconf (and no cgo).
const clockTicksPerSecond = 100

// procStat is what the benchmark reads from /proc/<pid>/stat.
type procStat struct {
	ppid int
	// cpu is user plus system time, children not included.
	cpu time.Duration
}

// parseStat reads /proc/<pid>/stat text. The command name sits in
// parentheses and may itself hold spaces and parentheses, so fields are
// counted from the last ')'.
func parseStat(text string) (procStat, error) {
	end := strings.LastIndexByte(text, ')')
	if end < 0 {
		return procStat{}, fmt.Errorf("stat %q: no command name", text)
	}
	// After ")": state(3) ppid(4) ... utime(14) stime(15), numbered as in proc(5).
	fields := strings.Fields(text[end+1:])
	const state, ppid, utime, stime = 3, 4, 14, 15
	if len(fields) < stime-state+1 {
		return procStat{}, fmt.Errorf("stat %q: %d fields after the name, want at least %d", text, len(fields), stime-state+1)
	}
	nums := map[int]int64{}
	for _, f := range []int{ppid, utime, stime} {
		n, err := strconv.ParseInt(fields[f-state], 10, 64)
		if err != nil {
			return procStat{}, fmt.Errorf("stat field %d: %w", f, err)
		}
		nums[f] = n
	}
	ticks := nums[utime] + nums[stime]
	return procStat{ppid: int(nums[ppid]), cpu: time.Duration(ticks) * time.Second / clockTicksPerSecond}, nil
}

func readStat(pid int) (procStat, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, err
	}
	return parseStat(string(data))
}

// processTree is root and every live descendant of it (nginx's worker is a
// child of its master).
func processTree(root int) []int {
	children := map[int][]int{}
	entries, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, path := range entries {
		pid, err := strconv.Atoi(filepath.Base(filepath.Dir(path)))
		if err != nil {
			continue
		}
		if st, err := readStat(pid); err == nil {
			children[st.ppid] = append(children[st.ppid], pid)
		}
	}
	tree := []int{root}
	for i := 0; i < len(tree); i++ {
		tree = append(tree, children[tree[i]]...)
	}
	return tree
}

// usage is the CPU time and memory of one process tree.
type usage struct {
	cpu time.Duration
	mem procmem.Memory
}

// treeUsage sums CPU time and memory over root's process tree.
func treeUsage(root int) (usage, error) {
	var u usage
	for _, pid := range processTree(root) {
		st, err := readStat(pid)
		if err != nil {
			if pid == root {
				return usage{}, fmt.Errorf("process %d: %w", pid, err)
			}
			continue // a child that just exited
		}
		m, err := procmem.Read(pid)
		if err != nil {
			continue
		}
		u.cpu += st.cpu
		u.mem.RSS += m.RSS
		u.mem.Peak += m.Peak
	}
	return u, nil
}
