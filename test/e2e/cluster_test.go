package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// kwokCluster is the suite's own kwok cluster: its own name and state
// directory (hack/local-cluster.sh's SLUICE_CLUSTER_NAME and KWOK_WORKDIR), so
// it runs beside a user's `make run-local` and leaves nothing behind.
type kwokCluster struct {
	name, workdir string
}

func (c kwokCluster) env() []string {
	// Later entries win over inherited ones (os/exec keeps the last duplicate).
	return append(os.Environ(), "SLUICE_CLUSTER_NAME="+c.name, "KWOK_WORKDIR="+c.workdir)
}

func (c kwokCluster) up(ctx context.Context) error {
	_, err := run(ctx, c.env(), nil, "hack/local-cluster.sh", "up")
	return err
}

func (c kwokCluster) down(ctx context.Context) error {
	_, err := run(ctx, c.env(), nil, "hack/local-cluster.sh", "down")
	return err
}

func (c kwokCluster) kubeconfig(ctx context.Context) (string, error) {
	out, err := run(ctx, c.env(), nil, "hack/local-cluster.sh", "kubeconfig")
	return strings.TrimSpace(string(out)), err
}

// pids are the processes kwokctl started for the cluster, from its pid files.
func (c kwokCluster) pids() (map[string]int, error) {
	dir := filepath.Join(c.workdir, "clusters", c.name, "pids")
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

// waitGone waits until none of the processes runs; a zombie counts as gone
// (its parent, kwokctl, exited long ago).
func waitGone(pids map[string]int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for name, pid := range pids {
		for alive(pid) {
			if time.Now().After(deadline) {
				return fmt.Errorf("%s (pid %d) still runs %s after the cluster was deleted", name, pid, timeout)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return nil
}

func alive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// Format: pid (comm) state ...; comm may hold spaces, the state follows ')'.
	s := string(stat)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return len(fields) > 0 && fields[0] != "Z"
}
