package main

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/sluicemesh/sluice/test/kwokproc"
)

// The cluster's own controllers can be the bottleneck of a bench: the
// kube-controller-manager's API client is rate limited (--kube-api-qps,
// 20 by default), and every rollout costs it several writes. The time its
// requests waited in that limiter, read from its metrics, says how much of
// the wall time was the cluster's and not the manager's.

// controllerManagerThrottle is the total time the controller-manager's
// requests have waited in its client rate limiter so far.
func (c *cluster) controllerManagerThrottle() (time.Duration, error) {
	pids, err := kwokproc.PIDs(kwokproc.ClusterDir(c.workdir, clusterName))
	if err != nil {
		return 0, err
	}
	pid, ok := pids["kube-controller-manager"]
	if !ok {
		return 0, fmt.Errorf("no kube-controller-manager pid file")
	}
	port, err := listeningPort(pid)
	if err != nil {
		return 0, err
	}
	// Its serving certificate is self-signed; /metrics is on the
	// always-allowed paths of kwokctl's setup. Loopback only.
	cl := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // loopback, self-signed, read-only
	}}
	resp, err := cl.Get("https://127.0.0.1:" + port + "/metrics")
	if err != nil {
		return 0, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("controller-manager /metrics: %s", resp.Status)
	}
	return rateLimiterWait(resp.Body)
}

// rateLimiterWait sums rest_client_rate_limiter_duration_seconds_sum over
// all verbs and hosts.
func rateLimiterWait(r io.Reader) (time.Duration, error) {
	var total float64
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "rest_client_rate_limiter_duration_seconds_sum") {
			continue
		}
		fields := strings.Fields(line)
		v, err := strconv.ParseFloat(fields[len(fields)-1], 64)
		if err != nil {
			return 0, fmt.Errorf("metrics line %q: %w", line, err)
		}
		total += v
	}
	return time.Duration(total * float64(time.Second)), sc.Err()
}

// listeningPort is the TCP port pid listens on (the controller-manager has
// exactly one: its secure port).
func listeningPort(pid int) (string, error) {
	out, err := output(exec.Command("ss", "-Hltnp"))
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(out, "\n") {
		if !strings.Contains(line, fmt.Sprintf("pid=%d,", pid)) {
			continue
		}
		if fields := strings.Fields(line); len(fields) >= 4 {
			if i := strings.LastIndexByte(fields[3], ':'); i >= 0 {
				return fields[3][i+1:], nil
			}
		}
	}
	return "", fmt.Errorf("pid %d listens on no TCP port", pid)
}
