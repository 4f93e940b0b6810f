package listener

import (
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"net/url"
	"strings"
	"sync"

	"golang.org/x/net/http/httpguts"
)

// relay forwards a request and copies its response back, doing what
// httputil.ReverseProxy does for a request that is not a protocol upgrade,
// with less work per request.
//
// Why it exists: the ReverseProxy clones the whole request (header included),
// then deletes hop-by-hop and forwarding headers from the clone one by one,
// and copies the response header value by value. On the request path of a
// sidecar held to one core that is a measurable share of the time. relay
// builds the outgoing header in one pass instead, and hands the response
// header over without copying. Upgrades (WebSocket) stay with the
// ReverseProxy, which knows how to splice the connections (see
// relayEligible).
func (f *forwarder) relay(w http.ResponseWriter, r *http.Request, ex *exchange) {
	// The exchange carries what the request needs on its way (the 1xx
	// relay, its own URL to point at an endpoint), so the request path
	// allocates one object for them.
	info := &ex.info
	info.w = w
	out := r.WithContext(withExchangeContext(r.Context(), ex))
	ex.url = *r.URL
	out.URL = &ex.url
	out.URL.Scheme, out.URL.Host = "http", "endpoint.invalid"
	out.URL.RawQuery = cleanQuery(out.URL.RawQuery)
	out.RequestURI = ""
	out.Close = false
	out.Header = outgoingHeader(r)
	if r.ContentLength == 0 {
		out.Body = nil
	}
	if out.Body != nil {
		// The transport closes the body it was given when a try fails;
		// the client's body must stay open for the server to finish it
		// (it may be waiting for a 100-continue).
		out.Body = noCloseBody{out.Body}
	}

	resp, err := f.upstream.RoundTrip(out)
	info.finish()
	if err != nil {
		f.handleError(w, out, err)
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusSwitchingProtocols {
		// No upgrade was asked for.
		f.handleError(w, out, errUnexpectedUpgrade)
		return
	}
	ex.status = resp.StatusCode
	removeHopByHop(resp.Header)
	h := w.Header()
	for k, vv := range resp.Header {
		h[k] = append(h[k], vv...)
	}
	announced := len(resp.Trailer)
	if announced > 0 {
		keys := make([]string, 0, announced)
		for k := range resp.Trailer {
			keys = append(keys, k)
		}
		h.Add("Trailer", strings.Join(keys, ", "))
	}
	w.WriteHeader(resp.StatusCode)
	streaming := resp.ContentLength == -1 || isEventStream(resp.Header)
	if streaming {
		// The client must see the headers now, not with the first bytes
		// of a body that may take its time.
		_ = http.NewResponseController(w).Flush()
	}
	if err := copyBody(w, resp.Body, streaming); err != nil {
		// The headers are out: all that can be done is to break the
		// response, so the client sees it incomplete.
		panic(http.ErrAbortHandler)
	}
	_ = resp.Body.Close() // fills resp.Trailer
	if len(resp.Trailer) > 0 {
		// Chunked, so the trailers can follow the body.
		_ = http.NewResponseController(w).Flush()
	}
	if len(resp.Trailer) == announced {
		for k, vv := range resp.Trailer {
			h[k] = append(h[k], vv...)
		}
		return
	}
	for k, vv := range resp.Trailer {
		h[http.TrailerPrefix+k] = append(h[http.TrailerPrefix+k], vv...)
	}
}

// relayEligible: everything but protocol upgrades.
func relayEligible(r *http.Request) bool {
	return r.Header.Get("Upgrade") == ""
}

type relayError string

func (e relayError) Error() string { return string(e) }

const errUnexpectedUpgrade = relayError("backend switched protocols without an upgrade request")

// hopByHop are the headers that describe one connection, not the request
// (RFC 9110, section 7.6.1), as the ReverseProxy removes them.
var hopByHop = map[string]bool{
	"Connection": true, "Proxy-Connection": true, "Keep-Alive": true, "Proxy-Authenticate": true,
	"Proxy-Authorization": true, "Te": true, "Trailer": true, "Transfer-Encoding": true, "Upgrade": true,
}

// outgoingHeader turns the client's header into the one sent on: without
// hop-by-hop and forwarding fields, with the proxy's forwarding fields and a
// request id. It changes the request's own header, which nothing reads
// after the relay (a mirror copies it before), rather than copy it: a
// second map per request is a measurable share of a sidecar's work.
func outgoingHeader(r *http.Request) http.Header {
	h := r.Header
	// Read what the rewrite removes first.
	trailers := httpguts.HeaderValuesContainsToken(h["Te"], "trailers")
	priorXFF := h["X-Forwarded-For"]
	for _, v := range h["Connection"] {
		for token := range strings.SplitSeq(v, ",") {
			if token = textproto.TrimString(token); token != "" {
				delete(h, textproto.CanonicalMIMEHeaderKey(token))
			}
		}
	}
	for k := range hopByHop {
		delete(h, k)
	}
	delete(h, "Forwarded")
	delete(h, "X-Forwarded-For")
	delete(h, "X-Forwarded-Host")
	delete(h, "X-Forwarded-Proto")
	// One backing array for the values the proxy adds.
	added := make([]string, 6)
	value := func(i int, v string) []string {
		added[i] = v
		return added[i : i+1 : i+1]
	}
	if trailers {
		// Tell the backend that trailers are relayed, when the client
		// said it takes them (gRPC).
		h["Te"] = value(5, "trailers")
	}
	// Extend the client's X-Forwarded-For chain rather than restart it: in a
	// mesh the previous hop is usually another proxy.
	if clientIP, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		if len(priorXFF) > 0 {
			clientIP = strings.Join(priorXFF, ", ") + ", " + clientIP
		}
		h["X-Forwarded-For"] = value(0, clientIP)
	}
	h["X-Forwarded-Host"] = value(1, r.Host)
	proto := "http"
	if r.TLS != nil {
		proto = "https"
	}
	h["X-Forwarded-Proto"] = value(2, proto)
	if _, ok := h["User-Agent"]; !ok {
		// Not Go's default User-Agent: the backend sees the client's, or none.
		h["User-Agent"] = value(3, "")
	}
	if h.Get(requestIDHeader) == "" {
		h[requestIDHeader] = value(4, newRequestID())
	}
	return h
}

