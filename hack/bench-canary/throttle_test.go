package main

import (
	"strings"
	"testing"
	"time"
)

func TestRateLimiterWait(t *testing.T) {
	text := `# HELP rest_client_rate_limiter_duration_seconds [ALPHA] Client side rate limiter latency in seconds.
rest_client_rate_limiter_duration_seconds_bucket{host="127.0.0.1:1",verb="PUT",le="+Inf"} 13384
rest_client_rate_limiter_duration_seconds_sum{host="127.0.0.1:1",verb="PUT"} 2259.5
rest_client_rate_limiter_duration_seconds_count{host="127.0.0.1:1",verb="PUT"} 13384
rest_client_rate_limiter_duration_seconds_sum{host="127.0.0.1:1",verb="POST"} 1410.25
`
	got, err := rateLimiterWait(strings.NewReader(text))
	if err != nil || got != 3669750*time.Millisecond {
		t.Errorf("rateLimiterWait = %s, %v; want 1h1m9.75s", got, err)
	}
}
