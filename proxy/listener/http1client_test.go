package listener

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestFastEligible_TakesPlainRequestsAndLeavesTheRestToTheTransport(t *testing.T) {
	for _, tc := range []struct {
		name string
		req  func() *http.Request
		fast bool
	}{
		{"GET without body", func() *http.Request { return newReq(http.MethodGet, nil, 0) }, true},
		{"POST with a small sized body", func() *http.Request { return newReq(http.MethodPost, strings.NewReader("hi"), 2) }, true},
		{"POST with a streamed body", func() *http.Request { return newReq(http.MethodPost, strings.NewReader("hi"), -1) }, false},
		{"POST with a large body", func() *http.Request {
			return newReq(http.MethodPost, strings.NewReader(strings.Repeat("x", maxReplayBody+1)), maxReplayBody+1)
		}, false},
		{"Expect: 100-continue", func() *http.Request {
			r := newReq(http.MethodPut, strings.NewReader("hi"), 2)
			r.Header.Set("Expect", "100-continue")
			return r
		}, false},
		{"WebSocket upgrade", func() *http.Request {
			r := newReq(http.MethodGet, nil, 0)
			r.Header.Set("Connection", "Upgrade")
			r.Header.Set("Upgrade", "websocket")
			return r
		}, false},
		{"request trailers", func() *http.Request {
			r := newReq(http.MethodPost, strings.NewReader("hi"), -1)
			r.Trailer = http.Header{"X-Checksum": nil}
			return r
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := fastEligible(tc.req()); got != tc.fast {
				t.Errorf("fastEligible = %v, want %v", got, tc.fast)
			}
		})
	}
}

func newReq(method string, body io.Reader, length int64) *http.Request {
	r, _ := http.NewRequest(method, "http://endpoint.invalid/", body)
	r.ContentLength = length
	return r
}

// countConns serves h and counts the connections it accepted.
func countConns(t *testing.T, h http.Handler) (string, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := &http.Server{Handler: h, ConnState: func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			n.Add(1)
		}
	}}
	return serve(t, srv, nil), &n
}

func fastGet(t *testing.T, c *http1Client, ctx context.Context, addr, path string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+path, nil)
	resp, err := c.RoundTrip(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		t.Fatalf("GET %s body: %v", path, err)
	}
	return resp, string(body)
}

func TestHTTP1Client_ReusesOneConnectionForSequentialRequests(t *testing.T) {
	addr, conns := countConns(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.URL.Path)
	}))
	c := newHTTP1Client()
	t.Cleanup(c.CloseIdleConnections)
	for _, path := range []string{"/a", "/b", "/c"} {
		if _, body := fastGet(t, c, context.Background(), addr, path); body != path {
			t.Errorf("GET %s answered %q", path, body)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("backend saw %d connections, want 1 kept alive", n)
	}
}

func TestHTTP1Client_AbandonedBodyDoesNotLeakIntoTheNextResponse(t *testing.T) {
	big := strings.Repeat("x", 256<<10)
	addr, conns := countConns(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/big" {
			_, _ = io.WriteString(w, big)
			return
		}
		_, _ = io.WriteString(w, "small")
	}))
	c := newHTTP1Client()
	t.Cleanup(c.CloseIdleConnections)
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/big", nil)
	resp, err := c.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.CopyN(io.Discard, resp.Body, 10)
	_ = resp.Body.Close()
	if _, body := fastGet(t, c, context.Background(), addr, "/small"); body != "small" {
		t.Errorf("next response %q, want small", body)
	}
	if n := conns.Load(); n != 2 {
		t.Errorf("backend saw %d connections, want 2 (the abandoned one closed)", n)
	}
}

