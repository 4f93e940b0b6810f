package listener

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicemesh/sluice/proxy/balancing"
	"github.com/sluicemesh/sluice/proxy/config"
	"github.com/sluicemesh/sluice/proxy/metrics"
	"github.com/sluicemesh/sluice/proxy/retry"
	meshtls "github.com/sluicemesh/sluice/proxy/tls"
)

var (
	// errNoEndpoint: the backend has no available endpoint (answered 503).
	errNoEndpoint = errors.New("no available endpoint")
	// errPerTryTimeout: a try got no response headers in time (answered 504
	// when it was the last try).
	errPerTryTimeout = errors.New("per-try timeout")
)

// maxReplayBody is the largest request body buffered so that the request can
// be retried. Larger or unsized bodies stream and are not retried (except
// after a failed dial, which never read them).
const maxReplayBody = 64 << 10

// upstream is the ReverseProxy's transport: for each try it picks an endpoint
// of the exchange's destination, sends the request over HTTP/1.1 or h2c as the
// endpoint speaks, and retries within the route's policy and budget.
type upstream struct {
	// fast serves plaintext HTTP/1.1 requests that need nothing of the
	// Transport; http1 serves the others (see fastEligible).
	fast  *http1Client
	http1 *http.Transport
	h2c   *http.Transport
	// direction and metrics count retries and ejections; metrics may be nil.
	direction metrics.Direction
	metrics   *metrics.Recorder
	// identity is the proxy's certificate for meshed endpoints; nil = none,
	// and meshed endpoints cannot be reached.
	identity *meshtls.Source
	// meshed holds one HTTP/2-over-mTLS transport per expected server
	// identity, so a pooled connection is only ever reused for the identity
	// it was verified against. Upgrades (WebSocket) need HTTP/1.1: the
	// transport then dials without offering h2, by itself.
	meshed sync.Map // identity -> *http.Transport
}

// errNoCertificate: an endpoint is meshed but this proxy has no certificate
// to dial it with (answered 502). Never a plaintext fallback.
var errNoCertificate = errors.New("meshed endpoint and no TLS certificate")

var _ http.RoundTripper = (*upstream)(nil)

// UpstreamIdleConnsPerHost is the keep-alive pool kept per endpoint.
const UpstreamIdleConnsPerHost = 256

func newUpstream(dir metrics.Direction, rec *metrics.Recorder) *upstream {
	return &upstream{fast: newHTTP1Client(), http1: newTransport(false), h2c: newTransport(true), direction: dir, metrics: rec}
}

func newTransport(h2c bool) *http.Transport {
	var protocols http.Protocols
	if h2c {
		protocols.SetUnencryptedHTTP2(true)
	} else {
		protocols.SetHTTP1(true)
	}
	return &http.Transport{
		Protocols: &protocols,
		// Never an HTTP proxy from the environment: the mesh is the proxy.
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          16 * UpstreamIdleConnsPerHost,
		MaxIdleConnsPerHost:   UpstreamIdleConnsPerHost,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
		// Pass bodies through as they are: a proxy must not add
		// Accept-Encoding and decompress behind the client's back.
		DisableCompression: true,
	}
}

// CloseIdleConnections closes the kept-alive upstream connections.
func (u *upstream) CloseIdleConnections() {
	u.fast.CloseIdleConnections()
	u.http1.CloseIdleConnections()
	u.h2c.CloseIdleConnections()
	u.meshed.Range(func(_, t any) bool {
		t.(*http.Transport).CloseIdleConnections()
		return true
	})
}

// transportFor returns the transport that reaches an endpoint: HTTP/2 over
// mTLS checking the endpoint's identity when it is meshed, else HTTP/1.1 or
// h2c as it speaks.
func (u *upstream) transportFor(req *http.Request, ep *balancing.Endpoint) (http.RoundTripper, error) {
	if ep.Identity == "" {
		req.URL.Scheme = "http"
		if ep.Protocol == string(config.ProtocolH2) || ep.Protocol == string(config.ProtocolGRPC) {
			return u.h2c, nil
		}
		if fastEligible(req) {
			return u.fast, nil
		}
		return u.http1, nil
	}
	if u.identity == nil {
		return nil, errNoCertificate
	}
	req.URL.Scheme = "https"
	if t, ok := u.meshed.Load(ep.Identity); ok {
		return t.(*http.Transport), nil
	}
	t, _ := u.meshed.LoadOrStore(ep.Identity, newMeshTransport(u.identity.ClientConfig(ep.Identity)))
	return t.(*http.Transport), nil
}

