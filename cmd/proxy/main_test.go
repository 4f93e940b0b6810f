package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// buildProxy compiles this command once per test binary run.
var buildProxy = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "sluice-proxy-test")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "proxy")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// runningProxy is the real binary, started on free loopback ports.
type runningProxy struct {
	cmd                      *exec.Cmd
	inbound, outbound, admin string
	exited                   chan error
	logs                     *strings.Builder
}

func startBinary(t *testing.T, configYAML string, extraArgs ...string) *runningProxy {
	t.Helper()
	bin, err := buildProxy()
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(t.TempDir(), "proxy.yaml")
	if err := os.WriteFile(cfgPath, []byte(configYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	p := &runningProxy{inbound: freePort(t), outbound: freePort(t), admin: freePort(t), exited: make(chan error, 1), logs: &strings.Builder{}}
	args := append([]string{
		"--config", cfgPath, "--config-poll-interval", "50ms",
		"--inbound-addr", p.inbound, "--outbound-addr", p.outbound, "--admin-addr", p.admin,
	}, extraArgs...)
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = append(os.Environ(), "SLUICE_NAMESPACE=demo", "SLUICE_POD=app-0", "SLUICE_WORKLOAD=app", "SLUICE_SERVICE_ACCOUNT=app")
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var logMu sync.Mutex
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logMu.Lock()
			p.logs.WriteString(sc.Text() + "\n")
			logMu.Unlock()
		}
		p.exited <- p.cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		if t.Failed() {
			logMu.Lock()
			t.Logf("proxy logs:\n%s", p.logs.String())
			logMu.Unlock()
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		if resp, err := http.Get("http://" + p.admin + "/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the proxy did not become ready")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func backend(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

func proxyConfig(backendAddr string) string {
	return `
inbound: {target: "` + backendAddr + `", service: app}
outbound:
  services: [{name: app, namespace: demo, port: 80}]
backends:
- {name: app, namespace: demo, endpoints: [{address: "` + backendAddr + `"}]}
`
}

func getVia(addr, host string) (int, string, error) {
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/", nil)
	req.Host = host
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

func TestProxy_SIGTERMDrainsInFlightRequests(t *testing.T) {
	arrived := make(chan struct{}, 1)
	slow := backend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		time.Sleep(time.Second)
		_, _ = io.WriteString(w, "finished")
	}))
	p := startBinary(t, proxyConfig(slow), "--shutdown-grace", "10s")

	type result struct {
		code int
		body string
		err  error
	}
	inflight := make(chan result, 1)
	go func() {
		code, body, err := getVia(p.outbound, "app")
		inflight <- result{code, body, err}
	}()
	<-arrived
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}

	// New connections are refused while the slow request drains.
	deadline := time.Now().Add(500 * time.Millisecond)
	for {
		conn, err := net.Dial("tcp", p.outbound)
		if err != nil {
			break
		}
		conn.Close()
		if time.Now().After(deadline) {
			t.Fatal("the outbound port still accepts connections after SIGTERM")
		}
		time.Sleep(10 * time.Millisecond)
	}

	r := <-inflight
	if r.err != nil || r.code != 200 || r.body != "finished" {
		t.Errorf("in-flight request: %d %q %v; want 200 finished despite SIGTERM", r.code, r.body, r.err)
	}
	select {
	case err := <-p.exited:
		if err != nil {
			t.Errorf("proxy exit: %v, want 0", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("the proxy did not exit after draining")
	}
}

func TestProxy_ServesMetricsConfigAndShutdownOnTheAdminPort(t *testing.T) {
	app := backend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "app")
	}))
	p := startBinary(t, proxyConfig(app))
	for _, addr := range []string{p.outbound, p.inbound} {
		if code, body, err := getVia(addr, "app"); err != nil || code != 200 || body != "app" {
			t.Fatalf("via %s: %d %q %v", addr, code, body, err)
		}
	}
	resp, err := http.Get("http://" + p.admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	text, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`sluice_requests_total{backend="",classification="success",direction="inbound",namespace="demo",pod="app-0",service="app",status_code="200",tls="false",workload="app"} 1`,
		`sluice_requests_total{backend="app",classification="success",direction="outbound",namespace="demo",pod="app-0",service="app",status_code="200",tls="false",workload="app"} 1`,
	} {
		if !strings.Contains(string(text), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	resp, err = http.Get("http://" + p.admin + "/config")
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(cfg), `"target": "`+app+`"`) {
		t.Errorf("/config does not show the active configuration:\n%s", cfg)
	}

	t.Logf("RSS after a few requests: %d KiB", rssKiB(t, p.cmd.Process.Pid))
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for range 250 {
				if code, _, err := getVia(p.outbound, "app"); err != nil || code != 200 {
					t.Errorf("under load: %d %v", code, err)
					return
				}
			}
		})
	}
	wg.Wait()
	t.Logf("RSS after 4000 requests from 16 clients: %d KiB", rssKiB(t, p.cmd.Process.Pid))

	resp, err = http.Post("http://"+p.admin+"/shutdown", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	select {
	case err := <-p.exited:
		if err != nil {
			t.Errorf("proxy exit after /shutdown: %v, want 0", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("the proxy did not exit after POST /shutdown")
	}
}

func TestProxy_RefusesToStartWithoutConfig(t *testing.T) {
	bin, err := buildProxy()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin)
	cmd.Env = []string{}
	out, err := cmd.CombinedOutput()
	if exit, ok := err.(*exec.ExitError); !ok || exit.ExitCode() != 2 || !strings.Contains(string(out), "--config") {
		t.Errorf("without config: %v %s; want exit 2 naming --config", err, out)
	}
}

// A proxy that would see its own connections redirected back to itself
// refuses to start, naming the flag, instead of looping.
func TestProxy_RefusesToRunAsAUidTheRedirectRulesDoNotExempt(t *testing.T) {
	bin, err := buildProxy()
	if err != nil {
		t.Fatal(err)
	}
	other := os.Getuid() + 1
	cmd := exec.Command(bin, "--config", filepath.Join(t.TempDir(), "config.yaml"))
	cmd.Env = []string{"SLUICE_PROXY_UID=" + strconv.Itoa(other)}
	out, err := cmd.CombinedOutput()
	if exit, ok := err.(*exec.ExitError); !ok || exit.ExitCode() != 2 || !strings.Contains(string(out), "--proxy-uid") {
		t.Errorf("as uid %d with SLUICE_PROXY_UID=%d: %v %s; want exit 2 naming --proxy-uid", os.Getuid(), other, err, out)
	}
	if err := checkUID(os.Getuid(), os.Getuid()); err != nil {
		t.Errorf("the exempted uid itself: %v", err)
	}
	if err := checkUID(-1, os.Getuid()); err != nil {
		t.Errorf("no redirection: %v", err)
	}
}

func rssKiB(t *testing.T, pid int) int {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	return -1
}
