package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
)

// managerLogTail is how much of the manager's log a failed test shows.
const managerLogTail = 300

// startManager runs the built manager as its own process against the cluster,
// with the flags hack/run-local.sh uses (loopback addresses, webhooks served
// on the port the webhook configurations name, a self-managed certificate for
// 127.0.0.1) and metricsServer as --metrics-server. It returns once /readyz
// answers and every webhook configuration carries the manager's CA, and stops
// the manager when t ends, showing its log if t failed.
func startManager(t *testing.T, s *suiteEnv, metricsServer string) {
	t.Helper()
	dir := t.TempDir()
	probeAddr, metricsAddr := freeLoopbackAddr(t), freeLoopbackAddr(t)
	logPath := filepath.Join(dir, "manager.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(s.managerBinary,
		"--kubeconfig", s.kubeconfig,
		"--leader-elect=true",
		"--leader-election-namespace", sluiceNamespace,
		"--namespace", sluiceNamespace,
		"--metrics-bind-address", metricsAddr,
		"--health-probe-bind-address", probeAddr,
		"--webhook-host", "127.0.0.1",
		"--webhook-port", strconv.Itoa(s.webhookPort),
		"--webhook-cert-dir", filepath.Join(dir, "certs"),
		"--webhook-ip-sans", "127.0.0.1",
		"--metrics-server", metricsServer,
	)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = childProcAttr()
	if err := cmd.Start(); err != nil {
		t.Fatalf("Start the manager: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); _ = logFile.Close() }()
	t.Cleanup(func() {
		stopManager(t, cmd, exited, probeAddr)
		if t.Failed() {
			t.Logf("Manager log (last %d lines of %s):\n%s", managerLogTail, logPath, tail(logPath, managerLogTail))
		}
	})

	started := time.Now()
	if err := waitReadyz(probeAddr, exited, 2*time.Minute); err != nil {
		t.Fatalf("Manager: %v", err)
	}
	if err := waitCABundles(s, 2*time.Minute); err != nil {
		t.Fatalf("Manager: %v", err)
	}
	t.Logf("Manager (pid %d) ready with its webhooks in %s", cmd.Process.Pid, time.Since(started).Round(100*time.Millisecond))
}

// stopManager stops the manager as a terminal or kubelet would (SIGTERM) and
// checks that it is gone and its probe address free.
func stopManager(t *testing.T, cmd *exec.Cmd, exited <-chan error, probeAddr string) {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited: //nolint:errcheck // exiting on a signal is expected; only the exit matters
	case <-time.After(20 * time.Second):
		t.Errorf("The manager (pid %d) did not stop within 20s of SIGTERM; killing it", cmd.Process.Pid)
		_ = cmd.Process.Kill()
		<-exited //nolint:errcheck // see above
	}
	if conn, err := net.DialTimeout("tcp", probeAddr, time.Second); err == nil {
		_ = conn.Close()
		t.Errorf("Something still listens on the manager's probe address %s", probeAddr)
	}
}

func waitReadyz(probeAddr string, exited <-chan error, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: time.Second}
	for {
		resp, err := client.Get("http://" + probeAddr + "/readyz")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case err := <-exited:
			return fmt.Errorf("exited before it was ready: %v", err)
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("/readyz on %s not ready after %s", probeAddr, timeout)
		}
	}
}

// waitCABundles waits until the manager has patched its CA into every
// webhook; before that the API server cannot call them and, with
// failurePolicy Fail, rejects every Canary.
func waitCABundles(s *suiteEnv, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		missing, err := webhooksWithoutCA(ctx, s)
		if err == nil && len(missing) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no caBundle after %s on webhooks %v (last error: %v)", timeout, missing, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func webhooksWithoutCA(ctx context.Context, s *suiteEnv) ([]string, error) {
	var missing []string
	var mutating admissionregistrationv1.MutatingWebhookConfigurationList
	if err := s.client.List(ctx, &mutating); err != nil {
		return nil, err
	}
	var validating admissionregistrationv1.ValidatingWebhookConfigurationList
	if err := s.client.List(ctx, &validating); err != nil {
		return nil, err
	}
	for _, c := range mutating.Items {
		for _, w := range c.Webhooks {
			if len(w.ClientConfig.CABundle) == 0 {
				missing = append(missing, w.Name)
			}
		}
	}
	for _, c := range validating.Items {
		for _, w := range c.Webhooks {
			if len(w.ClientConfig.CABundle) == 0 {
				missing = append(missing, w.Name)
			}
		}
	}
	if len(mutating.Items)+len(validating.Items) == 0 {
		return nil, fmt.Errorf("no webhook configuration is installed")
	}
	return missing, nil
}

func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	port, err := freeLoopbackPort()
	if err != nil {
		t.Fatal(err)
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
}

// tail returns the last n lines of a file.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.TrimSpace(string(bytes.Join(lines, []byte("\n"))))
}
