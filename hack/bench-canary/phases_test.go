package main

import (
	"reflect"
	"testing"
)

func TestCountPhasesCountsCanariesWithoutAPhase(t *testing.T) {
	got := countPhases("Initialized\n\nSucceeded\nInitialized\n")
	want := map[string]int{"Initialized": 2, "-": 1, "Succeeded": 1}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("countPhases = %v, want %v", got, want)
	}
	if got := countPhases(""); len(got) != 0 {
		t.Fatalf("countPhases of an empty list = %v, want nothing", got)
	}
}

func TestUnsettled(t *testing.T) {
	if got := unsettled("1 1\n0\n0 0\n1 2\n0 1\n"); got != 2 {
		t.Errorf("unsettled = %d, want 2 (one with an old pod left, one not scaled down yet)", got)
	}
	if got := unsettled(""); got != 0 {
		t.Errorf("no Deployments: %d unsettled, want 0", got)
	}
}
