package localcluster_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluicemesh/sluice/test/kwokproc"
)

// repoRoot is where the scripts run from; go test runs in this package's dir.
const repoRoot = "../.."

// isolatedCluster gives a test its own kwok cluster name and state directory,
// so it neither collides with a user's `make run-local` nor leaves state behind.
type isolatedCluster struct {
	name, workdir string
}

func newIsolatedCluster(t *testing.T) isolatedCluster {
	t.Helper()
	requireClusterBinaries(t)
	return isolatedCluster{name: fmt.Sprintf("sluice-test-%d", os.Getpid()), workdir: t.TempDir()}
}

func (c isolatedCluster) env(extra ...string) []string {
	// Later entries win over the inherited ones (os/exec keeps the last duplicate).
	env := append(os.Environ(), extra...)
	return append(env, "SLUICE_CLUSTER_NAME="+c.name, "KWOK_WORKDIR="+c.workdir)
}

// dir is kwok's state of the cluster; kwokctl deletes it with the cluster.
func (c isolatedCluster) dir() string { return kwokproc.ClusterDir(c.workdir, c.name) }

// pids are the processes kwokctl started for the cluster.
func (c isolatedCluster) pids(t *testing.T) map[string]int {
	t.Helper()
	pids, err := kwokproc.PIDs(c.dir())
	if err != nil {
		t.Fatal(err)
	}
	return pids
}

// runScript runs a script of hack/ and fails the test, showing its output, if
// it does not exit 0.
func runScript(t *testing.T, timeout time.Duration, env []string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Dir = repoRoot
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

// requireClusterBinaries skips the test when the local cluster's binaries are
// not built (they take minutes: make cluster-binaries), except under CI=true,
// where CI is expected to have built them.
func requireClusterBinaries(t *testing.T) {
	t.Helper()
	out, err := exec.Command(filepath.Join(repoRoot, "hack/k8s-binaries.sh"), "print-dir").Output()
	if err != nil {
		t.Fatalf("hack/k8s-binaries.sh print-dir: %v", err)
	}
	dir := strings.TrimSpace(string(out))
	for _, b := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl", "kwok", "kwokctl"} {
		if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
			msg := fmt.Sprintf("%s is not built in %s: run make cluster-binaries", b, dir)
			if os.Getenv("CI") == "true" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
}

// requireGone waits until none of the processes is alive.
func requireGone(t *testing.T, pids map[string]int) {
	t.Helper()
	if err := kwokproc.WaitGone(pids, 15*time.Second); err != nil {
		t.Error(err)
	}
}

// listeningAddrs returns the local addresses the process listens on (TCP).
func listeningAddrs(t *testing.T, pid int) []string {
	t.Helper()
	out, err := exec.Command("ss", "-Hltnp").Output()
	if err != nil {
		t.Fatalf("ss -Hltnp: %v", err)
	}
	var addrs []string
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, fmt.Sprintf("pid=%d,", pid)) {
			if fields := strings.Fields(line); len(fields) >= 4 {
				addrs = append(addrs, fields[3])
			}
		}
	}
	return addrs
}

func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().String()
}
