package fault

import (
	"net/http"
	"regexp"
	"testing"
	"time"
)

func TestFault_HeadersLimitWhichRequestsAreHit(t *testing.T) {
	f := &Fault{
		Delay: time.Second, DelayPercent: 100, AbortStatus: 503, AbortPercent: 100,
		Headers: []Header{{Name: "X-User", Value: "tester"}, {Name: "X-Env", RE: regexp.MustCompile(`^(?:stag.*)$`)}},
	}
	tests := []struct {
		name   string
		header http.Header
		hit    bool
	}{
		{"all headers match", http.Header{"X-User": {"someone", "tester"}, "X-Env": {"staging"}}, true},
		{"one header missing", http.Header{"X-User": {"tester"}}, false},
		{"regular expression does not match", http.Header{"X-User": {"tester"}, "X-Env": {"prod"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := f.Decide(tt.header)
			if hit := d.Delay == time.Second && d.AbortStatus == 503; hit != tt.hit {
				t.Errorf("decision %+v, hit = %v wanted", d, tt.hit)
			}
		})
	}
	if d := (*Fault)(nil).Decide(nil); d != (Decision{}) {
		t.Errorf("nil fault decided %+v", d)
	}
}
