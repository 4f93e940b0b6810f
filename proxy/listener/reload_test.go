package listener

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicemesh/sluice/proxy/config"
)

func TestOutbound_HotReloadUnderLoadFailsNoRequest(t *testing.T) {
	var hits [3]atomic.Int64
	addrs := make([]string, 3)
	for i := range addrs {
		addrs[i] = countingBackend(t, "b", &hits[i])
	}
	// Configurations that move weights and endpoints around; every one keeps
	// at least one live endpoint per weighted backend.
	configs := []string{
		splitConfig(addrs[0], addrs[1], 90, 10),
		splitConfig(addrs[0], addrs[2], 50, 50),
		splitConfig(addrs[1], addrs[2], 0, 100),
		splitConfig(addrs[2], addrs[0], 100, 0),
	}
	p := startProxy(t, configs[0])

	// Swap through the file source, as in production.
	dir := t.TempDir()
	path := filepath.Join(dir, "proxy.yaml")
	write := func(content string) {
		tmp := filepath.Join(dir, "next")
		if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
			t.Error(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Error(err)
		}
	}
	write(configs[0])
	ctx, cancel := context.WithCancel(context.Background())
	sourceDone := make(chan struct{})
	var applied atomic.Int64
	go func() {
		defer close(sourceDone)
		src := &config.FileSource{Path: path, Interval: 5 * time.Millisecond, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
		_ = src.Run(ctx, func(c *config.Config) error {
			err := p.store.Apply(c)
			if err == nil {
				applied.Add(1)
			}
			return err
		})
	}()
	t.Cleanup(func() {
		cancel()
		<-sourceDone
	})

	swapperDone := make(chan struct{})
	go func() {
		defer close(swapperDone)
		for i := 1; ctx.Err() == nil; i++ {
			write(configs[i%len(configs)])
			time.Sleep(15 * time.Millisecond)
		}
	}()

	const n = 6000
	failed := load(t, p.outbound, n, 8)
	cancel()
	<-swapperDone
	t.Logf("%d requests during %d configuration swaps", n, applied.Load())
	if failed != 0 {
		t.Errorf("%d of %d requests failed during hot reloads, want 0", failed, n)
	}
	if applied.Load() < 10 {
		t.Errorf("only %d swaps happened; the test did not exercise reloads", applied.Load())
	}
	for i := range hits {
		if hits[i].Load() == 0 {
			t.Errorf("backend %d got no traffic; the swaps did not take effect", i)
		}
	}
}
