package prometheus_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"github.com/prometheus/common/model"

	"github.com/sluicemesh/sluice/test/prometheus"
)

// requestsAt returns the inbound request counters of one workload over ten
// minutes starting at start, a sample every 15s: 19 successes and 1 failure
// per sample, so the success rate is 95% throughout.
func requestsAt(start time.Time) []prometheus.Sample {
	var samples []prometheus.Sample
	for i := 0; i <= 40; i++ {
		at := start.Add(time.Duration(i) * 15 * time.Second)
		for classification, perStep := range map[string]float64{"success": 19, "failure": 1} {
			samples = append(samples, prometheus.Sample{
				Metric: "sluice_requests_total",
				Labels: map[string]string{
					"direction": "inbound", "namespace": "demo", "workload": "podinfo-canary",
					"classification": classification,
				},
				Value: perStep * float64(i),
				Time:  at,
			})
		}
	}
	return samples
}

func TestBackfill_SamplesAreQueryableAtTheirTime(t *testing.T) {
	g := NewWithT(t)
	start := time.Now().Add(-3 * time.Hour).Truncate(time.Minute)
	prom := prometheus.Start(t, prometheus.Options{Backfill: requestsAt(start)})
	ctx := context.Background()
	at := start.Add(5 * time.Minute) // the 20th sample

	result, _, err := prom.API().Query(ctx, `sluice_requests_total{classification="failure"}`, at)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(result.(model.Vector)).To(HaveLen(1))
	g.Expect(float64(result.(model.Vector)[0].Value)).To(Equal(20.0))

	// The builtin request-success-rate query of ARCHITECTURE.md, as analysis
	// will run it against history.
	successRate := `sum(rate(sluice_requests_total{direction="inbound",namespace="demo",workload="podinfo-canary",classification="success"}[1m])) / sum(rate(sluice_requests_total{direction="inbound",namespace="demo",workload="podinfo-canary"}[1m])) * 100`
	result, _, err = prom.API().Query(ctx, successRate, at)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(result.(model.Vector)).To(HaveLen(1))
	g.Expect(float64(result.(model.Vector)[0].Value)).To(BeNumerically("~", 95, 0.001))

	// History is history: three hours later the series are stale.
	result, _, err = prom.API().Query(ctx, `sluice_requests_total`, time.Now())
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(result.(model.Vector)).To(BeEmpty())
}
