package main

import (
	"testing"
	"time"
)

func TestMedianOfRounds_OneNoisyRoundDoesNotMoveTheRow(t *testing.T) {
	quiet := row(targetSluice, ms, 2*ms, 20000, 12e6, 20e6)
	noisy := row(targetSluice, 9*ms, 30*ms, 4000, 13e6, 25e6)
	noisy.errors = 3
	failed := targetResult{name: targetSluice, err: errorString("did not start")}
	got := medianOfRounds([]targetResult{quiet, noisy, failed, quiet})
	if got.err != nil || got.added50 != ms || got.added99 != 2*ms || got.maxRPS != 20000 || got.rssLoad != 20e6 {
		t.Errorf("got +p50 %s +p99 %s rps %.0f rss %d err %v; want the quiet round's numbers", got.added50, got.added99, got.maxRPS, got.rssLoad, got.err)
	}
	if got.errors != 3 {
		t.Errorf("errors = %d, want the 3 of every round", got.errors)
	}
	if all := medianOfRounds([]targetResult{failed, failed}); all.err == nil {
		t.Error("a target that failed in every round has no error")
	}
	if m := median([]time.Duration{4, 1, 3, 2}); m != 2 {
		t.Errorf("median of an even count = %d, want the mean of the middle two (2)", m)
	}
}
