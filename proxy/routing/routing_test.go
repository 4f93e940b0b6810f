package routing

import (
	"net/http/httptest"
	"testing"

	"github.com/sluicemesh/sluice/proxy/config"
)

func snapshot(t testing.TB, yaml string) *config.Snapshot {
	t.Helper()
	cfg, err := config.Load([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	snap, err := config.NewSnapshot(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

const routesYAML = `
outbound:
  services:
  - name: app
    namespace: demo
    port: 8080
    routes:
    - name: exact
      matches: [{path: {type: Exact, value: /healthz}}]
      backends: [{name: health}]
    - name: canary-header
      matches:
      - headers: [{name: X-Canary, value: "yes"}]
      - headers: [{name: cookie, value: ".*canary=1.*", type: RegularExpression}]
      backends: [{name: app-canary}]
    - name: api-posts
      matches: [{path: {value: /api}, method: POST}]
      backends: [{name: writer}]
    - name: versions
      matches: [{path: {type: RegularExpression, value: "/v[0-9]+/.*"}}]
      backends: [{name: versioned}]
    - name: split
      backends: [{name: app-primary, weight: 90}, {name: app-canary, weight: 10}, {name: drained, weight: 0}]
backends:
- {name: health, namespace: demo}
- {name: app-canary, namespace: demo}
- {name: app-primary, namespace: demo}
- {name: writer, namespace: demo}
- {name: versioned, namespace: demo}
- {name: drained, namespace: demo}
`

func TestFind_PicksTheFirstRouteThatAccepts(t *testing.T) {
	snap := snapshot(t, routesYAML)
	cases := []struct {
		name, method, target string
		headers              map[string]string
		wantRule             string
	}{
		{"exact path", "GET", "http://app:8080/healthz", nil, "exact"},
		{"exact path is not a prefix", "GET", "http://app:8080/healthz/deep", nil, "split"},
		{"header exact, any case of name", "GET", "http://app:8080/", map[string]string{"x-canary": "yes"}, "canary-header"},
		{"header value is case sensitive", "GET", "http://app:8080/", map[string]string{"x-canary": "YES"}, "split"},
		{"second match of a route", "GET", "http://app:8080/", map[string]string{"Cookie": "a=b; canary=1"}, "canary-header"},
		{"prefix and method", "POST", "http://app:8080/api/items", nil, "api-posts"},
		{"prefix on the segment itself", "POST", "http://app:8080/api", nil, "api-posts"},
		{"prefix stops at segment boundary", "POST", "http://app:8080/apis", nil, "split"},
		{"method mismatch", "GET", "http://app:8080/api/items", nil, "split"},
		{"anchored regular expression", "GET", "http://app:8080/v2/users", nil, "versions"},
		{"regular expression must match whole path", "GET", "http://app:8080/x/v2/users", nil, "split"},
		{"fully qualified authority", "GET", "http://app.demo.svc.cluster.local:8080/healthz", nil, "exact"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, tc.target, nil)
			for k, v := range tc.headers {
				r.Header.Set(k, v)
			}
			table, rule := Find(snap, r)
			if table == nil || rule == nil {
				t.Fatalf("no route for %s %s", tc.method, tc.target)
			}
			if rule.Name != tc.wantRule {
				t.Errorf("route = %s, want %s", rule.Name, tc.wantRule)
			}
		})
	}
}

func TestFind_UnknownAuthorityHasNoTable(t *testing.T) {
	snap := snapshot(t, routesYAML)
	for _, target := range []string{"http://app/healthz", "http://other:8080/"} {
		if table, _ := Find(snap, httptest.NewRequest("GET", target, nil)); table != nil {
			t.Errorf("%s found table %s", target, table.Name)
		}
	}
}

func TestPickDestination_SplitsByWeightAndNeverPicksWeightZero(t *testing.T) {
	snap := snapshot(t, routesYAML)
	_, rule := Find(snap, httptest.NewRequest("GET", "http://app:8080/", nil))
	counts := map[string]int{}
	const n = 100_000
	for range n {
		counts[PickDestination(rule).Name]++
	}
	if share := float64(counts["app-canary"]) / n; share < 0.09 || share > 0.11 {
		t.Errorf("canary share = %.3f, want 0.10 +/- 0.01", share)
	}
	if counts["drained"] != 0 {
		t.Errorf("weight 0 backend got %d picks", counts["drained"])
	}
	if DestinationAt(rule, 89).Name != "app-primary" || DestinationAt(rule, 90).Name != "app-canary" {
		t.Error("cumulative weight boundaries are off by one")
	}
}

func TestShouldMirror_FollowsThePercent(t *testing.T) {
	snap := snapshot(t, `
outbound:
  services:
  - name: app
    namespace: demo
    port: 80
    routes: [{backends: [{name: app}], mirror: {backend: {name: shadow}, percent: 25}}]
backends: [{name: app, namespace: demo}, {name: shadow, namespace: demo}]
`)
	_, rule := Find(snap, httptest.NewRequest("GET", "http://app/", nil))
	mirrored := 0
	for range 10_000 {
		if ShouldMirror(rule) {
			mirrored++
		}
	}
	if mirrored < 2200 || mirrored > 2800 {
		t.Errorf("mirrored %d of 10000, want about 2500", mirrored)
	}
}

var sinkRule *config.RouteRule

func BenchmarkFindAndPick(b *testing.B) {
	snap := snapshot(b, routesYAML)
	r := httptest.NewRequest("GET", "http://app.demo.svc.cluster.local:8080/users/42", nil)
	r.Header.Set("User-Agent", "bench")
	b.ReportAllocs()
	for b.Loop() {
		_, rule := Find(snap, r)
		if PickDestination(rule) == nil {
			b.Fatal("no destination")
		}
		sinkRule = rule
	}
}

func BenchmarkFindHostWithoutPort(b *testing.B) {
	snap := snapshot(b, `
outbound:
  services: [{name: app, namespace: demo, port: 80}]
backends: [{name: app, namespace: demo}]
`)
	r := httptest.NewRequest("GET", "http://app/", nil)
	b.ReportAllocs()
	for b.Loop() {
		_, sinkRule = Find(snap, r)
	}
}

func TestAccepts_HeaderOnAnyValue(t *testing.T) {
	snap := snapshot(t, routesYAML)
	r := httptest.NewRequest("GET", "http://app:8080/", nil)
	r.Header.Add("X-Canary", "no")
	r.Header.Add("X-Canary", "yes")
	if _, rule := Find(snap, r); rule.Name != "canary-header" {
		t.Errorf("route = %s; a repeated header should match on any of its values", rule.Name)
	}
}
