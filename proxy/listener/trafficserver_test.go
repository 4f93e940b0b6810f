package listener

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// dialRaw connects to addr for a test that writes and reads raw HTTP; the
// connection closes with the test and gives up after 5s.
func dialRaw(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	return c
}

// rawExchange sends raw on a new connection to addr and reads one response
// per request in it (responses to HEAD requests have no body).
func rawExchange(t *testing.T, addr, raw string, methods ...string) []*http.Response {
	t.Helper()
	c := dialRaw(t, addr)
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	var out []*http.Response
	for _, m := range methods {
		resp, err := http.ReadResponse(br, &http.Request{Method: m})
		// 1xx responses come first; the final one carries them as a
		// field, to compare.
		var informational []string
		for err == nil && resp.StatusCode < 200 {
			informational = append(informational, fmt.Sprint(resp.StatusCode, resp.Header))
			resp, err = http.ReadResponse(br, &http.Request{Method: m})
		}
		if err != nil {
			t.Fatalf("response %d: %v", len(out)+1, err)
		}
		if informational != nil {
			resp.Header["Test-Informational"] = informational
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("response %d body: %v", len(out)+1, err)
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		out = append(out, resp)
	}
	return out
}

// startTraffic serves h with a TrafficServer on a free loopback port.
func startTraffic(t *testing.T, h http.Handler) (*TrafficServer, string) {
	t.Helper()
	srv := NewTrafficServer(h, nil)
	return srv, serve(t, srv, nil)
}

// servedFast says, in a response header, whether the fast path answered.
func servedFast(w http.ResponseWriter) {
	_, fast := w.(*http1Response)
	w.Header().Set("Fast-Path", fmt.Sprint(fast))
}

// TestTrafficServer_AnswersAsNetHTTPDoes sends the same requests to a
// TrafficServer and to an http.Server with the same handlers, and compares
// what a client reads: status, framing, header fields, body and trailers.
func TestTrafficServer_AnswersAsNetHTTPDoes(t *testing.T) {
	big := strings.Repeat("b", 5000)
	cases := []struct {
		name    string
		request string
		handler http.HandlerFunc
		method  string
	}{
		{"small body, no length: the server counts it", "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
			func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/plain")
				_, _ = io.WriteString(w, "hello")
			}, "GET"},
		{"large body, no length: chunked", "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
			func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/plain")
				_, _ = io.WriteString(w, big)
			}, "GET"},
		{"announced length", "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
			func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/plain")
				w.Header().Set("Content-Length", "5000")
				_, _ = io.WriteString(w, big)
			}, "GET"},
		{"flushed: chunked", "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
			func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/event-stream")
				_, _ = io.WriteString(w, "data: 1\n\n")
				w.(http.Flusher).Flush()
				_, _ = io.WriteString(w, "data: 2\n\n")
			}, "GET"},
		{"declared trailers", "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
			func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/grpc")
				w.Header().Set("Trailer", "Grpc-Status, Grpc-Message")
				_, _ = io.WriteString(w, "frame")
				w.Header().Set("Grpc-Status", "0")
				w.Header().Set("Grpc-Message", "ok")
			}, "GET"},
		{"trailers set with the prefix", "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
			func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/plain")
				_, _ = io.WriteString(w, "body")
				w.(http.Flusher).Flush()
				w.Header().Set(http.TrailerPrefix+"Checksum", "abc")
			}, "GET"},
		{"HEAD with a length", "HEAD / HTTP/1.1\r\nHost: a\r\n\r\n",
			func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/plain")
				w.Header().Set("Content-Length", "42")
			}, "HEAD"},
		{"HEAD, body written", "HEAD / HTTP/1.1\r\nHost: a\r\n\r\n",
			func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/plain")
				_, _ = io.WriteString(w, "ignored")
			}, "HEAD"},
		{"no content", "DELETE /x HTTP/1.1\r\nHost: a\r\n\r\n",
			func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }, "DELETE"},
		{"not modified", "GET / HTTP/1.1\r\nHost: a\r\nIf-None-Match: \"x\"\r\n\r\n",
			func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Etag", `"x"`)
				w.Header().Set("Content-Type", "text/plain")
				w.WriteHeader(http.StatusNotModified)
			}, "GET"},
		{"early hints, then the response", "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
			func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Link", "</style.css>; rel=preload")
				w.WriteHeader(http.StatusEarlyHints)
				w.Header().Set("Content-Type", "text/plain")
				_, _ = io.WriteString(w, "page")
			}, "GET"},
		{"error helper", "GET /missing HTTP/1.1\r\nHost: a\r\n\r\n",
			func(w http.ResponseWriter, r *http.Request) { http.Error(w, "not here", http.StatusNotFound) }, "GET"},
		{"unknown status code", "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
			func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/plain")
				w.WriteHeader(599)
			}, "GET"},
		{"request body read", "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world",
			func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				w.Header().Set("Content-Type", "text/plain")
				_, _ = fmt.Fprintf(w, "%s %s %d %q", r.Method, r.URL.Path, r.ContentLength, b)
			}, "POST"},
		{"handler asks to close", "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
			func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/plain")
				w.Header().Set("Connection", "close")
				_, _ = io.WriteString(w, "bye")
			}, "GET"},
		{"client asks to close", "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
			func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/plain")
				_, _ = io.WriteString(w, "bye")
			}, "GET"},
		{"request details", "GET /p/a%20th?q=1&r=2 HTTP/1.1\r\nHost: example.test:8080\r\nX-Multi: a\r\nX-Multi: b\r\n\r\n",
			func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/plain")
				_, _ = fmt.Fprintf(w, "%s|%s|%s|%s|%v|%s", r.Host, r.URL.Path, r.URL.RawQuery, r.RequestURI, r.Header["X-Multi"], r.Proto)
			}, "GET"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var fast atomic.Bool
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, ok := w.(*http1Response)
				fast.Store(ok)
				tc.handler(w, r)
			})
			want := rawExchange(t, startBackend(t, h), tc.request, tc.method)[0]
			_, addr := startTraffic(t, h)
			got := rawExchange(t, addr, tc.request, tc.method)[0]
			if !fast.Load() {
				t.Fatal("the fast path did not answer")
			}
			compareResponses(t, got, want)
		})
	}
}