// removeHopByHop removes the connection-scoped headers of a response.
func removeHopByHop(h http.Header) {
	for _, v := range h["Connection"] {
		for token := range strings.SplitSeq(v, ",") {
			if token = textproto.TrimString(token); token != "" {
				h.Del(token)
			}
		}
	}
	for k := range hopByHop {
		delete(h, k)
	}
}

// cleanQuery drops query parameters Go cannot parse (a ';' or a bad escape),
// as the ReverseProxy does, so the backend and the proxy's routing read the
// same query.
func cleanQuery(q string) string {
	for i := 0; i < len(q); i++ {
		switch q[i] {
		case ';':
			return reencodeQuery(q)
		case '%':
			if i+2 >= len(q) || !isHex(q[i+1]) || !isHex(q[i+2]) {
				return reencodeQuery(q)
			}
			i += 2
		}
	}
	return q
}

func reencodeQuery(q string) string {
	v, _ := url.ParseQuery(q)
	return v.Encode()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isEventStream(h http.Header) bool {
	ct := h.Get("Content-Type")
	// Parsing allocates: only a type that starts like it can be it.
	if len(ct) < len("text/event-stream") || !strings.EqualFold(ct[:len("text/event-stream")], "text/event-stream") {
		return false
	}
	base, _, _ := mime.ParseMediaType(ct)
	return base == "text/event-stream"
}

// copyBody copies a response body, flushing after every write when it
// streams.
func copyBody(w http.ResponseWriter, body io.Reader, flush bool) error {
	bp := copyBuffers.pool.Get().(*[]byte)
	defer copyBuffers.pool.Put(bp)
	buf := *bp
	var rc *http.ResponseController
	if flush {
		rc = http.NewResponseController(w)
	}
	for {
		n, rerr := body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return werr
			}
			if rc != nil {
				_ = rc.Flush()
			}
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return rerr
		}
	}
}

// informational relays 1xx answers (103 Early Hints) to the client while the
// final response has not come. http1Client calls relay itself; the
// Transport hears of 1xx answers through a client trace only (see
// withTrace).
type informational struct {
	w     http.ResponseWriter
	trace httptrace.ClientTrace
	mu    sync.Mutex
	done  bool
}

// withTrace adds the client trace that relays 1xx answers to req's
// context, for the Transport, when there is a client to relay them to.
func (i *informational) withTrace(req *http.Request) *http.Request {
	if i.w == nil {
		return req
	}
	i.trace.Got1xxResponse = i.relay
	return req.WithContext(httptrace.WithClientTrace(req.Context(), &i.trace))
}

func (i *informational) relay(code int, header textproto.MIMEHeader) error {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.done {
		return nil
	}
	h := i.w.Header()
	for k, vv := range header {
		h[k] = append(h[k], vv...)
	}
	i.w.WriteHeader(code)
	// The final response must not repeat them.
	clear(h)
	return nil
}

func (i *informational) finish() {
	i.mu.Lock()
	i.done = true
	i.mu.Unlock()
}

// noCloseBody keeps the client's request body open when the transport
// closes what it was given.
type noCloseBody struct{ io.ReadCloser }

func (noCloseBody) Close() error { return nil }
