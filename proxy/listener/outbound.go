package listener

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/sluicemesh/sluice/proxy/config"
	"github.com/sluicemesh/sluice/proxy/fault"
	"github.com/sluicemesh/sluice/proxy/metrics"
	"github.com/sluicemesh/sluice/proxy/routing"
)

// maxMirrorsInFlight bounds the mirrored requests pending at once; beyond it
// mirror copies are dropped rather than queued, so a slow shadow backend can
// never hold back real traffic or memory.
const maxMirrorsInFlight = 64

// mirrorTimeout bounds a mirrored request.
const mirrorTimeout = 10 * time.Second

// Outbound handles the application's requests to Services: it finds the
// Service by the request's authority, the route, a backend by weight, and
// forwards to one of its endpoints.
type Outbound struct {
	store   *config.Store
	fwd     *forwarder
	mirrors chan struct{}
}

var _ http.Handler = (*Outbound)(nil)

// NewOutbound returns the outbound handler. rec and log may be nil.
func NewOutbound(store *config.Store, rec *metrics.Recorder, log *slog.Logger, opts ...Option) *Outbound {
	return &Outbound{store: store, fwd: newForwarder(metrics.Outbound, rec, log, opts), mirrors: make(chan struct{}, maxMirrorsInFlight)}
}

func (o *Outbound) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	snap := o.store.Load()
	key := metrics.Key{Direction: metrics.Outbound}
	var table *config.ServiceTable
	var rule *config.RouteRule
	if dst, ok := OriginalDestination(r.Context()); ok {
		// Transparent mode: the address the application connected to
		// names the Service, whatever the Host says.
		table, rule = routing.FindIn(snap.Service(authorityOf(dst)), r)
	}
	if table == nil {
		table, rule = routing.Find(snap, r)
	}
	if table == nil {
		o.fwd.reject(w, key, start, http.StatusNotFound, "unknown authority")
		return
	}
	key.Service = table.Name
	if rule == nil {
		o.fwd.reject(w, key, start, http.StatusNotFound, "no route")
		return
	}
	dest := routing.PickDestination(rule)
	if dest == nil {
		o.fwd.reject(w, key, start, http.StatusServiceUnavailable, "no backend")
		return
	}
	key.Backend = dest.Name
	if rule.Fault != nil && !o.injectFault(w, r, rule.Fault, key, start) {
		return
	}
	if routing.ShouldMirror(rule) {
		o.mirror(r, rule.Mirror.Destination)
	}
	o.fwd.forward(w, r, &exchange{dest: dest, retries: rule.Retries}, key, start, rule.Timeout)
}

// injectFault delays or aborts the request as the route's fault says, and
// reports whether the request goes on.
func (o *Outbound) injectFault(w http.ResponseWriter, r *http.Request, f *fault.Fault, key metrics.Key, start time.Time) bool {
	d := f.Decide(r.Header)
	if d.Delay > 0 {
		o.fwd.metrics.FaultInjected("delay")
		if err := d.Wait(r.Context()); err != nil {
			o.fwd.reject(w, key, start, statusClientClosedRequest, "client closed request")
			return false
		}
	}
	if d.AbortStatus != 0 {
		o.fwd.metrics.FaultInjected("abort")
		o.fwd.reject(w, key, start, d.AbortStatus, "fault injected")
		return false
	}
	return true
}

// mirror sends a copy of a request without a body to the shadow destination
// and ignores the answer. Requests with a body are not mirrored (copying a
// streamed body would make the real request wait for the shadow), nor are
// protocol upgrades.
func (o *Outbound) mirror(r *http.Request, dest *config.Destination) {
	if (r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0) || r.Header.Get("Upgrade") != "" {
		return
	}
	select {
	case o.mirrors <- struct{}{}:
	default:
		return // too many mirrors in flight: drop this copy
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), mirrorTimeout)
	shadow := r.Clone(ctx)
	shadow.RequestURI = ""
	shadow.Body = nil
	shadow.URL.Scheme = "http"
	go func() {
		defer func() { <-o.mirrors }()
		defer cancel()
		ex := &exchange{dest: dest}
		resp, _, err := o.fwd.upstream.try(withExchange(shadow, ex), ex, nil, 0)
		if err != nil {
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
	}()
}

// CloseIdleConnections closes kept-alive upstream connections.
func (o *Outbound) CloseIdleConnections() { o.fwd.upstream.CloseIdleConnections() }
