package authz

import (
	"net/http/httptest"
	"testing"
)

func TestPolicy_Allow(t *testing.T) {
	const (
		frontend = "spiffe://cluster.local/ns/shop/sa/frontend"
		batch    = "spiffe://cluster.local/ns/jobs/sa/batch"
	)
	p := &Policy{Rules: []Rule{
		{Identities: []string{frontend}},
		{Namespaces: []string{"jobs"}, Methods: []string{"GET"}, PathPrefixes: []string{"/reports"}},
		{PathPrefixes: []string{"/healthz"}},
	}}
	tests := []struct {
		name, peer, method, path string
		want                     bool
	}{
		{"listed identity, anything", frontend, "DELETE", "/orders/1", true},
		{"namespace rule, method and path match", batch, "GET", "/reports/daily", true},
		{"namespace rule, wrong method", batch, "POST", "/reports/daily", false},
		{"namespace rule, prefix is whole segments", batch, "GET", "/reportsx", false},
		{"unlisted namespace", "spiffe://cluster.local/ns/other/sa/batch", "GET", "/reports", false},
		{"plaintext caller, open path", "", "GET", "/healthz", true},
		{"plaintext caller, protected path", "", "GET", "/orders", false},
		{"identity that is not a SPIFFE URI", "ns/jobs/sa/x", "GET", "/reports", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.Allow(tt.peer, httptest.NewRequest(tt.method, tt.path, nil)); got != tt.want {
				t.Errorf("Allow = %v, want %v", got, tt.want)
			}
		})
	}
	p.DefaultAllow = true
	if !p.Allow("", httptest.NewRequest("GET", "/orders", nil)) {
		t.Error("default Allow did not allow a request no rule matches")
	}
}
