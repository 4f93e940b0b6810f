package listener

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// sumOf adds up every series of a counter or gauge in the proxy's registry.
func sumOf(t testing.TB, p *testProxy, name string) float64 {
	t.Helper()
	mfs, err := p.metrics.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return sum
}

// httptestRecorder renders the proxy's metrics in the text format, as
// /metrics serves them.
func httptestRecorder(p *testProxy) string {
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(p.metrics.Registry(), promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	return rec.Body.String()
}

func grepLines(text, prefix string) string {
	var b strings.Builder
	for line := range strings.Lines(text) {
		if strings.HasPrefix(line, prefix) {
			b.WriteString(line)
		}
	}
	return b.String()
}
