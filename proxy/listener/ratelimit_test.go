package listener

import (
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

func TestRateLimit_Answers429BeyondTheBucketAndRefills(t *testing.T) {
	var reached atomic.Int64
	app := startBackend(t, answering(200, &reached))
	p := startProxy(t, `
inbound:
  target: "`+app+`"
  service: app
  rateLimit: {requestsPerSecond: 10, burst: 5}
`)
	c := client()
	count := func(n int) (ok, limited int) {
		for range n {
			resp, _ := get(t, c, p.inbound, "app", "/", nil)
			switch resp.StatusCode {
			case 200:
				ok++
			case http.StatusTooManyRequests:
				limited++
			default:
				t.Fatalf("status %d, want 200 or 429", resp.StatusCode)
			}
		}
		return ok, limited
	}
	// 20 requests in well under 100ms: the burst of 5 passes, maybe one
	// refilled token more, the rest is limited.
	ok, limited := count(20)
	if ok < 5 || ok > 6 || limited != 20-ok {
		t.Fatalf("%d passed and %d limited, want the burst of 5 (or 6) to pass and the rest 429", ok, limited)
	}
	if int(reached.Load()) != ok {
		t.Errorf("application saw %d requests, want only the %d allowed", reached.Load(), ok)
	}
	time.Sleep(300 * time.Millisecond) // 10 rps: about 3 tokens back
	again, _ := count(10)
	if again < 2 || again > 5 {
		t.Errorf("after 300ms %d requests passed, want the ~3 refilled tokens", again)
	}
	if got := sumOf(t, p, "sluice_rate_limited_total"); got != float64(limited+10-again) {
		t.Errorf("sluice_rate_limited_total = %v, want the %d requests answered 429", got, limited+10-again)
	}
}