// TestHTTP1Client_ResendsAGETWhenTheEndpointClosedTheIdleConnection: an
// endpoint that closes a kept-alive connection between requests (idle
// timeout) must not fail the next request.
func TestHTTP1Client_ResendsAGETWhenTheEndpointClosedTheIdleConnection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	var accepted atomic.Int64
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			go func() {
				// One answer that promises keep-alive, then close.
				defer conn.Close()
				if _, err := http.ReadRequest(bufio.NewReader(conn)); err != nil {
					return
				}
				_, _ = io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
			}()
		}
	}()
	c := newHTTP1Client()
	t.Cleanup(c.CloseIdleConnections)
	for i := range 3 {
		if resp, body := fastGet(t, c, context.Background(), ln.Addr().String(), "/"); resp.StatusCode != 200 || body != "ok" {
			t.Fatalf("request %d: %d %q", i, resp.StatusCode, body)
		}
		time.Sleep(20 * time.Millisecond) // let the close arrive
	}
	if n := accepted.Load(); n != 3 {
		t.Errorf("backend accepted %d connections, want 3", n)
	}
}

func TestHTTP1Client_DoesNotResendAPOSTThatReachedTheEndpoint(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	var requests atomic.Int64
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				br := bufio.NewReader(conn)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					_, _ = io.Copy(io.Discard, req.Body)
					if requests.Add(1) > 1 {
						return // the second request is lost without an answer
					}
					_, _ = io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
				}
			}()
		}
	}()
	c := newHTTP1Client()
	t.Cleanup(c.CloseIdleConnections)
	fastGet(t, c, context.Background(), ln.Addr().String(), "/")
	req, _ := http.NewRequest(http.MethodPost, "http://"+ln.Addr().String()+"/", strings.NewReader("pay"))
	if resp, err := c.RoundTrip(req); err == nil {
		_ = resp.Body.Close()
		t.Fatal("the lost POST succeeded")
	}
	if n := requests.Load(); n != 2 {
		t.Errorf("endpoint saw %d requests, want 2 (the POST once)", n)
	}
}

func TestHTTP1Client_CancellationInterruptsAWaitingRequest(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	addr := startBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	c := newHTTP1Client()
	t.Cleanup(c.CloseIdleConnections)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/", nil)
	start := time.Now()
	_, err := c.RoundTrip(req)
	if err != context.DeadlineExceeded {
		t.Errorf("error %v, want the context's", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("cancellation took %s", d)
	}
}

func TestHTTP1Client_RelaysInformationalResponsesThroughTheTrace(t *testing.T) {
	addr := startBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		_, _ = io.WriteString(w, "page")
	}))
	c := newHTTP1Client()
	t.Cleanup(c.CloseIdleConnections)
	var hints []string
	ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
		Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
			hints = append(hints, h.Get("Link"))
			return nil
		},
	})
	resp, body := fastGet(t, c, ctx, addr, "/")
	if resp.StatusCode != 200 || body != "page" {
		t.Errorf("final response %d %q", resp.StatusCode, body)
	}
	if len(hints) != 1 || hints[0] != "</style.css>; rel=preload" {
		t.Errorf("early hints seen %q", hints)
	}
}

// TestHTTP1Client_POSTAfterTheEndpointTimedTheConnectionOut: a POST cannot
// be sent twice, so a connection the endpoint closed while idle (Node.js
// does after 5 s) must be noticed before the POST is written to it.
func TestHTTP1Client_POSTAfterTheEndpointTimedTheConnectionOut(t *testing.T) {
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			_, _ = w.Write(body)
		}),
		IdleTimeout: 50 * time.Millisecond,
	}
	addr := serve(t, srv, nil)
	c := newHTTP1Client()
	t.Cleanup(c.CloseIdleConnections)
	fastGet(t, c, context.Background(), addr, "/")
	time.Sleep(probeAfterIdle + 100*time.Millisecond) // the endpoint closes it meanwhile
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/", strings.NewReader("order"))
	resp, err := c.RoundTrip(req)
	if err != nil {
		t.Fatalf("POST on a timed-out connection: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if string(body) != "order" {
		t.Errorf("POST answered %q", body)
	}
}
