package listener

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// echoRequest answers with what the handler saw of the request, between
// markers the comparison finds in either server's framing.
var echoRequest = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	keys := make([]string, 0, len(r.Header))
	for k, vv := range r.Header {
		keys = append(keys, fmt.Sprintf("%s=%q", k, vv))
	}
	slices.Sort(keys)
	w.Header().Set("Content-Type", "text/plain")
	_, _ = fmt.Fprintf(w, "<<%s %s %s %s %q %v %d %v %v>>", r.Method, r.RequestURI, r.Host, r.Proto, body, err != nil,
		r.ContentLength, r.Close, keys)
})

var (
	statusLine = regexp.MustCompile(`(?m)^HTTP/1\.1 (\d{3})`)
	echoed     = regexp.MustCompile(`<<.*?>>`)
)

// answers is what a client reads from a server for raw, sent at once and
// followed by a half-close: the status codes and the echoed requests.
func answers(t *testing.T, addr string, raw []byte) string {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	_, _ = c.Write(raw)
	_ = c.(*net.TCPConn).CloseWrite()
	out, _ := io.ReadAll(c)
	var codes []string
	for _, m := range statusLine.FindAllSubmatch(out, -1) {
		codes = append(codes, string(m[1]))
	}
	var echoes []string
	for _, m := range echoed.FindAll(out, -1) {
		echoes = append(echoes, string(m))
	}
	return fmt.Sprintf("statuses %v, requests %s", codes, strings.Join(echoes, " "))
}

// FuzzTrafficServerAnswersAsNetHTTP sends the same bytes to a TrafficServer
// and to an http.Server with the same handler: the fast path must take
// only what net/http accepts, read it as net/http does, and hand the rest
// over, so a client cannot tell which one it talks to (request smuggling
// lives in such differences).
func FuzzTrafficServerAnswersAsNetHTTP(f *testing.F) {
	for _, seed := range []string{
		"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n",
		"POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcGET /n HTTP/1.1\r\nHost: a\r\n\r\n",
		"POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc",
		"POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
		"POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
		"POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
		"GET / HTTP/1.1\r\nhost: a\r\n\r\n",
		"GET http://b.example/x HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET / HTTP/1.1\r\n\r\n",
		"GET / HTTP/1.0\r\n\r\n",
		"GET / HTTP/1.1\nHost: a\n\n",
		"GET / HTTP/1.1\r\nHost: a\r\n X-Folded: b\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nX Bad: b\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nX-Bad : b\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\nGET /after HTTP/1.1\r\nHost: a\r\n\r\n",
		"HEAD / HTTP/1.1\r\nHost: a\r\n\r\n",
		"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /%zz HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET / HTTP/2.0\r\nHost: a\r\n\r\n",
		"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx",
		"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: +1\r\n\r\nx",
		"\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
	} {
		f.Add([]byte(seed))
	}
	reference := startBackend(f, echoRequest)
	srv := NewTrafficServer(echoRequest, nil)
	fast := serve(f, srv, nil)
	f.Fuzz(func(t *testing.T, raw []byte) {
		if len(raw) > 8<<10 {
			t.Skip("longer than a header fits")
		}
		want := answers(t, reference, raw)
		if got := answers(t, fast, raw); got != want {
			t.Errorf("for %q:\n got %s\nwant %s (net/http)", raw, got, want)
		}
	})
}