func compareResponses(t *testing.T, got, want *http.Response) {
	t.Helper()
	if got.StatusCode != want.StatusCode || got.Status != want.Status {
		t.Errorf("status %q, net/http %q", got.Status, want.Status)
	}
	if got.ContentLength != want.ContentLength || !slices.Equal(got.TransferEncoding, want.TransferEncoding) || got.Close != want.Close {
		t.Errorf("framing: length %d, chunked %v, close %v; net/http %d, %v, %v",
			got.ContentLength, got.TransferEncoding, got.Close, want.ContentLength, want.TransferEncoding, want.Close)
	}
	gotBody, _ := io.ReadAll(got.Body)
	wantBody, _ := io.ReadAll(want.Body)
	if !bytes.Equal(gotBody, wantBody) {
		t.Errorf("body %q, net/http %q", gotBody, wantBody)
	}
	if len(got.Header["Date"]) != len(want.Header["Date"]) {
		t.Errorf("Date fields %q, net/http %q", got.Header["Date"], want.Header["Date"])
	}
	delete(got.Header, "Date")
	delete(want.Header, "Date")
	if fmt.Sprint(got.Header) != fmt.Sprint(want.Header) {
		t.Errorf("header %v, net/http %v", got.Header, want.Header)
	}
	if fmt.Sprint(got.Trailer) != fmt.Sprint(want.Trailer) {
		t.Errorf("trailer %v, net/http %v", got.Trailer, want.Trailer)
	}
}

