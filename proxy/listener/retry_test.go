package listener

import (
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// answering answers with a fixed status code and counts the requests.
func answering(code int, n *atomic.Int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.WriteHeader(code)
		_, _ = io.WriteString(w, http.StatusText(code))
	})
}

func retryConfig(policy string, endpoints ...string) string {
	return strings.Replace(oneService("", endpoints...), "    routes:\n", "    retries: "+policy+"\n    routes:\n", 1)
}

func TestRetry_SucceedsOnASecondEndpoint(t *testing.T) {
	var bad, good atomic.Int64
	failing := startBackend(t, answering(503, &bad))
	healthy := startBackend(t, answering(200, &good))
	p := startProxy(t, retryConfig("{attempts: 1, minRetriesPerSecond: 100}", failing, healthy))
	c := client()
	for range 50 {
		if resp, _ := get(t, c, p.outbound, "app", "/", nil); resp.StatusCode != 200 {
			t.Fatalf("status %d, want 200 after a retry on the healthy endpoint", resp.StatusCode)
		}
	}
	if bad.Load() == 0 {
		t.Error("the failing endpoint was never tried; the test proves nothing")
	}
	if good.Load() != 50 {
		t.Errorf("healthy endpoint answered %d, want all 50", good.Load())
	}
	if got := sumOf(t, p, "sluice_retries_total"); got != float64(bad.Load()) {
		t.Errorf("sluice_retries_total = %v, want one per failed try (%d)", got, bad.Load())
	}
}

func TestRetry_DialFailureIsRetriedEvenForPOST(t *testing.T) {
	var good atomic.Int64
	healthy := startBackend(t, answering(200, &good))
	dead := freeAddr(t)
	p := startProxy(t, retryConfig("{attempts: 1}", dead, healthy))
	c := client()
	for range 20 {
		req, _ := http.NewRequest(http.MethodPost, "http://"+p.outbound+"/", strings.NewReader("order"))
		req.Host = "app"
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		drain(resp)
		if resp.StatusCode != 200 {
			t.Fatalf("POST status %d, want 200 after retrying the failed dial", resp.StatusCode)
		}
	}
}

func TestRetry_POSTIsNotRetriedAfterReachingTheServer(t *testing.T) {
	var bad atomic.Int64
	failing := startBackend(t, answering(503, &bad))
	p := startProxy(t, retryConfig("{attempts: 2, minRetriesPerSecond: 100}", failing))
	req, _ := http.NewRequest(http.MethodPost, "http://"+p.outbound+"/", strings.NewReader("pay"))
	req.Host = "app"
	resp, err := client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	drain(resp)
	if resp.StatusCode != 503 || bad.Load() != 1 {
		t.Errorf("status %d after %d tries, want 503 after exactly 1", resp.StatusCode, bad.Load())
	}
}

func TestRetry_BudgetStopsRetriesUnderAFullOutage(t *testing.T) {
	var tries atomic.Int64
	a := startBackend(t, answering(503, &tries))
	b := startBackend(t, answering(503, &tries))
	p := startProxy(t, retryConfig("{attempts: 3, budgetRatio: 0.2, minRetriesPerSecond: 0}", a, b))
	const n = 200
	c := client()
	for range n {
		if resp, _ := get(t, c, p.outbound, "app", "/", nil); resp.StatusCode != 503 {
			t.Fatalf("status %d, want the 503 of the outage", resp.StatusCode)
		}
	}
	retries := tries.Load() - n
	t.Logf("%d requests made %d retries", n, retries)
	// Without a budget that would be 3 retries each (600); the budget allows 20%.
	if retries > n/5 {
		t.Errorf("%d retries for %d requests, want at most %d (budget ratio 0.2)", retries, n, n/5)
	}
	if retries < n/10 {
		t.Errorf("only %d retries; the budget should have allowed about %d", retries, n/5)
	}
}

func TestRetry_PerTryTimeoutMovesToAnotherEndpoint(t *testing.T) {
	var slowHits, fastHits atomic.Int64
	slow := startBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		slowHits.Add(1)
		select {
		case <-time.After(3 * time.Second):
		case <-r.Context().Done():
		}
	}))
	fast := startBackend(t, answering(200, &fastHits))
	p := startProxy(t, retryConfig("{attempts: 1, perTryTimeout: 100ms, minRetriesPerSecond: 100}", slow, fast))
	c := client()
	for range 10 {
		began := time.Now()
		if resp, _ := get(t, c, p.outbound, "app", "/", nil); resp.StatusCode != 200 {
			t.Fatalf("status %d, want 200 from the fast endpoint", resp.StatusCode)
		}
		if took := time.Since(began); took > 2*time.Second {
			t.Fatalf("took %v; the per-try timeout did not cut the slow try", took)
		}
	}
	if fastHits.Load() != 10 {
		t.Errorf("fast endpoint answered %d of 10", fastHits.Load())
	}
}
