package hooks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

// DefaultTimeout bounds a call whose webhook sets no timeout (the API's
// default, for objects that skipped defaulting).
const DefaultTimeout = 10 * time.Second

// maxBodySnippet bounds how much of a refusing answer's body an error
// quotes: enough for a reason, not enough to flood status and Events.
const maxBodySnippet = 256

// Caller POSTs payloads to webhooks.
type Caller struct {
	client *http.Client
}

// NewCaller returns a Caller that sends through client (nil:
// http.DefaultClient). Each call's timeout is the webhook's own, applied
// through the request's context, so client.Timeout need not be set.
func NewCaller(client *http.Client) *Caller {
	if client == nil {
		client = http.DefaultClient
	}
	return &Caller{client: client}
}

// StatusError is a webhook that answered, but not with a 2xx: a closed gate,
// a failed check, or (for a rollback hook) "do not roll back".
type StatusError struct {
	Hook       string
	URL        string
	StatusCode int
	// Body is the start of the answer, at most a few hundred bytes.
	Body string
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("webhook %s (%s) answered %d %s", e.Hook, e.URL, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Body != "" {
		msg += ": " + strconv.Quote(e.Body)
	}
	return msg
}

// Call POSTs p, with the hook's metadata, to hook.url as JSON and waits at
// most hook.timeout (default 10s). Only a 2xx answer passes (nil); any other
// status is a *StatusError, and a transport error or timeout is an error
// too, so an unreachable gate stays closed and an unreachable check fails.
func (c *Caller) Call(ctx context.Context, hook meshv1alpha1.CanaryWebhook, p Payload) error {
	return c.post(ctx, hook, p.withMetadata(hook.Metadata, nil))
}

// AskRollback calls the rollback hooks in order until one answers 2xx, and
// returns its name: the run must roll back. "" means carry on: a hook that
// refuses, times out or cannot be reached does not abort a healthy run;
// those failures come back joined in err, for logs and Events.
func (c *Caller) AskRollback(ctx context.Context, hooks []meshv1alpha1.CanaryWebhook, p Payload) (string, error) {
	var errs []error
	for _, h := range hooks {
		err := c.Call(ctx, h, p)
		if err == nil {
			return h.Name, nil
		}
		errs = append(errs, err)
	}
	return "", errors.Join(errs...)
}

// CallAll calls hooks in order and stops at the first that does not pass,
// returning its error; nil when all pass (or there are none).
func (c *Caller) CallAll(ctx context.Context, hooks []meshv1alpha1.CanaryWebhook, p Payload) error {
	for _, h := range hooks {
		if err := c.Call(ctx, h, p); err != nil {
			return err
		}
	}
	return nil
}

// Notify sends ev to an event hook (see EventHooks): the payload's metadata
// gets eventMessage, eventType and timestamp (milliseconds since the epoch)
// besides the hook's own metadata. The caller decides what a failure means;
// for notifications it is usually only logged.
func (c *Caller) Notify(ctx context.Context, hook meshv1alpha1.CanaryWebhook, p Payload, ev Event) error {
	when := ev.Time
	if when.IsZero() {
		when = time.Now()
	}
	return c.post(ctx, hook, p.withMetadata(hook.Metadata, map[string]string{
		MetadataEventMessage: ev.Message,
		MetadataEventType:    ev.Type,
		MetadataTimestamp:    strconv.FormatInt(when.UnixMilli(), 10),
	}))
}

func (c *Caller) post(ctx context.Context, hook meshv1alpha1.CanaryWebhook, p Payload) error {
	where := redactedURL(hook.URL)
	body, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("webhook %s: encode payload: %w", hook.Name, err)
	}
	timeout := DefaultTimeout
	if hook.Timeout != nil && hook.Timeout.Duration > 0 {
		timeout = hook.Timeout.Duration
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hook.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook %s (%s): %w", hook.Name, where, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		// The url.Error would repeat the URL unredacted; keep only its cause.
		cause := err
		var ue *url.Error
		if errors.As(err, &ue) {
			cause = ue.Err
		}
		if ctx.Err() != nil {
			return fmt.Errorf("webhook %s (%s): no answer within %s: %w", hook.Name, where, timeout, cause)
		}
		return fmt.Errorf("webhook %s (%s): %w", hook.Name, where, cause)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, maxBodySnippet))
	// Drain a little more so the connection can be reused; not unbounded.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	return &StatusError{Hook: hook.Name, URL: where, StatusCode: resp.StatusCode, Body: printable(snippet)}
}

// redactedURL hides a password in the URL's user info, since errors end up
// in status and Events.
func redactedURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<invalid URL>"
	}
	return u.Redacted()
}

// printable trims the snippet and drops a UTF-8 sequence cut in half.
func printable(b []byte) string {
	for len(b) > 0 && !utf8.Valid(b) {
		b = b[:len(b)-1]
	}
	return strings.TrimSpace(string(b))
}
