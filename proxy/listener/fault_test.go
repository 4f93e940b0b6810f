package listener

import (
	"math"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func faultConfig(fault, endpoint string) string {
	return strings.Replace(oneService("", endpoint), "    - backends: [{name: app}]\n",
		"    - backends: [{name: app}]\n      fault: "+fault+"\n", 1)
}

func TestFault_AbortsTheConfiguredShareOfRequests(t *testing.T) {
	var reached atomic.Int64
	p := startProxy(t, faultConfig("{abort: {status: 503, percent: 30}}", startBackend(t, answering(200, &reached))))
	c := client()
	const n = 2000
	aborted := 0
	for range n {
		resp, _ := get(t, c, p.outbound, "app", "/", nil)
		switch {
		case resp.StatusCode == 503 && resp.Header.Get(proxyErrorHeader) == "fault injected":
			aborted++
		case resp.StatusCode != 200:
			t.Fatalf("status %d, want 200 or an injected 503", resp.StatusCode)
		}
	}
	// 30% of 2000 has a standard deviation of about 1 point: 3 points is
	// beyond 3 sigma.
	if share := float64(aborted) / n * 100; math.Abs(share-30) > 3 {
		t.Errorf("aborted %.1f%% of requests, want 30%% ± 3", share)
	}
	if int(reached.Load()) != n-aborted {
		t.Errorf("backend saw %d requests, want the %d not aborted", reached.Load(), n-aborted)
	}
}

func TestFault_DelaysOnlyRequestsWithTheMatchingHeader(t *testing.T) {
	var reached atomic.Int64
	p := startProxy(t, faultConfig(`{delay: {duration: 200ms, percent: 100}, headers: [{name: x-chaos, value: "on"}]}`,
		startBackend(t, answering(200, &reached))))
	c := client()
	timed := func(h http.Header) time.Duration {
		start := time.Now()
		if resp, _ := get(t, c, p.outbound, "app", "/", h); resp.StatusCode != 200 {
			t.Fatalf("status %d, want 200", resp.StatusCode)
		}
		return time.Since(start)
	}
	if d := timed(http.Header{"X-Chaos": {"on"}}); d < 200*time.Millisecond {
		t.Errorf("request with x-chaos: on took %v, want at least the 200ms delay", d)
	}
	if d := timed(nil); d >= 200*time.Millisecond {
		t.Errorf("request without the header took %v, want no delay", d)
	}
}
