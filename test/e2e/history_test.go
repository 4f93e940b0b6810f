package e2e

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// history is what `kubectl get -w` shows of one object: every distinct value
// of a projection of it (its phase, its weights), in the order the API server
// stored them. A watch sees every write, so a value that lasted only between
// two polls is still recorded.
type history struct {
	mu     sync.Mutex
	values []string
	// seen is closed when the first value is recorded.
	seen chan struct{}
}

// watchHistory records project(obj) for the object name in namespace ns
// (list is the kind's list type) until the test ends. project returns ""
// for states it does not care about (e.g. an HTTPRoute not yet written).
// The object must exist: watchHistory returns once its current value is
// recorded, so that no later change is missed.
func watchHistory(t *testing.T, c client.WithWatch, list client.ObjectList, ns, name string, project func(runtime.Object) string) *history {
	t.Helper()
	h := &history{seen: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		// A watch ends when the API server closes it; watch again. The new
		// watch starts with the current object, which is deduplicated.
		for ctx.Err() == nil {
			w, err := c.Watch(ctx, list, client.InNamespace(ns), client.MatchingFields{"metadata.name": name})
			if err != nil {
				select {
				case <-ctx.Done():
				case <-time.After(200 * time.Millisecond):
				}
				continue
			}
			h.follow(ctx, w, project)
			w.Stop()
		}
	}()
	select {
	case <-h.seen:
	case <-time.After(30 * time.Second):
		t.Fatalf("Watch of %s/%s shows nothing after 30s", ns, name)
	}
	return h
}

func (h *history) follow(ctx context.Context, w watch.Interface, project func(runtime.Object) string) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-w.ResultChan():
			if !ok {
				return
			}
			if ev.Type != watch.Added && ev.Type != watch.Modified {
				continue
			}
			if v := project(ev.Object); v != "" {
				h.add(v)
			}
		}
	}
}

func (h *history) add(v string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := len(h.values)
	if n == 0 {
		close(h.seen)
	}
	if n == 0 || h.values[n-1] != v {
		h.values = append(h.values, v)
	}
}

// Values are the values seen so far, oldest first.
func (h *history) Values() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.values)
}
