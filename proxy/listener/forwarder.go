package listener

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"sync"
	"time"

	"github.com/sluicemesh/sluice/proxy/metrics"
	meshtls "github.com/sluicemesh/sluice/proxy/tls"
)

// proxyErrorHeader tells the client that the proxy, not the application,
// produced an error response, and why.
const proxyErrorHeader = "Sluice-Proxy-Error"

// statusClientClosedRequest is recorded when the client cancels a request
// before its response (nginx's convention; not a 5xx, so not a failure).
const statusClientClosedRequest = 499

// forwarder is what both listeners share: the ReverseProxy, the upstream
// transport and the request metrics.
type forwarder struct {
	proxy    *httputil.ReverseProxy
	upstream *upstream
	metrics  *metrics.Recorder
	log      *slog.Logger
}

// Option configures a listener handler.
type Option func(*forwarder)

// WithIdentity gives the handler the proxy's certificate, to reach meshed
// endpoints over mTLS.
func WithIdentity(src *meshtls.Source) Option {
	return func(f *forwarder) { f.upstream.identity = src }
}

func newForwarder(dir metrics.Direction, rec *metrics.Recorder, log *slog.Logger, opts []Option) *forwarder {
	if log == nil {
		log = slog.Default()
	}
	f := &forwarder{upstream: newUpstream(dir, rec), metrics: rec, log: log}
	for _, o := range opts {
		o(f)
	}
	f.proxy = &httputil.ReverseProxy{
		Rewrite:        rewrite,
		Transport:      f.upstream,
		ModifyResponse: captureStatus,
		ErrorHandler:   f.handleError,
		BufferPool:     copyBuffers,
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	return f
}

// forward sends the request to ex.dest and records it under key.
func (f *forwarder) forward(w http.ResponseWriter, r *http.Request, ex *exchange, key metrics.Key, start time.Time, timeout time.Duration) {
	if timeout > 0 {
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		r = r.WithContext(ctx)
	}
	defer func() {
		if p := recover(); p != nil {
			// The response broke after its headers were sent (the
			// ReverseProxy aborts with http.ErrAbortHandler): the client saw a
			// failure, whatever the status said.
			key.StatusCode = http.StatusBadGateway
			f.observe(key, start)
			panic(p)
		}
		key.StatusCode = ex.status
		key.TLS = key.TLS || ex.tls
		f.observe(key, start)
	}()
	if relayEligible(r) {
		f.relay(w, r, ex)
		return
	}
	f.proxy.ServeHTTP(w, withExchange(r, ex))
}

func (f *forwarder) observe(key metrics.Key, start time.Time) {
	if f.metrics != nil {
		f.metrics.Observe(key, time.Since(start))
	}
}

// reject answers a request the proxy cannot forward and records it.
func (f *forwarder) reject(w http.ResponseWriter, key metrics.Key, start time.Time, status int, reason string) {
	w.Header().Set(proxyErrorHeader, reason)
	http.Error(w, reason, status)
	key.StatusCode = status
	f.observe(key, start)
}

// rewrite prepares the outgoing request. The endpoint is chosen per try by the
// transport; the Host (authority) stays what the client sent, so the server
// side proxy and the application see the Service name.
func rewrite(pr *httputil.ProxyRequest) {
	pr.Out.URL.Scheme = "http"
	pr.Out.URL.Host = "endpoint.invalid"
	// Extend the client's X-Forwarded-For chain rather than restart it: in a
	// mesh the previous hop is usually another proxy.
	if xff, ok := pr.In.Header["X-Forwarded-For"]; ok {
		pr.Out.Header["X-Forwarded-For"] = xff
	}
	pr.SetXForwarded()
	if pr.Out.Header.Get(requestIDHeader) == "" {
		pr.Out.Header.Set(requestIDHeader, newRequestID())
	}
}

func captureStatus(resp *http.Response) error {
	if ex := exchangeOf(resp.Request.Context()); ex != nil {
		ex.status = resp.StatusCode
	}
	return nil
}

func (f *forwarder) handleError(w http.ResponseWriter, r *http.Request, err error) {
	status, reason := http.StatusBadGateway, "upstream connection failed"
	switch {
	case errors.Is(r.Context().Err(), context.Canceled):
		// The client went away: nobody reads this answer, and the failure is
		// not the backend's, so it must not count against a canary.
		status, reason = statusClientClosedRequest, "client closed request"
	case errors.Is(err, errNoEndpoint):
		status, reason = http.StatusServiceUnavailable, "no available endpoint"
	case errors.Is(err, errNoCertificate):
		status, reason = http.StatusBadGateway, "no certificate for a meshed endpoint"
	case errors.Is(err, errPerTryTimeout), errors.Is(err, context.DeadlineExceeded):
		status, reason = http.StatusGatewayTimeout, "timeout"
	}
	if ex := exchangeOf(r.Context()); ex != nil {
		ex.status = status
	}
	f.log.Debug("Request failed", "host", r.Host, "path", r.URL.Path, "status", status, "error", err)
	w.Header().Set(proxyErrorHeader, reason)
	w.WriteHeader(status)
}

// copyBuffers recycles the 32 KiB buffers the ReverseProxy copies bodies
// with, which it would otherwise allocate per request.
var copyBuffers = &bufferPool{pool: sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}}

type bufferPool struct{ pool sync.Pool }

func (p *bufferPool) Get() []byte { return *(p.pool.Get().(*[]byte)) }

func (p *bufferPool) Put(b []byte) { p.pool.Put(&b) }
