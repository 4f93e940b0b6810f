package config

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestStore_KeepsTheActiveSnapshotWhenApplyFails(t *testing.T) {
	s := NewStore()
	if s.Loaded() || s.Load() == nil {
		t.Fatal("a new store must hold the empty snapshot and not be loaded")
	}
	good, _ := Load(mustReadExample(t))
	if err := s.Apply(good); err != nil {
		t.Fatal(err)
	}
	active := s.Load()
	if err := s.Apply(&Config{Inbound: Inbound{Target: "bad"}}); err == nil {
		t.Fatal("Apply accepted an invalid configuration")
	}
	if s.Load() != active || !s.Loaded() {
		t.Error("a failed Apply replaced the active snapshot")
	}
}

// syncBuffer is a log sink safe for the source's goroutine and the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestFileSource_ReloadsOnChangeAndKeepsTheOldConfigWhenInvalid(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "proxy.yaml")
	write := func(content string) {
		t.Helper()
		// Write and rename, as a ConfigMap volume update does.
		tmp := filepath.Join(dir, "tmp")
		if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
	}
	write("version: v1\n")

	var logs syncBuffer
	store := NewStore()
	src := &FileSource{Path: path, Interval: 10 * time.Millisecond, Log: slog.New(slog.NewTextHandler(&logs, nil))}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, store.Apply) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})

	waitFor(t, "version v1", func() bool { return store.Load().Config.Version == "v1" })
	write("version: v2\n")
	waitFor(t, "version v2", func() bool { return store.Load().Config.Version == "v2" })

	write("version: v3\ninbound: {target: nope}\n")
	waitFor(t, "a rejection in the log", func() bool { return strings.Contains(logs.String(), "Rejected proxy configuration") })
	if got := store.Load().Config.Version; got != "v2" {
		t.Errorf("after an invalid file the active version is %q, want v2 kept", got)
	}
	if !strings.Contains(logs.String(), "inbound.target") {
		t.Errorf("the rejection does not name the bad field; log:\n%s", logs.String())
	}

	write("version: v4\n")
	waitFor(t, "version v4", func() bool { return store.Load().Config.Version == "v4" })
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
