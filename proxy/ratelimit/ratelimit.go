// Package ratelimit is the proxy's local rate limit: one token bucket per
// proxy, refilled at a fixed rate, so each replica of an application accepts
// at most that many requests per second and answers 429 beyond it. It is
// local on purpose: no round trip to a shared limiter on the request path.
package ratelimit

import (
	"math"

	"golang.org/x/time/rate"
)

// Limiter is a token bucket. Allow is safe for concurrent use.
type Limiter struct {
	rps   float64
	burst int
	// bucket is x/time/rate's limiter: a mutex and a few floats, no
	// goroutine and no allocation per call.
	bucket *rate.Limiter
}

// New returns a full bucket of burst tokens refilled at rps per second. A
// burst of 0 means rps rounded up (at least 1).
func New(rps float64, burst int) *Limiter {
	if burst <= 0 {
		burst = max(1, int(math.Ceil(rps)))
	}
	return &Limiter{rps: rps, burst: burst, bucket: rate.NewLimiter(rate.Limit(rps), burst)}
}

// Allow takes a token; false means the request is over the limit.
func (l *Limiter) Allow() bool { return l.bucket.Allow() }

// Same reports whether l has these settings, so a configuration reload that
// keeps them keeps the bucket (and its level) instead of refilling it.
func (l *Limiter) Same(rps float64, burst int) bool {
	if l == nil {
		return false
	}
	if burst <= 0 {
		burst = max(1, int(math.Ceil(rps)))
	}
	return l.rps == rps && l.burst == burst
}
