package analysis

import (
	"fmt"
	"strconv"

	"k8s.io/apimachinery/pkg/api/resource"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

// withinRange compares a finite value from Prometheus with a threshold range (bounds inclusive, an unset
// bound open) and says why it is outside, or "" when it is within.
//
// The bounds are exact decimals, the value a float64. Each bound is turned into the float64 nearest to it
// (strconv.ParseFloat of its exact decimal text, which rounds correctly), so a value that Prometheus
// prints as 99.9 equals the bound "99.9". Quantity.AsApproximateFloat64 is not used: it multiplies by a
// power of ten and can land one float step away, which would fail a value sitting exactly on the bound.
func withinRange(value float64, r meshv1alpha1.ThresholdRange) (string, error) {
	if r.Min != nil {
		lowest, err := boundFloat(*r.Min)
		if err != nil {
			return "", fmt.Errorf("thresholdRange.min: %w", err)
		}
		if value < lowest {
			return fmt.Sprintf("%s is below the minimum %s", formatValue(value), formatBound(lowest)), nil
		}
	}
	if r.Max != nil {
		highest, err := boundFloat(*r.Max)
		if err != nil {
			return "", fmt.Errorf("thresholdRange.max: %w", err)
		}
		if value > highest {
			return fmt.Sprintf("%s is above the maximum %s", formatValue(value), formatBound(highest)), nil
		}
	}
	return "", nil
}

// boundFloat is the float64 nearest to the exact value of q.
func boundFloat(q resource.Quantity) (float64, error) {
	// AsDec converts q in place; work on a copy so the caller's Canary is not touched.
	exact := q.DeepCopy()
	f, err := strconv.ParseFloat(exact.AsDec().String(), 64)
	if err != nil {
		return 0, fmt.Errorf("%s is not a number: %w", q.String(), err)
	}
	return f, nil
}

// formatBound writes a bound as the user wrote it ("99.5"), not in Quantity's canonical form ("99500m").
func formatBound(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