func TestTrafficServer_DoesNotInventAContentType(t *testing.T) {
	// net/http sniffs one when the handler sets none; a proxy relaying a
	// response without one must not add it.
	_, addr := startTraffic(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "<html>")
	}))
	resp := rawExchange(t, addr, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", "GET")[0]
	if ct, ok := resp.Header["Content-Type"]; ok {
		t.Errorf("Content-Type %q added", ct)
	}
}

func TestTrafficServer_KeepsAliveAndAnswersPipelinedRequestsInOrder(t *testing.T) {
	conns := map[string]bool{}
	_, addr := startTraffic(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conns[r.RemoteAddr] = true
		servedFast(w)
		_, _ = io.WriteString(w, r.URL.Path)
	}))
	raw := "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\nGET /3 HTTP/1.1\r\nHost: a\r\n\r\n"
	resps := rawExchange(t, addr, raw, "GET", "GET", "GET")
	for i, resp := range resps {
		body, _ := io.ReadAll(resp.Body)
		if want := fmt.Sprintf("/%d", i+1); string(body) != want || resp.Header.Get("Fast-Path") != "true" {
			t.Errorf("response %d: %q (fast path %s), want %q from the fast path", i+1, body, resp.Header.Get("Fast-Path"), want)
		}
	}
	if len(conns) != 1 {
		t.Errorf("requests came on %d connections, want 1", len(conns))
	}
}

// TestTrafficServer_HandsOverWhatItDoesNotServe: a request the fast path
// does not take, in the middle of a keep-alive connection, is answered by
// the http.Server on the same connection, unread bytes and all.
func TestTrafficServer_HandsOverWhatItDoesNotServe(t *testing.T) {
	_, addr := startTraffic(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		servedFast(w)
		b, _ := io.ReadAll(r.Body)
		_, _ = fmt.Fprintf(w, "%s %s", r.URL.Path, b)
	}))
	bigHeader := "X-Big: " + strings.Repeat("h", 5000) + "\r\n"
	cases := []struct{ name, request string }{
		{"chunked body", "POST /chunked HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"},
		{"expect 100-continue", "POST /expect HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi"},
		{"HTTP/1.0", "GET /old HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\n\r\n"},
		{"a header larger than the fast path's buffer", "GET /big HTTP/1.1\r\nHost: a\r\n" + bigHeader + "\r\n"},
		{"no Host", "GET /nohost HTTP/1.1\r\n\r\n"},
		{"two Hosts", "GET /twohosts HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n"},
		{"bad Host", "GET /badhost HTTP/1.1\r\nHost: a b\r\n\r\n"},
		{"bad field value", "GET /badvalue HTTP/1.1\r\nHost: a\r\nX-Bad: a\x00b\r\n\r\n"},
		{"bad Content-Length", "POST /badlength HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n"},
		{"CONNECT", "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n"},
	}
	reference := startBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Fast-Path", "false")
		b, _ := io.ReadAll(r.Body)
		_, _ = fmt.Fprintf(w, "%s %s", r.URL.Path, b)
	}))
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// The first request on the connection takes the fast path,
			// the second does not.
			raw := "GET /first HTTP/1.1\r\nHost: a\r\n\r\n" + tc.request
			resps := rawExchange(t, addr, raw, "GET", "GET")
			first, _ := io.ReadAll(resps[0].Body)
			if string(first) != "/first " || resps[0].Header.Get("Fast-Path") != "true" {
				t.Fatalf("first response %q (fast path %s)", first, resps[0].Header.Get("Fast-Path"))
			}
			if resps[1].Header.Get("Fast-Path") == "true" {
				t.Error("the fast path answered it")
			}
			want := rawExchange(t, reference, tc.request, "GET")[0]
			compareResponses(t, resps[1], want)
		})
	}
}

