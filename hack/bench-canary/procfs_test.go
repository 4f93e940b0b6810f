package main

import (
	"testing"
	"time"
)

func TestParseCPUCountsFieldsAfterTheLastParenthesis(t *testing.T) {
	// A command name with spaces and ')' must not shift the fields.
	stat := "4242 (mana ger) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 130 0 0 20 0 12 0 100 0 0"
	got, err := parseCPU(stat)
	if err != nil {
		t.Fatal(err)
	}
	if want := 3800 * time.Millisecond; got != want { // (250+130) ticks at 100 Hz
		t.Fatalf("cpu = %s, want %s", got, want)
	}
}

func TestParseCPURejectsTruncatedStat(t *testing.T) {
	if _, err := parseCPU("1 (m) S 1 2"); err == nil {
		t.Fatal("want an error for a truncated stat line")
	}
}
