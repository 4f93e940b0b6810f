package analysis

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"

	"github.com/sluicemesh/sluice/api/querytemplate"
	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

// DefaultQueryTimeout bounds each Prometheus query unless Checker.QueryTimeout says otherwise.
const DefaultQueryTimeout = 10 * time.Second

// defaultInterval is the CRD's default analysis interval, for objects that were not defaulted.
const defaultInterval = time.Minute

// Checker runs metric checks against one Prometheus server. It is safe for concurrent use; keep one per
// Server (Servers are comparable) and Close it when the Server changes, to release its connections.
type Checker struct {
	// QueryTimeout bounds each query; the caller's context may cut it shorter. Default: DefaultQueryTimeout.
	QueryTimeout time.Duration

	server    Server
	transport http.RoundTripper
	api       promv1.API
}

// NewChecker returns a Checker for s. It fails only on a CA bundle without a certificate or an address the
// Prometheus client rejects; it does not contact the server.
func NewChecker(s Server) (*Checker, error) {
	transport, err := s.roundTripper()
	if err != nil {
		return nil, fmt.Errorf("metrics server %s: %w", s, err)
	}
	client, err := api.NewClient(api.Config{Address: s.Address, RoundTripper: transport})
	if err != nil {
		return nil, fmt.Errorf("metrics server %s: %w", s, err)
	}
	return &Checker{QueryTimeout: DefaultQueryTimeout, server: s, transport: transport, api: promv1.NewAPI(client)}, nil
}

// Server is the server this Checker queries.
func (k *Checker) Server() Server { return k.server }

// Close releases the idle connections to the server.
func (k *Checker) Close() { closeIdleConnections(k.transport) }

// Subject is what the queries of a check are about; it fills the builtin template variables.
type Subject struct {
	// Provider chooses the builtin queries (empty means sluice).
	Provider meshv1alpha1.Provider
	// Namespace is {{ namespace }}.
	Namespace string
	// Target is {{ target }}: the workload whose pods are measured.
	Target string
	// Service is {{ service }}: the apex Service.
	Service string
	// Interval is {{ interval }} for metrics that set none. Default: 1m.
	Interval time.Duration
}

// SubjectOf is the Subject of a Canary: its namespace, its target Deployment (the canary workload, measured
// while it receives traffic), the apex Service (named after the target) and its analysis interval.
func SubjectOf(c *meshv1alpha1.Canary) Subject {
	s := Subject{Provider: c.Spec.Provider, Namespace: c.Namespace, Target: c.Spec.TargetRef.Name,
		Service: c.Spec.TargetRef.Name}
	if c.Spec.Analysis.Interval != nil {
		s.Interval = c.Spec.Analysis.Interval.Duration
	}
	return s
}

// Check runs every metric of c at time now (the caller's clock) and returns one result per metric, in spec
// order. Templates are looked up in mesh (the Mesh default; nil when there is none). There is no error
// return on purpose: whatever goes wrong becomes a Failed result saying what, so a caller cannot mistake an
// unreachable Prometheus for a pass. Combine the results with Overall.
func (k *Checker) Check(ctx context.Context, c *meshv1alpha1.Canary, mesh *meshv1alpha1.Mesh, now time.Time) []Result {
	var templates []meshv1alpha1.MetricTemplate
	if mesh != nil {
		templates = mesh.Spec.Metrics.Templates
	}
	return k.CheckMetrics(ctx, SubjectOf(c), c.Spec.Analysis.Metrics, templates, now)
}

// CheckMetrics runs metrics about subject at time now, each with its own queries in parallel, and returns one
// result per metric in the order given. It serves Canaries (Check) and anything else analysed the same way,
// such as the Mesh's proxy upgrade gates.
func (k *Checker) CheckMetrics(ctx context.Context, subject Subject, metrics []meshv1alpha1.AnalysisMetric,
	templates []meshv1alpha1.MetricTemplate, now time.Time) []Result {
	results := make([]Result, len(metrics))
	var wg sync.WaitGroup
	for i, m := range metrics {
		wg.Go(func() { results[i] = k.checkMetric(ctx, subject, m, templates, now) })
	}
	wg.Wait()
	return results
}

// checkMetric renders a metric's queries, holds it below minRequests, and compares its value with the
// threshold range.
func (k *Checker) checkMetric(ctx context.Context, subject Subject, m meshv1alpha1.AnalysisMetric,
	templates []meshv1alpha1.MetricTemplate, now time.Time) Result {
	queryTemplate, countTemplate, err := metricQueries(subject.Provider, m, templates)
	if err != nil {
		return failed(m, "", err.Error(), now)
	}
	interval := subject.Interval
	if m.Interval != nil {
		interval = m.Interval.Duration
	}
	if interval <= 0 {
		interval = defaultInterval
	}
	variables := templateVariables(subject, m, interval)
	query, err := render(queryTemplate, variables, m.Variables)
	if err != nil {
		return failed(m, "", "query: "+err.Error(), now)
	}

	if m.MinRequests != nil {
		if countTemplate == "" {
			return failed(m, query, fmt.Sprintf("minRequests %d needs a requestCountQuery to count requests with", *m.MinRequests), now)
		}
		countQuery, err := render(countTemplate, variables, m.Variables)
		if err != nil {
			return failed(m, query, "requestCountQuery: "+err.Error(), now)
		}
		count, err := k.number(ctx, subject.Namespace, countQuery, now)
		switch {
		case errors.Is(err, errNoData):
			count = 0
		case err != nil:
			return failed(m, query, "counting requests: "+err.Error(), now)
		}
		if count < float64(*m.MinRequests) {
			return Result{Name: m.Name, Query: query, Value: math.NaN(), ThresholdRange: m.ThresholdRange,
				Outcome: meshv1alpha1.MetricHeld, CheckedAt: now,
				Message: fmt.Sprintf("%s requests over %s, below minRequests %d: not judged yet",
					formatValue(count), variables[querytemplate.VarInterval], *m.MinRequests)}
		}
	}

	value, err := k.number(ctx, subject.Namespace, query, now)
	if err != nil {
		return failed(m, query, err.Error(), now)
	}
	outside, err := withinRange(value, m.ThresholdRange)
	if err != nil {
		return failed(m, query, err.Error(), now)
	}
	r := Result{Name: m.Name, Query: query, Value: value, ThresholdRange: m.ThresholdRange, CheckedAt: now,
		Outcome: meshv1alpha1.MetricPassed, Message: formatValue(value) + " is within the threshold range"}
	if outside != "" {
		r.Outcome, r.Message = meshv1alpha1.MetricFailed, outside
	}
	return r
}
