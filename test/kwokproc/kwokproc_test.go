package kwokproc

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

func TestPIDsAndWaitGone(t *testing.T) {
	sleeper := exec.Command("sleep", "30")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sleeper.Process.Kill(); _ = sleeper.Wait() })
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "pids"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pids", "etcd.pid"), []byte(strconv.Itoa(sleeper.Process.Pid)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	pids, err := PIDs(dir)
	if err != nil || pids["etcd"] != sleeper.Process.Pid {
		t.Fatalf("PIDs = %v, %v; want etcd=%d", pids, err, sleeper.Process.Pid)
	}
	if !Alive(pids["etcd"]) {
		t.Fatal("a running process must be alive")
	}
	if err := WaitGone(pids, 200*time.Millisecond); err == nil {
		t.Fatal("WaitGone must fail while the process runs")
	}
	_ = sleeper.Process.Kill()
	_ = sleeper.Wait()
	if err := WaitGone(pids, 5*time.Second); err != nil {
		t.Fatalf("after the kill: %v", err)
	}
	if _, err := PIDs(t.TempDir()); err == nil {
		t.Error("a directory without pid files must be an error")
	}
}
