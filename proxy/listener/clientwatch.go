package listener

import (
	"sync"
	"time"
)

// watchAfter is how long a request on the fast path runs before the server
// starts watching its connection for the client going away.
//
// Why not at once, as net/http does: watching means a read on the
// connection in another goroutine, and stopping it means a deadline in the
// past and a wait for that goroutine. Most requests of a sidecar are over
// well before this; one that takes longer (a long poll, a slow backend) has
// its upstream request cancelled soon after its client leaves, so the
// backend's work and the proxy's connection are not held for nothing.
const watchAfter = 50 * time.Millisecond

// clientWatch reads from a connection while its request (without a body)
// is served, to cancel the request when the client closes the connection.
// A byte that arrives instead (the client's next request, pipelined) is
// given back to the connection's reader.
type clientWatch struct {
	conn  *serverConn
	timer *time.Timer
	done  chan struct{}

	mu      sync.Mutex
	stopped bool // the request is over: do not start
	running bool // a read is under way

	b       [1]byte
	hasByte bool
	gone    bool
}

func (w *clientWatch) init(c *serverConn) {
	w.conn = c
	w.done = make(chan struct{}, 1)
	w.timer = time.AfterFunc(time.Hour, w.run)
	w.timer.Stop()
}

// arm starts watching after watchAfter, unless disarm comes first.
func (w *clientWatch) arm() { w.timer.Reset(watchAfter) }

// disarm stops watching and says whether the client went away.
func (w *clientWatch) disarm() (gone bool) {
	if w.timer.Stop() {
		return false // it never started
	}
	w.mu.Lock()
	w.stopped = true
	running := w.running
	w.mu.Unlock()
	if running {
		_ = w.conn.raw.SetReadDeadline(aLongTimeAgo)
	}
	<-w.done
	w.mu.Lock()
	w.stopped, w.running = false, false
	gone = w.gone
	w.gone = false
	w.mu.Unlock()
	if running {
		// The watch cleared the deadline and the abort set one: the next
		// header wait sets its own.
		w.conn.deadline = aLongTimeAgo
	}
	return gone
}

// run is the watch: one read until the client sends or leaves, or disarm
// ends it.
func (w *clientWatch) run() {
	defer func() { w.done <- struct{}{} }()
	w.mu.Lock()
	if w.stopped {
		w.mu.Unlock()
		return
	}
	w.running = true
	// The header's deadline must not end the watch of a long request.
	_ = w.conn.raw.SetReadDeadline(time.Time{})
	w.mu.Unlock()
	n, err := w.conn.raw.Read(w.b[:])
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case n == 1:
		w.hasByte = true
	case err != nil && !w.stopped:
		// Closed or reset by the client, not stopped by disarm.
		w.gone = true
		w.conn.cancel()
	}
}
