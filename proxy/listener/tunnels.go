package listener

import (
	"context"
	"net"
	"sync"
)

// tunnels are a listener's opaque TCP connections in flight. The HTTP server
// drains its own connections on shutdown; these it never sees, so the
// listener keeps them here for DrainTunnels to wait for (a database session
// or a long download ends on its own within the grace period), and to cut
// what is left when the grace period is over.
type tunnels struct {
	mu       sync.Mutex
	open     map[*tunnel]struct{}
	draining bool
	// emptied is closed when the last tunnel ends during a drain.
	emptied chan struct{}
}

type tunnel struct{ client, upstream net.Conn }

// pipe passes bytes between client and upstream until both are done (see
// pipe); once a drain has begun, a new tunnel is refused.
func (t *tunnels) pipe(client, upstream net.Conn) {
	tn := &tunnel{client: client, upstream: upstream}
	if !t.add(tn) {
		_ = client.Close()
		_ = upstream.Close()
		return
	}
	defer t.remove(tn)
	pipe(client, upstream)
}

func (t *tunnels) add(tn *tunnel) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.draining {
		return false
	}
	if t.open == nil {
		t.open = map[*tunnel]struct{}{}
	}
	t.open[tn] = struct{}{}
	return true
}

func (t *tunnels) remove(tn *tunnel) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.open, tn)
	if len(t.open) == 0 && t.emptied != nil {
		close(t.emptied)
		t.emptied = nil
	}
}

// drain refuses new tunnels, waits until the open ones end or ctx ends, then
// closes those left and says how many it cut.
func (t *tunnels) drain(ctx context.Context) int {
	t.mu.Lock()
	t.draining = true
	if len(t.open) == 0 {
		t.mu.Unlock()
		return 0
	}
	emptied := make(chan struct{})
	t.emptied = emptied
	t.mu.Unlock()

	select {
	case <-emptied:
		return 0
	case <-ctx.Done():
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for tn := range t.open {
		_ = tn.client.Close()
		_ = tn.upstream.Close()
	}
	return len(t.open)
}
