package analysis

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// queriesCounter counts the instant queries the analysis sends to Prometheus,
// so an operator sees the load the analysis puts on Prometheus and whether it
// answers with numbers.
var queriesCounter = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "sluice_canary_prometheus_queries_total",
	Help: "Instant queries sent to Prometheus by the analysis, by the namespace measured and by result: " +
		"ok (one finite number), no_data (no series) or error (anything else).",
}, []string{"namespace", "result"})

func init() { metrics.Registry.MustRegister(queriesCounter) }

// Results of sluice_canary_prometheus_queries_total.
const (
	queryOK     = "ok"
	queryNoData = "no_data"
	queryError  = "error"
)

// recordQuery records one query's outcome.
func recordQuery(namespace string, err error) {
	result := queryOK
	switch {
	case errors.Is(err, errNoData):
		result = queryNoData
	case err != nil:
		result = queryError
	}
	queriesCounter.WithLabelValues(namespace, result).Inc()
}