func newMeshTransport(cfg *tls.Config) *http.Transport {
	t := newTransport(false)
	var protocols http.Protocols
	protocols.SetHTTP2(true)
	t.Protocols = &protocols
	t.TLSClientConfig = cfg
	t.TLSHandshakeTimeout = 5 * time.Second
	return t
}

func (u *upstream) RoundTrip(req *http.Request) (*http.Response, error) {
	ex := exchangeOf(req.Context())
	p := ex.retries
	if p == nil || p.Attempts == 0 {
		resp, _, err := u.try(req, ex, nil, 0)
		return resp, err
	}
	idempotent := retry.Idempotent(req)
	replayable := makeReplayable(req)
	p.Budget.Request()
	var avoid *balancing.Endpoint
	for attempt := 0; ; attempt++ {
		r := req
		if attempt > 0 {
			if r = cloneForRetry(req); r == nil {
				return nil, errors.New("request body cannot be replayed")
			}
		}
		resp, ep, err := u.try(r, ex, avoid, p.PerTryTimeout)
		if attempt == p.Attempts || req.Context().Err() != nil {
			return resp, err
		}
		// A streamed body cannot be sent twice; even after a failed dial the
		// transport has closed it.
		again := replayable
		if err != nil {
			again = again && p.RetryError(err, idempotent, errors.Is(err, errPerTryTimeout))
		} else {
			again = again && p.RetryStatus(resp.StatusCode, idempotent)
		}
		if !again || !p.Budget.Withdraw() {
			return resp, err
		}
		if resp != nil {
			// Drain a little so the connection can be reused, then drop it.
			_, _ = io.CopyN(io.Discard, resp.Body, 4<<10)
			_ = resp.Body.Close()
		}
		if err := waitBeforeRetry(req.Context(), ex.dest, ep, attempt); err != nil {
			return nil, err
		}
		u.metrics.Retry(u.direction, ex.dest.Name)
		avoid = ep
	}
}

// try sends one try of req, whose context carries ex, to an endpoint of
// ex.dest other than avoid when there is one.
func (u *upstream) try(req *http.Request, ex *exchange, avoid *balancing.Endpoint, perTry time.Duration) (*http.Response, *balancing.Endpoint, error) {
	dest := ex.dest
	ep, start := acquire(req.Context(), dest, avoid)
	if ep == nil {
		return nil, nil, errNoEndpoint
	}
	req.URL.Host = ep.Address
	rt, err := u.transportFor(req, ep)
	if err != nil {
		ep.Done(start, false)
		return nil, ep, err
	}
	ex.tls = ex.tls || ep.Identity != ""
	if rt != u.fast {
		req = ex.info.withTrace(req)
	}
	if perTry <= 0 {
		resp, err := rt.RoundTrip(req)
		failed := endpointFailed(req, err)
		ep.Done(start, failed)
		u.judge(dest, ep, failed || resp != nil && resp.StatusCode >= 500)
		return resp, ep, err
	}
	ctx, cancel := context.WithCancel(req.Context())
	var timedOut atomic.Bool
	timer := time.AfterFunc(perTry, func() {
		timedOut.Store(true)
		cancel()
	})
	resp, err := rt.RoundTrip(req.WithContext(ctx))
	failed := timedOut.Load() || endpointFailed(req, err)
	ep.Done(start, failed)
	u.judge(dest, ep, failed || resp != nil && resp.StatusCode >= 500)
	if !timer.Stop() && timedOut.Load() {
		// The timer fired: whatever came back is cut off.
		if resp != nil {
			_ = resp.Body.Close()
		}
		return nil, ep, errPerTryTimeout
	}
	return resp, ep, err
}

