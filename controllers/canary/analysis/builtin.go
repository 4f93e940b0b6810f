package analysis

import (
	"fmt"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

// builtinQueries are the queries of the builtin metrics for the metrics of one data plane. Each measures the
// canary workload ({{ target }}) where its pods receive traffic.
type builtinQueries struct {
	// successRate is request-success-rate: the percent of requests that did not fail.
	successRate string
	// durationP99 is request-duration: the 99th percentile latency in milliseconds.
	durationP99 string
	// requestCount counts the requests both are computed from, over {{ interval }}, for minRequests. It reads
	// the same request counter as successRate (a histogram's _count would count the same requests).
	requestCount string
}

// sluiceQueries are for Sluice proxies, word for word as ARCHITECTURE.md gives them.
var sluiceQueries = builtinQueries{
	successRate:  `sum(rate(sluice_requests_total{direction="inbound",namespace="{{ namespace }}",workload="{{ target }}",classification="success"}[{{ interval }}])) / sum(rate(sluice_requests_total{direction="inbound",namespace="{{ namespace }}",workload="{{ target }}"}[{{ interval }}])) * 100`,
	durationP99:  `histogram_quantile(0.99, sum(rate(sluice_request_duration_seconds_bucket{direction="inbound",namespace="{{ namespace }}",workload="{{ target }}"}[{{ interval }}])) by (le)) * 1000`,
	requestCount: `sum(increase(sluice_requests_total{direction="inbound",namespace="{{ namespace }}",workload="{{ target }}"}[{{ interval }}]))`,
}

// istioQueries read the metrics of Istio's sidecars as reported by the receiving side (reporter="destination"),
// where a 5xx response code is a failure. Istio's histogram is already in milliseconds.
var istioQueries = builtinQueries{
	successRate:  `sum(rate(istio_requests_total{reporter="destination",destination_workload_namespace="{{ namespace }}",destination_workload="{{ target }}",response_code!~"5.*"}[{{ interval }}])) / sum(rate(istio_requests_total{reporter="destination",destination_workload_namespace="{{ namespace }}",destination_workload="{{ target }}"}[{{ interval }}])) * 100`,
	durationP99:  `histogram_quantile(0.99, sum(rate(istio_request_duration_milliseconds_bucket{reporter="destination",destination_workload_namespace="{{ namespace }}",destination_workload="{{ target }}"}[{{ interval }}])) by (le))`,
	requestCount: `sum(increase(istio_requests_total{reporter="destination",destination_workload_namespace="{{ namespace }}",destination_workload="{{ target }}"}[{{ interval }}]))`,
}

// linkerdQueries read the metrics of Linkerd's proxies on the inbound side, which classify each response
// (classification="failure" for 5xx and transport errors). Linkerd's histogram is already in milliseconds.
var linkerdQueries = builtinQueries{
	successRate:  `sum(rate(response_total{direction="inbound",namespace="{{ namespace }}",deployment="{{ target }}",classification!="failure"}[{{ interval }}])) / sum(rate(response_total{direction="inbound",namespace="{{ namespace }}",deployment="{{ target }}"}[{{ interval }}])) * 100`,
	durationP99:  `histogram_quantile(0.99, sum(rate(response_latency_ms_bucket{direction="inbound",namespace="{{ namespace }}",deployment="{{ target }}"}[{{ interval }}])) by (le))`,
	requestCount: `sum(increase(response_total{direction="inbound",namespace="{{ namespace }}",deployment="{{ target }}"}[{{ interval }}]))`,
}

// queriesFor returns the builtin queries that fit a provider's data plane. Providers that only change how
// traffic is split (gatewayapi, kubernetes, smi) still send it through Sluice proxies, so they use Sluice's.
func queriesFor(provider meshv1alpha1.Provider) (builtinQueries, error) {
	switch provider {
	case meshv1alpha1.ProviderSluice, meshv1alpha1.ProviderGatewayAPI, meshv1alpha1.ProviderKubernetes,
		meshv1alpha1.ProviderSMI, "":
		return sluiceQueries, nil
	case meshv1alpha1.ProviderIstio:
		return istioQueries, nil
	case meshv1alpha1.ProviderLinkerd:
		return linkerdQueries, nil
	}
	return builtinQueries{}, fmt.Errorf("provider %q has no builtin metrics", provider)
}

// builtinQuery returns the query and request count query of a builtin metric name.
func builtinQuery(provider meshv1alpha1.Provider, name string) (query, requestCount string, err error) {
	q, err := queriesFor(provider)
	if err != nil {
		return "", "", err
	}
	switch name {
	case meshv1alpha1.MetricRequestSuccessRate:
		return q.successRate, q.requestCount, nil
	case meshv1alpha1.MetricRequestDuration:
		return q.durationP99, q.requestCount, nil
	}
	return "", "", fmt.Errorf("%q is not a builtin metric (%s, %s)", name,
		meshv1alpha1.MetricRequestSuccessRate, meshv1alpha1.MetricRequestDuration)
}
