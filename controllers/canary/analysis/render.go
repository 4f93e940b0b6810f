package analysis

import (
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/sluicemesh/sluice/api/querytemplate"
	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

// metricQueries returns the query template of a metric and the template that counts its requests (empty
// when there is none): the Mesh template it refers to, its inline query, or the builtin one of the provider.
// A metric's own requestCountQuery wins over its template's.
func metricQueries(provider meshv1alpha1.Provider, m meshv1alpha1.AnalysisMetric,
	templates []meshv1alpha1.MetricTemplate) (query, requestCount string, err error) {
	switch {
	case m.TemplateRef != nil:
		for _, t := range templates {
			if t.Name == m.TemplateRef.Name {
				requestCount = t.RequestCountQuery
				if m.RequestCountQuery != "" {
					requestCount = m.RequestCountQuery
				}
				return t.Query, requestCount, nil
			}
		}
		return "", "", fmt.Errorf("templateRef: the Mesh %s has no metric template %q (spec.metrics.templates)",
			meshv1alpha1.MeshName, m.TemplateRef.Name)
	case m.Query != "":
		return m.Query, m.RequestCountQuery, nil
	}
	return builtinQuery(provider, m.Name)
}

// templateVariables are the values of a metric's template variables: its own, then the builtin ones (which
// user variables cannot replace).
func templateVariables(subject Subject, m meshv1alpha1.AnalysisMetric, interval time.Duration) map[string]string {
	values := maps.Clone(m.Variables)
	if values == nil {
		values = map[string]string{}
	}
	values[querytemplate.VarNamespace] = subject.Namespace
	values[querytemplate.VarTarget] = subject.Target
	values[querytemplate.VarService] = subject.Service
	// Prometheus durations: 1m, 1m30s, 10s.
	values[querytemplate.VarInterval] = model.Duration(interval).String()
	return values
}

// render fills a query template with the shared template grammar, refusing variables that are neither
// builtin nor the metric's own (the admission webhook refuses them too; this catches Mesh templates, which
// are checked without knowing the metrics that will use them).
func render(text string, values, userVariables map[string]string) (string, error) {
	tmpl, err := querytemplate.Parse(text)
	if err != nil {
		return "", fmt.Errorf("not a valid query template: %w", err)
	}
	if unknown := tmpl.Unknown(userVariables); len(unknown) > 0 {
		return "", fmt.Errorf("unknown variable {{ %s }}: neither builtin (%s) nor in the metric's variables",
			strings.Join(unknown, " }}, {{ "), strings.Join(querytemplate.Builtins, ", "))
	}
	return tmpl.Render(values)
}
