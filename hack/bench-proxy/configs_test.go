package main

import (
	"testing"

	"github.com/sluicemesh/sluice/proxy/config"
)

// The bench writes Sluice configs by hand; they must stay valid for the
// proxy's own loader, or the Sluice rows silently stop measuring anything.
func TestSluiceConfigs_LoadInTheProxy(t *testing.T) {
	for name, yaml := range map[string]string{
		"single":      sluiceOutboundConfig("127.0.0.1:8080", ""),
		"pair client": sluiceOutboundConfig("127.0.0.1:14143", serverIdentity),
		"pair server": sluiceInboundConfig("127.0.0.1:8080"),
	} {
		if _, err := config.Load([]byte(yaml)); err != nil {
			t.Errorf("%s: %v\n%s", name, err, yaml)
		}
	}
}

func TestParseTargets_AlwaysMeasuresDirectInTableOrder(t *testing.T) {
	got, err := parseTargets("nginx, sluice")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{targetDirect, targetSluice, targetNginx}; len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("got %v, want %v", got, want)
	}
	if _, err := parseTargets("envoy"); err == nil {
		t.Error("an unknown target was accepted")
	}
}
