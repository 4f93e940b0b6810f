// Package prometheus starts Debian's prometheus binary for a test: on a free
// loopback port, with a config file and a data directory of the test's own,
// stopped when the test ends. Analysis tests query it like the Canary reconciler
// queries a real Prometheus.
//
//	prom := prometheus.Start(t, prometheus.Options{ScrapeTargets: []string{addr}})
//	value, _, err := prom.API().Query(ctx, "up", time.Now())
package prometheus

import (
	"context"
	"errors"
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

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
)

// Options describe the Prometheus a test needs.
type Options struct {
	// ScrapeTargets are host:port addresses on loopback serving /metrics. Any
	// other address fails the test: tests never send packets off loopback.
	ScrapeTargets []string
	// ScrapeInterval is how often the targets are scraped. Default 1s, so a
	// test sees a new sample quickly.
	ScrapeInterval time.Duration
	// Backfill are historical samples written into the data directory with
	// promtool before Prometheus starts, so a test can query them at their time.
	Backfill []Sample
}

// Server is a running Prometheus.
type Server struct {
	// URL is the base address of the HTTP API, e.g. http://127.0.0.1:41234.
	URL string
	// DataDir is the TSDB directory, inside the test's temporary directory.
	DataDir string

	api promv1.API
}

// API returns a client of the Prometheus HTTP API of this server.
func (s *Server) API() promv1.API { return s.api }

// readyTimeout bounds how long a fresh Prometheus may take to answer /-/ready.
// Replaying backfilled blocks on a busy 2-core machine takes a few seconds.
const readyTimeout = 60 * time.Second

// Start runs Prometheus until the test ends and returns once it is ready.
// Scraped samples appear about 5s later: Prometheus hands discovered targets to
// its scrape loop at most every 5s, starting 5s after startup. Tests that need
// data at a known time backfill it instead of waiting.
//
// Without the prometheus binary the test is skipped, except under CI=true,
// where a missing binary is a failure: CI installs it, so its absence there is
// a broken setup, not a choice.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	binary := findBinary(t, "prometheus")
	for _, target := range opts.ScrapeTargets {
		if err := requireLoopback(target); err != nil {
			t.Fatalf("Prometheus scrape target: %v", err)
		}
	}
	if opts.ScrapeInterval <= 0 {
		opts.ScrapeInterval = time.Second
	}

	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	if len(opts.Backfill) > 0 {
		if err := backfill(findBinary(t, "promtool"), dir, dataDir, opts.Backfill); err != nil {
			t.Fatalf("Backfill Prometheus: %v", err)
		}
	}
	configFile := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(configFile, []byte(renderConfig(opts)), 0o600); err != nil {
		t.Fatalf("Write Prometheus config: %v", err)
	}

	// A free port is found by binding :0 and closing it; another process can
	// take it before Prometheus binds, so a start that loses the race retries.
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		srv, err := run(t, binary, configFile, dataDir, filepath.Join(dir, fmt.Sprintf("prometheus-%d.log", attempt)))
		if err == nil {
			return srv
		}
		lastErr = err
		if !errors.Is(err, errPortTaken) {
			break
		}
	}
	t.Fatalf("Start Prometheus: %v", lastErr)
	return nil
}

var errPortTaken = errors.New("listen address already in use")

func run(t testing.TB, binary, configFile, dataDir, logFile string) (*Server, error) {
	t.Helper()
	port, err := freeLoopbackPort()
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	logOut, err := os.Create(logFile)
	if err != nil {
		return nil, fmt.Errorf("create log file: %w", err)
	}
	cmd := exec.Command(binary,
		"--config.file="+configFile,
		"--storage.tsdb.path="+dataDir,
		// Backfilled samples may be old; a short retention would delete them.
		"--storage.tsdb.retention.time=100y",
		"--web.listen-address="+addr,
		"--log.level=warn",
	)
	cmd.Stdout, cmd.Stderr = logOut, logOut
	cmd.SysProcAttr = childProcAttr()
	if err := cmd.Start(); err != nil {
		_ = logOut.Close()
		return nil, fmt.Errorf("run %s: %w", binary, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); _ = logOut.Close() }()

	url := "http://" + addr
	if err := waitReady(url, exited); err != nil {
		stop(cmd, exited)
		log, _ := os.ReadFile(logFile)
		if strings.Contains(string(log), "address already in use") {
			return nil, errPortTaken
		}
		return nil, fmt.Errorf("%w; log:\n%s", err, log)
	}
	t.Cleanup(func() {
		stop(cmd, exited)
		if t.Failed() {
			log, _ := os.ReadFile(logFile)
			t.Logf("Prometheus log (%s):\n%s", logFile, log)
		}
	})

	client, err := api.NewClient(api.Config{Address: url})
	if err != nil {
		return nil, fmt.Errorf("create Prometheus API client: %w", err)
	}
	return &Server{URL: url, DataDir: dataDir, api: promv1.NewAPI(client)}, nil
}

// waitReady polls /-/ready until Prometheus answers 200, exits, or times out.
func waitReady(url string, exited <-chan error) error {
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"/-/ready", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case err := <-exited:
			return fmt.Errorf("prometheus exited before it was ready: %v", err)
		case <-ctx.Done():
			return fmt.Errorf("prometheus not ready at %s/-/ready after %s", url, readyTimeout)
		case <-tick.C:
		}
	}
}

// stop asks Prometheus to shut down cleanly, then kills it if it lingers.
func stop(cmd *exec.Cmd, exited <-chan error) {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	// The exit error is expected after a signal: only the exit itself matters.
	select {
	case <-exited: //nolint:errcheck // see above
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-exited //nolint:errcheck // see above
	}
}

func freeLoopbackPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free loopback port: %w", err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// requireLoopback rejects any scrape target that is not a loopback IP address
// (names are rejected too: they could resolve anywhere).
func requireLoopback(target string) error {
	host, _, err := net.SplitHostPort(target)
	if err != nil {
		return fmt.Errorf("%q is not host:port: %w", target, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%q is not a loopback IP address; tests scrape loopback only", target)
	}
	return nil
}

// findBinary returns the path of a Prometheus tool, or ends the test when it
// is missing: skipped on a developer machine, failed under CI=true.
func findBinary(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	msg := fmt.Sprintf("%s not found in PATH: install Debian's prometheus package (apt-get install prometheus)", name)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}
