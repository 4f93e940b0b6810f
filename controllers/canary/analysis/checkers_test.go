package analysis

import (
	"testing"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

func TestCheckers_ShareOneCheckerPerServer(t *testing.T) {
	var checkers Checkers
	server := Server{Address: meshAddress, Source: meshv1alpha1.MetricsServerFromMesh, bearerToken: "a"}
	first, err := checkers.For(server)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := checkers.For(server)
	rotated := server
	rotated.bearerToken = "b"
	afterRotation, _ := checkers.For(rotated)
	if first != again {
		t.Errorf("the same server got two Checkers")
	}
	if afterRotation == first || afterRotation.Server() != rotated {
		t.Errorf("a rotated token reuses the Checker of the old one")
	}
	if _, err := checkers.For(Server{Address: meshAddress, caPEM: "junk"}); err == nil {
		t.Errorf("an unusable CA bundle gave a Checker")
	}
}
