package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// requireNetns skips a test that needs to create network namespaces and
// iptables rules when this machine cannot, except under CI, where the
// packages are installed (.ci/run) and a skip would hide a regression.
func requireNetns(t *testing.T) {
	t.Helper()
	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root")
	}
	for _, tool := range []string{"ip", "iptables", "ip6tables", "setpriv", "chown"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool+" (apt-get install -y iproute2 iptables util-linux)")
		}
	}
	if len(missing) == 0 {
		name := fmt.Sprintf("sluice-probe-%d", os.Getpid())
		if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
			missing = append(missing, "permission to create a network namespace: "+strings.TrimSpace(string(out)))
		} else {
			_ = exec.Command("ip", "netns", "del", name).Run()
		}
	}
	if len(missing) == 0 {
		return
	}
	msg := "transparent mode needs " + strings.Join(missing, ", ")
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// podNetns is a network namespace standing for one pod: loopback up and
// one veth end with the pod's IP. Processes started in it are killed and
// the namespace deleted when the test ends.
type podNetns struct {
	name string
	ip   string
	ip6  string
	mu   sync.Mutex
	logs map[string]*strings.Builder
}

func newPodNetns(t *testing.T, suffix, ip, ip6 string) *podNetns {
	t.Helper()
	p := &podNetns{name: fmt.Sprintf("sluice-%d-%s", os.Getpid(), suffix), ip: ip, ip6: ip6, logs: map[string]*strings.Builder{}}
	mustRun(t, "ip", "netns", "add", p.name)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", p.name).Run() })
	mustRun(t, "ip", "-n", p.name, "link", "set", "lo", "up")
	return p
}

// up gives the pod its IPs on dev.
func (p *podNetns) up(t *testing.T, dev string) {
	t.Helper()
	mustRun(t, "ip", "-n", p.name, "addr", "add", p.ip+"/24", "dev", dev)
	// nodad: usable at once, without duplicate address detection's wait.
	mustRun(t, "ip", "-n", p.name, "addr", "add", p.ip6+"/64", "dev", dev, "nodad")
	mustRun(t, "ip", "-n", p.name, "link", "set", dev, "up")
}

// command runs args inside the namespace.
func (p *podNetns) command(args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", p.name}, args...)...)
}

// run runs args inside the namespace to completion and returns stdout.
func (p *podNetns) run(t *testing.T, args ...string) string {
	t.Helper()
	return p.runEnv(t, nil, args...)
}

func (p *podNetns) runEnv(t *testing.T, env []string, args ...string) string {
	t.Helper()
	cmd := p.command(args...)
	cmd.Env = append(os.Environ(), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("in %s: %v: %v\n%s%s", p.name, args, err, out, stderr.String())
	}
	return string(out)
}

// start runs args inside the namespace in the background, keeping its
// output under name for failure messages.
func (p *podNetns) start(t *testing.T, name string, args []string, env ...string) {
	t.Helper()
	cmd := p.command(args...)
	cmd.Env = append(os.Environ(), "SLUICE_NAMESPACE=demo", "SLUICE_POD="+name+"-"+p.name, "SLUICE_WORKLOAD="+name)
	cmd.Env = append(cmd.Env, env...)
	r, w := io.Pipe()
	cmd.Stdout, cmd.Stderr = w, w
	log := &strings.Builder{}
	p.logs[name] = log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			p.mu.Lock()
			log.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		_ = w.Close()
	})
}

// asProxyUser runs bin as the proxy's uid, whose connections the rules
// leave alone.
func asProxyUser(bin string, args ...string) []string {
	uid := strconv.Itoa(proxyUID)
	return append([]string{"setpriv", "--reuid=" + uid, "--regid=" + uid, "--clear-groups", bin}, args...)
}

// sharedDir is a directory the proxy's uid can read.
func sharedDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "sluice-transparent")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func writeShared(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o755); err != nil {
		t.Fatal(err)
	}
}

func mustRun(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}
