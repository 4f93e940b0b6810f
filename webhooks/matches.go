package webhooks

import (
	"regexp"

	"k8s.io/apimachinery/pkg/util/validation/field"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Gateway API leaves the regular expression dialect to the implementation; Sluice proxies use Go's RE2, so a
// pattern Go cannot compile would never match anything. Rejecting it at admission beats a route that silently
// sends nobody to the canary.

func validateHeaderMatches(matches []gatewayv1.HTTPHeaderMatch, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, m := range matches {
		if m.Type != nil && *m.Type == gatewayv1.HeaderMatchRegularExpression {
			errs = append(errs, validateRegex(m.Value, path.Index(i).Child("value"))...)
		}
	}
	return errs
}

func validateQueryParamMatches(matches []gatewayv1.HTTPQueryParamMatch, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, m := range matches {
		if m.Type != nil && *m.Type == gatewayv1.QueryParamMatchRegularExpression {
			errs = append(errs, validateRegex(m.Value, path.Index(i).Child("value"))...)
		}
	}
	return errs
}

func validateRegex(pattern string, path *field.Path) field.ErrorList {
	if _, err := regexp.Compile(pattern); err != nil {
		return field.ErrorList{field.Invalid(path, pattern, "not a valid regular expression (RE2 syntax): "+err.Error())}
	}
	return nil
}
