package listener

import "testing"

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
