package router

import (
	"testing"
)

// apexSplit is the kubernetes provider's split as the apex selector shows it.
func apexSplit(t *testing.T, f fixture) map[string]int64 {
	t.Helper()
	switch sel := f.service(t, "app").Spec.Selector; sel["app"] {
	case "app-primary":
		return map[string]int64{"app-primary": 100, "app-canary": 0}
	case "app":
		return map[string]int64{"app-primary": 0, "app-canary": 100}
	default:
		t.Fatalf("apex selector %v selects neither primary nor canary", sel)
		return nil
	}
}
