package main

import (
	"testing"
	"time"
)

func TestLatencies_NearestRankPercentilesAcrossMergedConnections(t *testing.T) {
	a, b := newLatencies(50), newLatencies(50)
	for i := 1; i <= 100; i++ {
		// Spread 1..100 µs over two connections, out of order.
		l := a
		if i%2 == 0 {
			l = b
		}
		l.record(time.Duration(101-i) * time.Microsecond)
	}
	all := newLatencies(0)
	all.merge(a)
	all.merge(b)
	for p, want := range map[float64]time.Duration{50: 50 * time.Microsecond, 90: 90 * time.Microsecond, 99: 99 * time.Microsecond, 100: 100 * time.Microsecond} {
		if got := all.percentile(p); got != want {
			t.Errorf("p%g = %s, want %s", p, got, want)
		}
	}
	if got := newLatencies(0).percentile(50); got != 0 {
		t.Errorf("empty p50 = %s, want 0", got)
	}
}
