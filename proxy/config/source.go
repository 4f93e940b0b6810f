package config

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"os"
	"time"
)

// Source delivers configurations. The file source is the first; a stream from
// the control plane will be the next, without any change to the request path:
// both just call apply.
type Source interface {
	// Run delivers configurations to apply until ctx ends. An error from apply
	// (an invalid configuration) must not stop the source: the proxy keeps its
	// previous configuration and waits for a better one.
	Run(ctx context.Context, apply func(*Config) error) error
}

var _ Source = (*FileSource)(nil)

// DefaultPollInterval is how often FileSource checks its file by default.
const DefaultPollInterval = time.Second

// FileSource reads the configuration from a JSON or YAML file and reloads it
// when its content changes. It polls (modification time, size, and a content
// hash to be sure) rather than using inotify, which misses the symlink swaps
// of Kubernetes ConfigMap volumes.
type FileSource struct {
	// Path of the file.
	Path string
	// Interval between checks. Default: DefaultPollInterval.
	Interval time.Duration
	// Log receives load and reload outcomes. Default: slog.Default().
	Log *slog.Logger

	lastMod     time.Time
	lastSize    int64
	lastHash    [sha256.Size]byte
	loaded      bool
	lastReadErr string // logged once, not on every poll
}

// Run loads the file, then polls it until ctx ends. It returns nil when ctx
// ends; an unreadable or invalid file is logged, not returned.
func (f *FileSource) Run(ctx context.Context, apply func(*Config) error) error {
	interval := f.Interval
	if interval <= 0 {
		interval = DefaultPollInterval
	}
	f.poll(apply)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			f.poll(apply)
		}
	}
}

func (f *FileSource) log() *slog.Logger {
	if f.Log != nil {
		return f.Log
	}
	return slog.Default()
}

// poll reloads the file if it changed since the last look.
func (f *FileSource) poll(apply func(*Config) error) {
	st, err := os.Stat(f.Path)
	if err != nil {
		f.readFailed(err)
		return
	}
	if f.loaded && st.ModTime().Equal(f.lastMod) && st.Size() == f.lastSize {
		return
	}
	data, err := os.ReadFile(f.Path)
	if err != nil {
		f.readFailed(err)
		return
	}
	f.lastReadErr = ""
	hash := sha256.Sum256(data)
	f.lastMod, f.lastSize = st.ModTime(), st.Size()
	if f.loaded && bytes.Equal(hash[:], f.lastHash[:]) {
		return
	}
	// Remember the content even when invalid, so a bad file is reported once
	// and not on every poll.
	f.lastHash, f.loaded = hash, true
	if err := f.load(data, apply); err != nil {
		f.log().Error("Rejected proxy configuration, keeping the active one", "path", f.Path, "error", err)
		return
	}
	f.log().Info("Applied proxy configuration", "path", f.Path, "sha256", fmt.Sprintf("%x", hash[:6]))
}

// readFailed logs an unreadable file once per distinct error.
func (f *FileSource) readFailed(err error) {
	if err.Error() == f.lastReadErr {
		return
	}
	f.lastReadErr = err.Error()
	f.log().Error("Cannot read proxy configuration, keeping the active one", "path", f.Path, "error", err)
}

func (f *FileSource) load(data []byte, apply func(*Config) error) error {
	cfg, err := Decode(data)
	if err != nil {
		return err
	}
	return apply(cfg)
}
