package webhooks

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// The CRD pattern admits any Go duration, including "0s"; these are the checks on what the durations mean.

// positive rejects a zero duration where zero would make the feature useless (a timeout that always fires, an
// interval that never advances). Unset is fine.
func positive(d *metav1.Duration, path *field.Path) field.ErrorList {
	if d == nil || d.Duration > 0 {
		return nil
	}
	return field.ErrorList{field.Invalid(path, d.Duration.String(), "must be greater than 0")}
}

// notLonger rejects d when it exceeds limit (named limitPath), e.g. a per-try timeout beyond the whole request's.
func notLonger(d *metav1.Duration, path *field.Path, limit *metav1.Duration, limitPath *field.Path, why string) field.ErrorList {
	if d == nil || limit == nil || d.Duration <= limit.Duration {
		return nil
	}
	return field.ErrorList{field.Invalid(path, d.Duration.String(),
		fmt.Sprintf("must not exceed %s (%s): %s", limitPath, limit.Duration, why))}
}