// judge feeds a try's outcome to the backend's circuit breaker, and tells a
// request waiting for a free endpoint that this one finished.
func (u *upstream) judge(dest *config.Destination, ep *balancing.Endpoint, failed bool) {
	b := dest.Breaker
	if b == nil {
		return
	}
	if b.Record(&ep.Outlier, failed) {
		u.metrics.Ejection(dest.Name)
	}
	b.Pending.Freed()
}

// acquire picks an endpoint and starts a request on it, within its in-flight
// limit. When every healthy endpoint is full it waits, within the circuit
// breaker's pending-request limit, for one to free up; a backend whose
// endpoints are all ejected has nothing to wait for. It returns nil when no
// endpoint can take the request.
func acquire(ctx context.Context, dest *config.Destination, avoid *balancing.Endpoint) (*balancing.Endpoint, int64) {
	if ep, start := tryAcquire(dest, avoid); ep != nil {
		return ep, start
	}
	if dest == nil || dest.Breaker == nil || !anyHealthy(dest.Endpoints) {
		return nil, 0
	}
	// Only the waiting path builds a closure: on the fast path it would
	// cost an allocation per request.
	var ep *balancing.Endpoint
	var start int64
	if !dest.Breaker.Pending.Wait(ctx, func() bool {
		ep, start = tryAcquire(dest, avoid)
		return ep != nil
	}) {
		return nil, 0
	}
	return ep, start
}

// tryAcquire picks and starts without waiting, with a few picks, as another
// request may take the last slot between a pick and its start.
func tryAcquire(dest *config.Destination, avoid *balancing.Endpoint) (*balancing.Endpoint, int64) {
	for range 3 {
		ep := pick(dest, avoid)
		if ep == nil {
			return nil, 0
		}
		if start, ok := ep.TryStart(); ok {
			return ep, start
		}
	}
	return nil, 0
}

func anyHealthy(eps []*balancing.Endpoint) bool {
	for _, e := range eps {
		if e.Healthy() {
			return true
		}
	}
	return false
}

// endpointFailed says whether a try's error is the endpoint's fault, not the
// client giving up or the route timing out.
func endpointFailed(req *http.Request, err error) bool {
	return err != nil && req.Context().Err() == nil
}

// pick asks the balancer for an endpoint, avoiding the one that just failed
// when another is available.
func pick(dest *config.Destination, avoid *balancing.Endpoint) *balancing.Endpoint {
	if dest == nil {
		return nil
	}
	ep := dest.Balancer.Pick(dest.Endpoints)
	if ep == nil || ep != avoid || len(dest.Endpoints) < 2 {
		return ep
	}
	for _, other := range dest.Endpoints {
		if other != avoid && other.Available() {
			return other
		}
	}
	return ep
}

// waitBeforeRetry retries at once on another endpoint, and backs off (25ms,
// 50ms, ...) before trying the same one again.
func waitBeforeRetry(ctx context.Context, dest *config.Destination, failed *balancing.Endpoint, attempt int) error {
	if failed == nil || len(dest.Endpoints) > 1 {
		return nil
	}
	t := time.NewTimer((25 * time.Millisecond) << attempt)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// makeReplayable buffers a small request body so that it can be sent again,
// and reports whether the request can be retried.
func makeReplayable(req *http.Request) bool {
	if req.Body == nil || req.Body == http.NoBody {
		return true
	}
	if req.ContentLength <= 0 || req.ContentLength > maxReplayBody {
		return false
	}
	buf := make([]byte, req.ContentLength)
	if _, err := io.ReadFull(req.Body, buf); err != nil {
		return false
	}
	_ = req.Body.Close()
	req.Body = io.NopCloser(bytes.NewReader(buf))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf)), nil }
	return true
}

// cloneForRetry copies the request for another try, with a fresh body.
func cloneForRetry(req *http.Request) *http.Request {
	r := req.Clone(req.Context())
	if req.Body != nil && req.Body != http.NoBody {
		if req.GetBody == nil {
			return nil
		}
		body, err := req.GetBody()
		if err != nil {
			return nil
		}
		r.Body = body
	}
	return r
}
