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
