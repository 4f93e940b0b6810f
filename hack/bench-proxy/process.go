package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// processes starts every helper process of a run and kills them all at the
// end, whatever ended the run (done, error, SIGINT).
type processes struct {
	dir     string // logs go here
	mu      sync.Mutex
	started []*process
}

// process is one started command; its process group holds any children
// (nginx's worker) so one kill by id reaches them all.
type process struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error // set before done closes
}

func (p *process) pid() int { return p.cmd.Process.Pid }

// exited reports whether the process has ended, with its error.
func (p *process) exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.err
	default:
		return false, nil
	}
}

// start runs name args... pinned to cpu (-1: not pinned), with extra
// environment, its output in <dir>/<label>.log.
func (ps *processes) start(label string, cpu int, env []string, name string, args ...string) (*process, error) {
	logFile, err := os.Create(filepath.Join(ps.dir, label+".log"))
	if err != nil {
		return nil, err
	}
	if cpu >= 0 {
		// taskset execs the command in place: the pid is the command's.
		args = append([]string{"-c", strconv.Itoa(cpu), name}, args...)
		name = "taskset"
	}
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid: true,
		// Should the bench itself be killed hard, the kernel ends the
		// processes it started.
		Pdeathsig: syscall.SIGKILL,
	}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", label, err)
	}
	p := &process{name: label, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	ps.mu.Lock()
	ps.started = append(ps.started, p)
	ps.mu.Unlock()
	return p, nil
}

// stop kills one process group and waits for it.
func (p *process) stop() {
	// The group id is the pid of the process we started (Setpgid).
	_ = syscall.Kill(-p.pid(), syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
	}
}

// mark is the number of processes started so far, for stopFrom.
func (ps *processes) mark() int {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return len(ps.started)
}

// stopFrom kills the processes started since mark (one target's, even when
// it failed halfway through starting).
func (ps *processes) stopFrom(mark int) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for _, p := range ps.started[mark:] {
		p.stop()
	}
	ps.started = ps.started[:mark]
}

// stopAll kills every process started so far.
func (ps *processes) stopAll() { ps.stopFrom(0) }

// freeAddr returns a loopback address no one listens on now.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// waitServing polls url (with Host header host) until it answers 200 with the
// backend's full body: the path through the target works end to end.
func waitServing(ctx context.Context, url, host string, procs ...*process) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(15 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		for _, p := range procs {
			if gone, err := p.exited(); gone {
				return fmt.Errorf("%s exited before serving (%v); see its log", p.name, err)
			}
		}
		last = getOnce(ctx, client, url, host)
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s did not serve within 15s: %w", url, last)
}

func getOnce(ctx context.Context, client *http.Client, url, host string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Host = host
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || len(body) != responseSize {
		return errors.New("answered " + resp.Status + " with " + strconv.Itoa(len(body)) + " bytes")
	}
	return nil
}
