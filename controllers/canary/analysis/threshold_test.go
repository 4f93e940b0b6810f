package analysis

import (
	"strings"
	"testing"
)

func TestWithinRange_BoundsAreInclusiveAndExact(t *testing.T) {
	tests := []struct {
		name        string
		value       float64
		lowest      string
		highest     string
		wantOutside string // "" when within
	}{
		{name: "on the minimum", value: 99, lowest: "99"},
		{name: "on a decimal minimum", value: 99.9, lowest: "99.9"},
		{name: "on a decimal maximum", value: 99.9, highest: "99.9"},
		{name: "on a minimum that a power of ten would round (0.3)", value: 0.3, lowest: "0.3"},
		{name: "just below a decimal minimum", value: 99.89, lowest: "99.9", wantOutside: "99.89 is below the minimum 99.9"},
		{name: "above the maximum", value: 501, highest: "500", wantOutside: "501 is above the maximum 500"},
		{name: "a milli suffix", value: 0.4, highest: "500m"},
		{name: "over a milli suffix", value: 0.6, highest: "500m", wantOutside: "0.6 is above the maximum 0.5"},
		{name: "an open maximum", value: 1e12, lowest: "0"},
		{name: "an open minimum", value: -5, highest: "0"},
		{name: "between both bounds", value: 50, lowest: "10", highest: "90"},
		{name: "below both bounds", value: 5, lowest: "10", highest: "90", wantOutside: "5 is below the minimum 10"},
		{name: "a bound with many decimals", value: 99.99, lowest: "99.9995", wantOutside: "below the minimum 99.9995"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			outside, err := withinRange(tt.value, between(tt.lowest, tt.highest))
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantOutside == "" && outside != "" || !strings.Contains(outside, tt.wantOutside) {
				t.Errorf("got %q, want %q", outside, tt.wantOutside)
			}
		})
	}
}

// TestWithinRange_DoesNotRoundLikeAsApproximateFloat64 keeps the reason for not using
// Quantity.AsApproximateFloat64 honest: it puts the bound 0.3 one float step above the value 0.3.
func TestWithinRange_DoesNotRoundLikeAsApproximateFloat64(t *testing.T) {
	if approx := quantity("0.3").AsApproximateFloat64(); approx == 0.3 {
		t.Skipf("AsApproximateFloat64(0.3) = %v now; the comment in threshold.go can be relaxed", approx)
	}
	if outside, _ := withinRange(0.3, between("0.3", "")); outside != "" {
		t.Errorf("0.3 against the minimum 0.3: %q", outside)
	}
}
