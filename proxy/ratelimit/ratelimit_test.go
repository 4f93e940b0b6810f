package ratelimit

import "testing"

func TestLimiter_BurstDefaultsToTheRateRoundedUp(t *testing.T) {
	l := New(2.5, 0)
	passed := 0
	for range 10 {
		if l.Allow() {
			passed++
		}
	}
	if passed != 3 {
		t.Errorf("%d of 10 immediate requests passed, want a burst of 3 (2.5 rounded up)", passed)
	}
	if !l.Same(2.5, 3) || !l.Same(2.5, 0) || l.Same(2.5, 4) || l.Same(3, 3) {
		t.Error("Same must compare the effective rate and burst")
	}
}