func TestTrafficServer_ServesHTTP2PriorKnowledge(t *testing.T) {
	_, addr := startTraffic(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.Proto)
	}))
	var protocols http.Protocols
	protocols.SetUnencryptedHTTP2(true)
	c := &http.Client{Transport: &http.Transport{Protocols: &protocols}, Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "HTTP/2.0" {
		t.Errorf("served as %q, want HTTP/2.0", body)
	}
}

// TestTrafficServer_UnreadBody: the rest of a small body the handler did not
// read is skipped and the connection serves the next request; a large one
// closes the connection after the response instead of reading it all.
func TestTrafficServer_UnreadBody(t *testing.T) {
	_, addr := startTraffic(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.URL.Path)
	}))
	small := "POST /small HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello" + "GET /next HTTP/1.1\r\nHost: a\r\n\r\n"
	resps := rawExchange(t, addr, small, "POST", "GET")
	if body, _ := io.ReadAll(resps[1].Body); string(body) != "/next" {
		t.Errorf("after a small unread body: %q, want /next", body)
	}

	c := dialRaw(t, addr)
	// Announce 1 MiB, send 10 bytes: the server answers without waiting
	// for the rest, and closes.
	_, _ = io.WriteString(c, "POST /large HTTP/1.1\r\nHost: a\r\nContent-Length: 1048576\r\n\r\n0123456789")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if string(body) != "/large" || !resp.Close {
		t.Errorf("got %q (close %v), want /large and Connection: close", body, resp.Close)
	}
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
		t.Errorf("connection still open after a large unread body: %v", err)
	}
}

func TestTrafficServer_ClientLeavingCancelsALongRequest(t *testing.T) {
	arrived, cancelled := make(chan struct{}), make(chan error, 1)
	_, addr := startTraffic(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		select {
		case <-r.Context().Done():
			cancelled <- r.Context().Err()
		case <-time.After(10 * time.Second):
			cancelled <- errors.New("not cancelled within 10s")
		}
	}))
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.WriteString(c, "GET /long HTTP/1.1\r\nHost: a\r\n\r\n")
	<-arrived
	time.Sleep(2 * watchAfter) // the watch has started
	_ = c.Close()
	if err := <-cancelled; !errors.Is(err, context.Canceled) {
		t.Errorf("request context: %v, want canceled", err)
	}
}

func TestTrafficServer_LongRequestsKeepTheConnection(t *testing.T) {
	// A request that outlasts the watch start, then more requests on the
	// same connection, pipelined: the watch gives back what it read.
	conns := map[string]bool{}
	_, addr := startTraffic(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conns[r.RemoteAddr] = true
		if r.URL.Path == "/slow" {
			time.Sleep(3 * watchAfter)
		}
		_, _ = io.WriteString(w, r.URL.Path)
	}))
	c := dialRaw(t, addr)
	br := bufio.NewReader(c)
	_, _ = io.WriteString(c, "GET /slow HTTP/1.1\r\nHost: a\r\n\r\n")
	time.Sleep(2 * watchAfter)
	_, _ = io.WriteString(c, "GET /next HTTP/1.1\r\nHost: a\r\n\r\n")
	for _, want := range []string{"/slow", "/next"} {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		if string(body) != want {
			t.Errorf("got %q, want %q", body, want)
		}
	}
	if len(conns) != 1 {
		t.Errorf("requests came on %d connections, want 1", len(conns))
	}
}

func TestTrafficServer_AbortedResponseBreaksTheConnection(t *testing.T) {
	_, addr := startTraffic(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		_, _ = io.WriteString(w, "part")
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	}))
	c := dialRaw(t, addr)
	_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	if body, err := io.ReadAll(resp.Body); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("body %q, error %v: want the response cut short", body, err)
	}
}

