package retry

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"
)

func TestBudget_CapsRetriesAtTheRatioOfRequests(t *testing.T) {
	b := NewBudget(0.2, 0)
	for range 100 {
		b.Request()
	}
	allowed := 0
	for range 100 {
		if b.Withdraw() {
			allowed++
		}
	}
	if allowed != 20 {
		t.Errorf("allowed %d retries after 100 requests at ratio 0.2, want 20", allowed)
	}
}

func TestBudget_MinimumAllowanceAndWindowExpiry(t *testing.T) {
	now := time.Unix(1000, 0)
	b := NewBudget(0, 1) // no ratio, 1 retry per second over 10s = 10
	b.now = func() time.Time { return now }
	allowed := 0
	for range 50 {
		if b.Withdraw() {
			allowed++
		}
	}
	if allowed != 10 {
		t.Fatalf("allowed %d retries with a minimum of 1/s, want 10", allowed)
	}
	now = now.Add(11 * time.Second) // the spent retries leave the window
	if !b.Withdraw() {
		t.Error("budget did not refill after the window passed")
	}
}

func TestPolicy_RetriesOnlyWhatIsSafe(t *testing.T) {
	p := &Policy{Attempts: 2, On: ConnectFailure | GatewayError}
	dialErr := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	if !p.RetryError(dialErr, false, false) {
		t.Error("a failed dial must be retried even for a POST")
	}
	if p.RetryError(errors.New("read: connection reset"), true, false) {
		t.Error("retried a reset without the reset condition")
	}
	if !p.RetryStatus(503, true) || p.RetryStatus(503, false) {
		t.Error("503 must be retried for GET and not for POST")
	}
	if p.RetryStatus(500, true) {
		t.Error("500 is not a gateway error")
	}
	if !(&Policy{On: ServerError}).RetryStatus(500, true) {
		t.Error("500 must be retried under 5xx")
	}
	if !p.RetryError(errors.New("timeout"), true, true) {
		t.Error("a per-try timeout is a gateway error")
	}
}

func TestIdempotent(t *testing.T) {
	post := httptest.NewRequest(http.MethodPost, "/", nil)
	if Idempotent(post) {
		t.Error("POST is not idempotent")
	}
	post.Header.Set("Idempotency-Key", "abc")
	if !Idempotent(post) || !Idempotent(httptest.NewRequest(http.MethodPut, "/", nil)) {
		t.Error("PUT and a keyed POST are idempotent")
	}
}
