package retry

import (
	"sync"
	"time"
)

// budgetSeconds is how much recent traffic, in seconds, the budget looks at.
const budgetSeconds = 10

// Budget allows retries up to a ratio of the requests seen over the last ten
// seconds, plus a small allowance per second so that a service with little
// traffic can still retry. Under a full outage every request fails, and the
// budget keeps the extra load at the ratio instead of multiplying it by the
// attempts.
type Budget struct {
	ratio     float64
	minPerSec float64
	mu        sync.Mutex
	slots     [budgetSeconds]budgetSlot // one per second of the window
	now       func() time.Time
}

type budgetSlot struct {
	second   int64
	requests float64
	retries  float64
}

// NewBudget returns a budget allowing retries = ratio * requests +
// minPerSecond * 10 over any ten-second window.
func NewBudget(ratio float64, minPerSecond int) *Budget {
	return &Budget{ratio: ratio, minPerSec: float64(minPerSecond), now: time.Now}
}

// Request records a first try.
func (b *Budget) Request() {
	b.mu.Lock()
	b.slot().requests++
	b.mu.Unlock()
}

// Withdraw takes one retry from the budget; false when it is spent.
func (b *Budget) Withdraw() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	cur := b.slot()
	var requests, retries float64
	for i := range b.slots {
		if s := &b.slots[i]; cur.second-s.second < int64(len(b.slots)) {
			requests += s.requests
			retries += s.retries
		}
	}
	if retries+1 > b.ratio*requests+b.minPerSec*float64(len(b.slots)) {
		return false
	}
	cur.retries++
	return true
}

// slot returns the current second's slot, clearing it when it last served an
// older second. Called with mu held.
func (b *Budget) slot() *budgetSlot {
	sec := b.now().Unix()
	s := &b.slots[sec%int64(len(b.slots))]
	if s.second != sec {
		*s = budgetSlot{second: sec}
	}
	return s
}