// TestTrafficServer_ShutdownDrains: Shutdown closes idle connections at
// once, lets a request in flight finish (its response says the connection
// closes), and returns once it has.
func TestTrafficServer_ShutdownDrains(t *testing.T) {
	arrived, release := make(chan struct{}), make(chan struct{})
	srv, addr := startTraffic(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			close(arrived)
			<-release
		}
		_, _ = io.WriteString(w, r.URL.Path)
	}))
	idle := dialRaw(t, addr)
	idleReader := bufio.NewReader(idle)
	_, _ = io.WriteString(idle, "GET /first HTTP/1.1\r\nHost: a\r\n\r\n")
	if resp, err := http.ReadResponse(idleReader, nil); err != nil {
		t.Fatal(err)
	} else {
		_, _ = io.ReadAll(resp.Body)
	}

	busy := dialRaw(t, addr)
	_, _ = io.WriteString(busy, "GET /slow HTTP/1.1\r\nHost: a\r\n\r\n")
	<-arrived

	done := make(chan error, 1)
	go func() { done <- srv.Shutdown(context.Background()) }()
	if _, err := idleReader.ReadByte(); !errors.Is(err, io.EOF) {
		t.Errorf("idle connection: %v, want closed", err)
	}
	select {
	case err := <-done:
		t.Fatalf("Shutdown returned %v with a request in flight", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	resp, err := http.ReadResponse(bufio.NewReader(busy), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if string(body) != "/slow" || !resp.Close {
		t.Errorf("in-flight request: %q (close %v), want /slow with Connection: close", body, resp.Close)
	}
	if err := <-done; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if _, err := net.Dial("tcp", addr); err == nil {
		t.Error("still accepting after Shutdown")
	}
}

func TestTrafficServer_ClosesSlowAndIdleClients(t *testing.T) {
	srv := NewTrafficServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), nil)
	srv.headerTimeout, srv.idleTimeout = 300*time.Millisecond, 900*time.Millisecond
	addr := serve(t, srv, nil)
	closedAfter := func(send string) time.Duration {
		c := dialRaw(t, addr)
		start := time.Now()
		_, _ = io.WriteString(c, send)
		br := bufio.NewReader(c)
		for {
			if send != "" {
				if _, err := http.ReadResponse(br, nil); err == nil {
					send = ""
					continue
				}
			}
			if _, err := br.ReadByte(); err != nil {
				return time.Since(start)
			}
		}
	}
	// Half a header, then nothing: closed after the header timeout.
	if d := closedAfter("GET / HTTP/1.1\r\nHost: a\r\n"); d < 250*time.Millisecond || d > 2*time.Second {
		t.Errorf("a client stalled in its header was closed after %s, want about 300ms", d)
	}
	// A request, then idle: closed after the idle timeout, not the header's.
	if d := closedAfter("GET / HTTP/1.1\r\nHost: a\r\n\r\n"); d < 800*time.Millisecond || d > 3*time.Second {
		t.Errorf("an idle connection was closed after %s, want about 900ms", d)
	}
}

// TestTrafficServer_ShutdownWaitsForARequestBegun: a connection that has
// sent part of a request is not idle; Shutdown lets it finish.
func TestTrafficServer_ShutdownWaitsForARequestBegun(t *testing.T) {
	srv, addr := startTraffic(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.URL.Path)
	}))
	c := dialRaw(t, addr)
	_, _ = io.WriteString(c, "GET /begun HTTP/1.1\r\nHo")
	// Wait until the server has the first bytes.
	deadline := time.Now().Add(5 * time.Second)
	for {
		srv.mu.Lock()
		begun := false
		for sc := range srv.conns {
			begun = begun || sc.state.Load() == connActive
		}
		srv.mu.Unlock()
		if begun {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the server never saw the request begin")
		}
		time.Sleep(5 * time.Millisecond)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Shutdown(context.Background()) }()
	time.Sleep(50 * time.Millisecond)
	_, _ = io.WriteString(c, "st: a\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("the begun request got no response: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	if string(body) != "/begun" || !resp.Close {
		t.Errorf("got %q (close %v), want /begun with Connection: close", body, resp.Close)
	}
	if err := <-done; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}
