package main

import "testing"

func TestDisplayName(t *testing.T) {
	for kind, want := range map[string]string{"Canary": "Canary", "TrafficPolicy": "Traffic Policy", "HTTPRoute": "HTTPRoute"} {
		if got := displayName(kind); got != want {
			t.Errorf("displayName(%q) = %q, want %q", kind, got, want)
		}
	}
}

func TestFirstParagraph(t *testing.T) {
	doc := "Canary shifts traffic\nto a new version.\n\nMore detail a console does not need."
	if got, want := firstParagraph(doc), "Canary shifts traffic to a new version."; got != want {
		t.Errorf("firstParagraph = %q, want %q", got, want)
	}
}
