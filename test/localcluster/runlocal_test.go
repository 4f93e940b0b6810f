package localcluster_test

import (
	"bufio"
	"net"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/sluicemesh/sluice/test/kwokproc"
)

// runLocalEnv isolates a run of hack/run-local.sh: its own cluster, state dir
// and free loopback ports, so it runs beside a user's `make run-local`.
func runLocalEnv(t *testing.T, cluster isolatedCluster, extra ...string) (env []string, probeAddr string) {
	t.Helper()
	probeAddr = freeLoopbackAddr(t)
	_, webhookPort, _ := net.SplitHostPort(freeLoopbackAddr(t))
	return cluster.env(append([]string{
		"PROBE_ADDR=" + probeAddr,
		"METRICS_ADDR=" + freeLoopbackAddr(t),
		"WEBHOOK_PORT=" + webhookPort,
		"RUN_LOCAL_STATE_DIR=" + t.TempDir(),
	}, extra...)...), probeAddr
}

var managerPIDPattern = regexp.MustCompile(`manager started \(pid (\d+)\)`)

// requireNothingLeft checks what a user would find after run-local ended: no
// cluster, no manager, nothing on the manager's probe address.
func requireNothingLeft(t *testing.T, g Gomega, cluster isolatedCluster, out, probeAddr string) {
	t.Helper()
	g.Expect(cluster.dir()).NotTo(BeADirectory(), "the cluster is not deleted")
	m := managerPIDPattern.FindStringSubmatch(out)
	g.Expect(m).NotTo(BeNil(), "no manager pid in the output")
	pid, _ := strconv.Atoi(m[1])
	g.Expect(kwokproc.Alive(pid)).To(BeFalse(), "the manager still runs")
	_, err := net.DialTimeout("tcp", probeAddr, time.Second)
	g.Expect(err).To(HaveOccurred(), "something still listens on the manager's probe address")
}

// TestRunLocal_InstallsSluiceAndTheSamplesThenLeavesNothingRunning runs the
// README's main job non-interactively: the script itself checks that the
// webhooks are registered by URL on loopback, that kubectl lists the sample
// Mesh, Canary and Policy, and that the sample Deployment's pods are Ready.
func TestRunLocal_InstallsSluiceAndTheSamplesThenLeavesNothingRunning(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the manager against a local cluster")
	}
	g := NewWithT(t)
	cluster := newIsolatedCluster(t)
	env, probeAddr := runLocalEnv(t, cluster, "RUN_LOCAL_EXIT_AFTER_APPLY=1")
	t.Cleanup(func() { runScript(t, time.Minute, env, "hack/local-cluster.sh", "down") })

	start := time.Now()
	out := runScript(t, 10*time.Minute, env, "hack/run-local.sh")
	t.Logf("run-local took %s:\n%s", time.Since(start).Round(time.Second), out)

	g.Expect(out).To(ContainSubstring("every webhook is registered on https://127.0.0.1:"))
	g.Expect(out).To(ContainSubstring("checks passed"))
	requireNothingLeft(t, g, cluster, out, probeAddr)
}

// TestRunLocal_CtrlCStopsTheManagerAndDeletesTheCluster interrupts the
// interactive main job the way a terminal does: SIGINT to its process group.
func TestRunLocal_CtrlCStopsTheManagerAndDeletesTheCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the manager against a local cluster")
	}
	g := NewWithT(t)
	cluster := newIsolatedCluster(t)
	env, probeAddr := runLocalEnv(t, cluster)
	t.Cleanup(func() { runScript(t, time.Minute, env, "hack/local-cluster.sh", "down") })

	cmd := exec.Command("hack/run-local.sh")
	cmd.Dir, cmd.Env = repoRoot, env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its own group, like a terminal's foreground job
	pipe, err := cmd.StdoutPipe()
	g.Expect(err).NotTo(HaveOccurred())
	cmd.Stderr = cmd.Stdout
	g.Expect(cmd.Start()).To(Succeed())
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })

	// Read until the script says it waits for Ctrl-C, then on to the end; out
	// is read only after readDone, when the reader no longer writes it.
	var out strings.Builder
	waiting, readDone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(readDone)
		scanner := bufio.NewScanner(pipe)
		signalled := false
		for scanner.Scan() {
			out.WriteString(scanner.Text() + "\n")
			if !signalled && strings.HasPrefix(scanner.Text(), "Press Ctrl-C") {
				signalled = true
				close(waiting)
			}
		}
	}()
	select {
	case <-waiting:
	case <-readDone:
		t.Fatalf("run-local ended before it waited for Ctrl-C:\n%s", out.String())
	case <-time.After(10 * time.Minute):
		t.Fatal("run-local did not come up in 10 minutes")
	}
	clusterPIDs := cluster.pids(t)

	g.Expect(syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)).To(Succeed())
	select {
	case <-readDone:
	case <-time.After(2 * time.Minute):
		t.Fatal("run-local did not stop within 2 minutes of SIGINT")
	}
	g.Expect(cmd.Wait()).To(HaveOccurred(), "an interrupted run should not exit 0")
	t.Logf("run-local output:\n%s", out.String())

	requireNothingLeft(t, g, cluster, out.String(), probeAddr)
	requireGone(t, clusterPIDs)
}
