package webhooks

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/sluicemesh/sluice/api/querytemplate"
	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

// Analysis metrics appear in Canaries (spec.analysis.metrics) and in the Mesh (spec.upgrade.rolling.metrics);
// both are checked here.

// validateMetrics checks the query templates and intervals of metrics at path. A metric's inline queries may use
// the builtin variables and its own; the CRD's CEL rule checks the variables of `query`, this also covers
// `requestCountQuery` and the template syntax of both.
func validateMetrics(metrics []meshv1alpha1.AnalysisMetric, path *field.Path) (field.ErrorList, admission.Warnings) {
	var errs field.ErrorList
	var warnings admission.Warnings
	for i, m := range metrics {
		p := path.Index(i)
		var used []string
		var queryErrs field.ErrorList
		for _, q := range []struct{ name, text string }{{"query", m.Query}, {"requestCountQuery", m.RequestCountQuery}} {
			if q.text == "" {
				continue
			}
			vars, qErrs := validateQueryTemplate(q.text, p.Child(q.name), m.Variables)
			queryErrs = append(queryErrs, qErrs...)
			used = append(used, vars...)
		}
		errs = append(errs, queryErrs...)
		errs = append(errs, positive(m.Interval, p.Child("interval"))...)
		// A template metric's variables are for the Mesh template; a broken query says nothing about use.
		if m.TemplateRef == nil && len(queryErrs) == 0 {
			for _, name := range slices.Sorted(maps.Keys(m.Variables)) {
				if !slices.Contains(used, name) {
					warnings = append(warnings, fmt.Sprintf("%s: not used by query or requestCountQuery", p.Child("variables").Key(name)))
				}
			}
		}
	}
	return errs, warnings
}

// validateQueryTemplate parses a metric's query template and returns its variables, which must be builtin or
// the metric's own.
func validateQueryTemplate(query string, path *field.Path, variables map[string]string) ([]string, field.ErrorList) {
	tmpl, errs := parseQueryTemplate(query, path)
	if tmpl == nil {
		return nil, errs
	}
	if unknown := tmpl.Unknown(variables); len(unknown) > 0 {
		return nil, field.ErrorList{field.Invalid(path, query, fmt.Sprintf(
			"uses {{ %s }}, neither builtin (%s) nor in variables", strings.Join(unknown, " }}, {{ "),
			strings.Join(querytemplate.Builtins, ", ")))}
	}
	return tmpl.Variables(), nil
}

// parseQueryTemplate checks the template syntax only.
func parseQueryTemplate(query string, path *field.Path) (*querytemplate.Template, field.ErrorList) {
	tmpl, err := querytemplate.Parse(query)
	if err != nil {
		return nil, field.ErrorList{field.Invalid(path, query, "not a valid query template: "+err.Error())}
	}
	return tmpl, nil
}
