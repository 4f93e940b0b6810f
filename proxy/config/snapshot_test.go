package config

import (
	"testing"

	"github.com/sluicemesh/sluice/proxy/retry"
)

func TestSnapshot_ReachesAServiceByEveryKubernetesName(t *testing.T) {
	cfg, err := Load(mustReadExample(t))
	if err != nil {
		t.Fatal(err)
	}
	snap, err := NewSnapshot(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"app", "app:80", "APP.demo:80", "app.demo.svc:80", "app.demo.svc.cluster.local", "app.demo.svc.cluster.local:80"} {
		if tbl := snap.Service(CanonicalAuthority(host)); tbl == nil || tbl.Name != "app" {
			t.Errorf("Host %q: no route table for app", host)
		}
	}
	if snap.Service(CanonicalAuthority("app:81")) != nil {
		t.Error("app:81 found a route table; the Service listens on 80 only")
	}
	split := snap.Service("app:80").Rules[1]
	if split.TotalWeight != 100 || split.Destinations[0].Cumulative != 90 || split.Destinations[1].Destination.Name != "app-canary" {
		t.Errorf("split rule = %+v, want 90/10 primary/canary", split)
	}
	if r := split.Retries; r == nil || r.Attempts != 2 || r.On&retry.GatewayError == 0 || r.On&retry.ServerError != 0 || r.Budget == nil {
		t.Errorf("retries inherited from the Service = %+v", r)
	}
}

func TestSnapshot_KeepsEndpointStateAcrossSwaps(t *testing.T) {
	cfg, err := Load(mustReadExample(t))
	if err != nil {
		t.Fatal(err)
	}
	first, err := NewSnapshot(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ep := first.Service("app:80").Rules[1].Destinations[0].Destination.Endpoints[0]
	ep.Start() // one request in flight across the swap

	cfg2, _ := Load(mustReadExample(t))
	cfg2.Backends[0].Endpoints[1].Address = "198.18.0.99:8080"
	second, err := NewSnapshot(cfg2, first)
	if err != nil {
		t.Fatal(err)
	}
	eps := second.Service("app:80").Rules[1].Destinations[0].Destination.Endpoints
	if eps[0] != ep || eps[0].Inflight() != 1 {
		t.Error("an unchanged endpoint lost its state on the swap")
	}
	if eps[1].Address != "198.18.0.99:8080" || eps[1].Inflight() != 0 {
		t.Errorf("a changed endpoint = %s inflight %d, want fresh 198.18.0.99:8080", eps[1].Address, eps[1].Inflight())
	}
}

func TestSnapshot_ServiceWithoutRoutesGoesToItsOwnBackend(t *testing.T) {
	cfg := &Config{
		Outbound: Outbound{Services: []Service{{Name: "db", Namespace: "demo", Port: 5432}}},
		Backends: []Backend{{Name: "db", Namespace: "demo", Endpoints: []Endpoint{{Address: "127.0.0.1:5432"}}}},
	}
	snap, err := NewSnapshot(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	rules := snap.Service("db.demo:5432").Rules
	if len(rules) != 1 || len(rules[0].Matches) != 0 || rules[0].Destinations[0].Destination.Name != "db" {
		t.Errorf("rules = %+v, want one catch-all rule to backend db", rules)
	}
}

func TestSnapshot_CompilesTheResiliencePoliciesWithTheirDefaults(t *testing.T) {
	cfg, err := Load([]byte(`
inbound:
  target: 127.0.0.1:8080
  rateLimit: {requestsPerSecond: 2.5}
  authorization:
    rules: [{namespaces: [demo]}]
outbound:
  services:
  - name: app
    namespace: demo
    port: 80
    routes:
    - backends: [{name: app}]
      fault: {abort: {status: 503, percent: 10}}
backends:
- name: app
  namespace: demo
  circuitBreaker: {maxRequests: 1}
  endpoints: [{address: "127.0.0.1:9000"}]
`))
	if err != nil {
		t.Fatal(err)
	}
	snap, err := NewSnapshot(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rl := snap.Inbound.RateLimit; rl == nil || !rl.Same(2.5, 3) {
		t.Error("rate limit not compiled with its default burst (rate rounded up)")
	}
	if az := snap.Inbound.Authorization; az == nil || az.DefaultAllow {
		t.Error("authorization with rules must default to Deny")
	}
	rule := snap.Service("app:80").Rules[0]
	if rule.Fault == nil || rule.Fault.AbortStatus != 503 || rule.Fault.AbortPercent != 10 {
		t.Errorf("fault = %+v, want abort 503 on 10%%", rule.Fault)
	}
	if rule.Destinations[0].Destination.Breaker == nil {
		t.Error("circuit breaker not compiled")
	}

	// A reload with the same rate keeps the bucket, so it is not refilled.
	next, err := NewSnapshot(cfg, snap)
	if err != nil {
		t.Fatal(err)
	}
	if next.Inbound.RateLimit != snap.Inbound.RateLimit {
		t.Error("a reload with the same rate limit replaced the token bucket")
	}
}
