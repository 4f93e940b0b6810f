// Package fault injects failures into requests on purpose, to test how
// clients and canaries cope: a delay before forwarding, or an abort with an
// error status instead of forwarding, each on a share of the requests,
// optionally only for requests carrying given headers.
package fault

import (
	"context"
	"math/rand/v2"
	"net/http"
	"regexp"
	"time"
)

// Fault is a route's compiled fault injection. It is immutable.
type Fault struct {
	// Delay added before forwarding; 0 = none.
	Delay time.Duration
	// DelayPercent of requests delayed, 0 to 100.
	DelayPercent float64
	// AbortStatus answered instead of forwarding; 0 = no abort.
	AbortStatus int
	// AbortPercent of requests aborted, 0 to 100.
	AbortPercent float64
	// Headers limit the fault to requests that match all of them.
	Headers []Header
}

// Header is one header condition.
type Header struct {
	// Name in canonical MIME form.
	Name string
	// Value compared exactly when RE is nil.
	Value string
	// RE, when set, must match the whole value.
	RE *regexp.Regexp
}

// Decision is what happens to one request.
type Decision struct {
	// Delay to wait before going on; 0 = none.
	Delay time.Duration
	// AbortStatus to answer instead of forwarding; 0 = forward.
	AbortStatus int
}

// Decide draws the fault for one request; nil f decides nothing.
func (f *Fault) Decide(h http.Header) Decision {
	if f == nil || !f.matches(h) {
		return Decision{}
	}
	var d Decision
	if f.Delay > 0 && chance(f.DelayPercent) {
		d.Delay = f.Delay
	}
	if f.AbortStatus != 0 && chance(f.AbortPercent) {
		d.AbortStatus = f.AbortStatus
	}
	return d
}

func (f *Fault) matches(h http.Header) bool {
	for _, c := range f.Headers {
		values := h[c.Name]
		ok := false
		for _, v := range values {
			if (c.RE == nil && v == c.Value) || (c.RE != nil && c.RE.MatchString(v)) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func chance(percent float64) bool {
	return percent >= 100 || (percent > 0 && rand.Float64()*100 < percent)
}

// Wait sleeps for the decided delay, or until ctx ends; it returns ctx's
// error in that case.
func (d Decision) Wait(ctx context.Context) error {
	if d.Delay <= 0 {
		return nil
	}
	t := time.NewTimer(d.Delay)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
