package listener

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"strings"
	"testing"
	"time"
)

// TestOutbound_RelaysEarlyHintsBeforeTheResponse, towards an HTTP/1.1
// endpoint (http1Client passes 1xx answers on through the exchange) and an
// h2c one (the Transport reports them through a client trace).
func TestOutbound_RelaysEarlyHintsBeforeTheResponse(t *testing.T) {
	for _, protocol := range []string{"http1", "h2"} {
		t.Run(protocol, func(t *testing.T) {
			backend := startBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Link", "</app.css>; rel=preload")
				w.WriteHeader(http.StatusEarlyHints)
				w.Header().Set("Content-Type", "text/html")
				_, _ = io.WriteString(w, "page "+r.Proto)
			}))
			cfg := strings.Replace(oneService("", backend), `{address: "`+backend+`"}`,
				`{address: "`+backend+`", protocol: `+protocol+`}`, 1)
			p := startProxy(t, cfg)
			var hints []string
			ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
				Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
					hints = append(hints, fmt.Sprintf("%d %s", code, h.Get("Link")))
					return nil
				},
			})
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.outbound+"/", nil)
			req.Host = "app"
			resp, err := client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			wantProto := map[string]string{"http1": "HTTP/1.1", "h2": "HTTP/2.0"}[protocol]
			if resp.StatusCode != 200 || string(body) != "page "+wantProto {
				t.Errorf("final response %d %q, want 200 %q", resp.StatusCode, body, "page "+wantProto)
			}
			if len(hints) != 1 || hints[0] != "103 </app.css>; rel=preload" {
				t.Errorf("informational responses seen: %q", hints)
			}
		})
	}
}

// TestOutbound_StreamsServerSentEventsAsTheyCome: each event reaches the
// client while the backend still holds the response open.
func TestOutbound_StreamsServerSentEventsAsTheyCome(t *testing.T) {
	next := make(chan struct{})
	backend := startBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Content-Length", "100") // a sized stream still flushes
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		for i := range 2 {
			select {
			case <-next:
			case <-r.Context().Done():
				return
			}
			fmt.Fprintf(w, "data: %d\n\n", i)
			w.(http.Flusher).Flush()
		}
	}))
	p := startProxy(t, oneService("", backend))
	req, _ := http.NewRequest(http.MethodGet, "http://"+p.outbound+"/events", nil)
	req.Host = "app"
	c := client()
	c.Timeout = 0
	resp, err := c.Do(req) // the headers come before any event
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := bufio.NewReader(resp.Body)
	for i := range 2 {
		next <- struct{}{}
		got := make(chan string, 1)
		go func() {
			line, _ := lines.ReadString('\n')
			_, _ = lines.ReadString('\n')
			got <- line
		}()
		select {
		case line := <-got:
			if want := fmt.Sprintf("data: %d\n", i); line != want {
				t.Fatalf("event %d = %q, want %q", i, line, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("event %d did not arrive while the stream was open", i)
		}
	}
}
