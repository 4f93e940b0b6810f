package listener

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestWriteRequest_ReadsBackAsTheSameRequest: what the fast path writes is
// what a server parses back, field for field.
func TestWriteRequest_ReadsBackAsTheSameRequest(t *testing.T) {
	for _, tc := range []struct {
		name    string
		req     func() *http.Request
		check   func(t *testing.T, got *http.Request, body string)
		rawWant string // a substring of the wire form
	}{
		{"GET with fields, query and no User-Agent", func() *http.Request {
			r, _ := http.NewRequest(http.MethodGet, "http://endpoint.invalid/a%20b?x=1&y=2", nil)
			r.Host = "app.demo"
			r.Header["User-Agent"] = []string{""}
			r.Header["X-Multi"] = []string{"one", "two"}
			r.Header.Set("X-Bad", "line\r\nInjected: yes")
			return r
		}, func(t *testing.T, got *http.Request, _ string) {
			if got.Method != "GET" || got.RequestURI != "/a%20b?x=1&y=2" || got.Host != "app.demo" {
				t.Errorf("request line/host %s %s %s", got.Method, got.RequestURI, got.Host)
			}
			if _, ok := got.Header["User-Agent"]; ok {
				t.Errorf("User-Agent sent: %q", got.Header.Get("User-Agent"))
			}
			if v := got.Header["X-Multi"]; len(v) != 2 || v[0] != "one" || v[1] != "two" {
				t.Errorf("X-Multi = %q", v)
			}
			if got.Header.Get("Injected") != "" || got.Header.Get("X-Bad") != "line  Injected: yes" {
				t.Errorf("a line break in a value split the field: %q", got.Header)
			}
		}, "GET /a%20b?x=1&y=2 HTTP/1.1\r\nHost: app.demo\r\n"},
		{"POST with a body", func() *http.Request {
			r, _ := http.NewRequest(http.MethodPost, "http://endpoint.invalid/upload", strings.NewReader("hello"))
			r.Header.Set("User-Agent", "client/1")
			return r
		}, func(t *testing.T, got *http.Request, body string) {
			if got.ContentLength != 5 || body != "hello" || got.UserAgent() != "client/1" {
				t.Errorf("length %d body %q agent %q", got.ContentLength, body, got.UserAgent())
			}
		}, "Content-Length: 5\r\n"},
		{"POST without a body says so", func() *http.Request {
			r, _ := http.NewRequest(http.MethodPost, "http://endpoint.invalid/", nil)
			r.Close = true
			return r
		}, func(t *testing.T, got *http.Request, body string) {
			if got.ContentLength != 0 || !got.Close {
				t.Errorf("length %d close %v", got.ContentLength, got.Close)
			}
		}, "Content-Length: 0\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var wire bytes.Buffer
			if err := writeRequest(bufio.NewWriter(&wire), tc.req()); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(wire.String(), tc.rawWant) {
				t.Errorf("wire form lacks %q:\n%s", tc.rawWant, wire.String())
			}
			got, err := http.ReadRequest(bufio.NewReader(&wire))
			if err != nil {
				t.Fatalf("server cannot parse it: %v\n%s", err, wire.String())
			}
			body, _ := io.ReadAll(got.Body)
			tc.check(t, got, string(body))
		})
	}
}
