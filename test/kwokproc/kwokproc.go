// Package kwokproc finds the processes kwokctl runs for a local cluster
// (`--runtime binary`) and tells whether they still run, so that tests can
// check that deleting a cluster leaves nothing behind.
package kwokproc

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ClusterDir is kwokctl's state of cluster name under workdir (KWOK_WORKDIR);
// kwokctl deletes it with the cluster.
func ClusterDir(workdir, name string) string { return filepath.Join(workdir, "clusters", name) }

// PIDs are the cluster's processes by component, from kwokctl's pid files.
func PIDs(clusterDir string) (map[string]int, error) {
	dir := filepath.Join(clusterDir, "pids")
	files, err := filepath.Glob(filepath.Join(dir, "*.pid"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no pid files in %s: %v", dir, err)
	}
	pids := map[string]int{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil {
			return nil, fmt.Errorf("pid file %s: %w", f, err)
		}
		pids[strings.TrimSuffix(filepath.Base(f), ".pid")] = pid
	}
	return pids, nil
}

// Alive says whether pid runs. A zombie counts as gone: its parent, kwokctl,
// exited long ago and reaping it is init's business.
func Alive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// Format: pid (comm) state ...; comm may hold spaces, the state follows ')'.
	s := string(stat)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return len(fields) > 0 && fields[0] != "Z"
}

// WaitGone waits until none of pids runs, and names the first that still
// does after timeout.
func WaitGone(pids map[string]int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for name, pid := range pids {
		for Alive(pid) {
			if time.Now().After(deadline) {
				return fmt.Errorf("%s (pid %d) still runs %s after the cluster was deleted", name, pid, timeout)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return nil
}
