package hooks

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

// receiver is a webhook server on loopback that records what it received
// and answers with status and body.
type receiver struct {
	url string

	mu       sync.Mutex
	requests []received
}

type received struct {
	method, contentType string
	payload             map[string]any
}

func newReceiver(t *testing.T, status int, body string) *receiver {
	t.Helper()
	r := &receiver{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		raw, _ := io.ReadAll(req.Body)
		var p map[string]any
		if err := json.Unmarshal(raw, &p); err != nil {
			t.Errorf("webhook body is not JSON: %v: %q", err, raw)
		}
		r.mu.Lock()
		r.requests = append(r.requests, received{method: req.Method, contentType: req.Header.Get("Content-Type"), payload: p})
		r.mu.Unlock()
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	r.url = srv.URL
	return r
}

func (r *receiver) only(t *testing.T) received {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.requests) != 1 {
		t.Fatalf("webhook received %d requests, want 1", len(r.requests))
	}
	return r.requests[0]
}

func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.requests)
}

func hook(url string) meshv1alpha1.CanaryWebhook {
	return meshv1alpha1.CanaryWebhook{Name: "gate", Type: meshv1alpha1.WebhookConfirmRollout, URL: url}
}

func testPayload() Payload {
	return Payload{Name: "app", Namespace: "shop", Phase: meshv1alpha1.CanaryPhaseProgressing, Checksum: "abc123"}
}

func TestCall_PassesOnlyOn2xx(t *testing.T) {
	for _, tc := range []struct {
		status int
		pass   bool
	}{
		{http.StatusOK, true},
		{http.StatusAccepted, true},
		{http.StatusNoContent, true},
		{http.StatusMovedPermanently, false},
		{http.StatusForbidden, false},
		{http.StatusNotFound, false},
		{http.StatusInternalServerError, false},
		{http.StatusServiceUnavailable, false},
	} {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			r := newReceiver(t, tc.status, "")
			err := NewCaller(nil).Call(context.Background(), hook(r.url), testPayload())
			if tc.pass && err != nil {
				t.Fatalf("Call answered %d: got %v, want pass", tc.status, err)
			}
			if !tc.pass {
				var se *StatusError
				if !errors.As(err, &se) || se.StatusCode != tc.status {
					t.Fatalf("Call answered %d: got %v, want a StatusError with that code", tc.status, err)
				}
			}
		})
	}
}

func TestCall_ErrorSaysStatusAndBoundedBody(t *testing.T) {
	reason := "load test failed: p99 " + strings.Repeat("x", 4000)
	r := newReceiver(t, http.StatusInternalServerError, reason)
	err := NewCaller(nil).Call(context.Background(), hook(r.url), testPayload())
	if err == nil {
		t.Fatal("Call passed on 500")
	}
	msg := err.Error()
	for _, want := range []string{"gate", "500", "load test failed: p99"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not mention %q", msg, want)
		}
	}
	if len(msg) > 600 {
		t.Errorf("error is %d characters long; the body must be cut short", len(msg))
	}
}

func TestCall_SendsFlaggerPayloadWithHookMetadata(t *testing.T) {
	r := newReceiver(t, http.StatusOK, "")
	h := hook(r.url)
	h.Metadata = map[string]string{"type": "bash", "cmd": "curl -s http://app-canary/"}
	if err := NewCaller(nil).Call(context.Background(), h, testPayload()); err != nil {
		t.Fatalf("Call: %v", err)
	}
	got := r.only(t)
	if got.method != http.MethodPost || got.contentType != "application/json" {
		t.Errorf("request %s with Content-Type %q, want POST application/json", got.method, got.contentType)
	}
	want := map[string]any{
		"name": "app", "namespace": "shop", "phase": "Progressing", "checksum": "abc123",
		"metadata": map[string]any{"type": "bash", "cmd": "curl -s http://app-canary/"},
	}
	assertJSONEqual(t, got.payload, want)
}

func TestCall_TimesOutWithTheHooksTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		select {
		case <-release:
		case <-req.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	h := hook(srv.URL)
	h.Timeout = &metav1.Duration{Duration: 200 * time.Millisecond}
	start := time.Now()
	err := NewCaller(nil).Call(context.Background(), h, testPayload())
	if err == nil {
		t.Fatal("Call passed although the webhook never answered")
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("Call took %s, want about the hook's 200ms timeout", elapsed)
	}
	if !strings.Contains(err.Error(), "no answer within 200ms") {
		t.Errorf("error %q does not say the webhook timed out", err)
	}
}

func TestCall_UnreachableFails(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	if err := NewCaller(nil).Call(context.Background(), hook(url), testPayload()); err == nil {
		t.Fatal("Call passed although nothing listens")
	}
}

func TestCall_ErrorHidesPasswordInURL(t *testing.T) {
	r := newReceiver(t, http.StatusUnauthorized, "")
	h := hook(strings.Replace(r.url, "http://", "http://user:s3cret@", 1))
	err := NewCaller(nil).Call(context.Background(), h, testPayload())
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("error %v: want a failure that does not show the password", err)
	}
}

func TestNotify_AddsEventMessageTypeAndTimestamp(t *testing.T) {
	r := newReceiver(t, http.StatusOK, "")
	h := meshv1alpha1.CanaryWebhook{Name: "slack", Type: meshv1alpha1.WebhookEvent, URL: r.url, Metadata: map[string]string{"channel": "deploys"}}
	when := time.UnixMilli(1_700_000_000_123)
	ev := Event{Type: "Warning", Message: "Rolling back app.shop failed checks threshold reached 5", Time: when}
	if err := NewCaller(nil).Notify(context.Background(), h, testPayload(), ev); err != nil {
		t.Fatalf("Notify: %v", err)
	}
	want := map[string]any{
		"name": "app", "namespace": "shop", "phase": "Progressing", "checksum": "abc123",
		"metadata": map[string]any{
			"channel":      "deploys",
			"eventMessage": "Rolling back app.shop failed checks threshold reached 5",
			"eventType":    "Warning",
			"timestamp":    "1700000000123",
		},
	}
	assertJSONEqual(t, r.only(t).payload, want)
}

func TestCallAll_StopsAtFirstRefusal(t *testing.T) {
	ok := newReceiver(t, http.StatusOK, "")
	no := newReceiver(t, http.StatusBadRequest, "not yet")
	never := newReceiver(t, http.StatusOK, "")
	hooks := []meshv1alpha1.CanaryWebhook{hook(ok.url), hook(no.url), hook(never.url)}
	err := NewCaller(nil).CallAll(context.Background(), hooks, testPayload())
	var se *StatusError
	if !errors.As(err, &se) || se.StatusCode != http.StatusBadRequest || se.Body != "not yet" {
		t.Fatalf("CallAll: got %v, want the 400 of the second hook", err)
	}
	ok.only(t)
	no.only(t)
	if never.count() != 0 {
		t.Error("CallAll called the hook after a refusal")
	}
}

func assertJSONEqual(t *testing.T, got, want map[string]any) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if string(g) != string(w) {
		t.Errorf("payload\n got %s\nwant %s", g, w)
	}
}

func TestAskRollback_FirstYesRollsBack(t *testing.T) {
	no := newReceiver(t, http.StatusNotFound, "")
	yes := newReceiver(t, http.StatusOK, "")
	after := newReceiver(t, http.StatusOK, "")
	rollback := func(name, url string) meshv1alpha1.CanaryWebhook {
		return meshv1alpha1.CanaryWebhook{Name: name, Type: meshv1alpha1.WebhookRollback, URL: url}
	}
	caller := NewCaller(nil)
	got, _ := caller.AskRollback(context.Background(), []meshv1alpha1.CanaryWebhook{rollback("no", no.url), rollback("yes", yes.url), rollback("after", after.url)}, testPayload())
	if got != "yes" {
		t.Fatalf("AskRollback = %q, want the hook that answered 200", got)
	}
	if after.count() != 0 {
		t.Error("AskRollback asked on after a yes")
	}
	got, err := caller.AskRollback(context.Background(), []meshv1alpha1.CanaryWebhook{rollback("no", no.url)}, testPayload())
	if got != "" || err == nil {
		t.Errorf("a 404 rollback hook: AskRollback = %q, %v; want carry on, with the 404 reported", got, err)
	}
}
