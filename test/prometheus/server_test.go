package prometheus_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	client "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/model"

	"github.com/sluicemesh/sluice/test/prometheus"
)

func TestStart_ScrapesLoopbackTargetAndAnswersQueries(t *testing.T) {
	g := NewWithT(t)
	registry := client.NewRegistry()
	requests := client.NewCounterVec(client.CounterOpts{
		Name: "sluice_test_requests_total",
		Help: "Requests counted by the test endpoint.",
	}, []string{"classification"})
	registry.MustRegister(requests)
	requests.WithLabelValues("success").Add(7)
	target := httptest.NewServer(promhttp.HandlerFor(registry, promhttp.HandlerOpts{}))
	t.Cleanup(target.Close)
	targetAddr := target.Listener.Addr().String()

	prom := prometheus.Start(t, prometheus.Options{ScrapeTargets: []string{targetAddr}})

	ctx := context.Background()
	g.Eventually(func(g Gomega) {
		result, _, err := prom.API().Query(ctx, `sluice_test_requests_total{classification="success"}`, time.Now())
		g.Expect(err).NotTo(HaveOccurred())
		vector, ok := result.(model.Vector)
		g.Expect(ok).To(BeTrue(), "result type %s", result.Type())
		g.Expect(vector).To(HaveLen(1))
		g.Expect(float64(vector[0].Value)).To(Equal(7.0))
		g.Expect(string(vector[0].Metric["instance"])).To(Equal(targetAddr))
		g.Expect(string(vector[0].Metric["job"])).To(Equal("test"))
	}, 30*time.Second, 250*time.Millisecond).Should(Succeed())

	// A change at the target shows up at the next scrape.
	requests.WithLabelValues("success").Add(3)
	g.Eventually(func(g Gomega) {
		result, _, err := prom.API().Query(ctx, `sluice_test_requests_total{classification="success"}`, time.Now())
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(result.(model.Vector)).To(HaveLen(1))
		g.Expect(float64(result.(model.Vector)[0].Value)).To(Equal(10.0))
	}, 30*time.Second, 250*time.Millisecond).Should(Succeed())
}
