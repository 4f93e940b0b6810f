package breaker

import (
	"context"
	"sync/atomic"
	"time"
)

// recheckInterval bounds how long a waiting request sleeps without a wake-up,
// in case a free slot appeared between its last look and its wait.
const recheckInterval = 10 * time.Millisecond

// Pending bounds the requests waiting for a backend whose available
// endpoints are all full. Beyond the bound a request fails fast (503) instead
// of queueing without limit behind a saturated backend.
type Pending struct {
	max     int64
	waiting atomic.Int64
	freed   chan struct{}
}

// NewPending allows max waiting requests; 0 lets none wait.
func NewPending(max int) *Pending {
	return &Pending{max: int64(max), freed: make(chan struct{}, 1)}
}

// Wait waits for an endpoint to free up, for as long as ctx allows, while
// try returns false. It returns false at once when the queue is full (or
// disabled) or when ctx ends first.
func (p *Pending) Wait(ctx context.Context, try func() bool) bool {
	if p == nil || p.max <= 0 {
		return false
	}
	if p.waiting.Add(1) > p.max {
		p.waiting.Add(-1)
		return false
	}
	defer p.waiting.Add(-1)
	t := time.NewTimer(recheckInterval)
	defer t.Stop()
	for {
		if try() {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-p.freed:
		case <-t.C:
		}
		t.Reset(recheckInterval)
	}
}

// Freed tells one waiting request that an endpoint finished a request. It
// costs one atomic load when nobody waits.
func (p *Pending) Freed() {
	if p == nil || p.waiting.Load() == 0 {
		return
	}
	select {
	case p.freed <- struct{}{}:
	default:
	}
}

// Waiting is the number of requests waiting now.
func (p *Pending) Waiting() int64 { return p.waiting.Load() }
