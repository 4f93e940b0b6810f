package listener

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestOutbound_DropsHopByHopHeaders(t *testing.T) {
	seen := make(chan http.Header, 1)
	backend := startBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- r.Header.Clone()
		w.Header().Set("Connection", "X-Backend-Private")
		w.Header().Set("X-Backend-Private", "leak")
		w.Header().Set("Keep-Alive", "timeout=5")
	}))
	p := startProxy(t, oneService("", backend))
	resp, _ := get(t, client(), p.outbound, "app", "/", http.Header{
		"Connection":       {"X-Client-Private"},
		"X-Client-Private": {"leak"},
		"Proxy-Connection": {"keep-alive"},
		"X-End-To-End":     {"kept"},
	})
	h := <-seen
	for _, name := range []string{"X-Client-Private", "Proxy-Connection", "Connection"} {
		if v := h.Get(name); v != "" {
			t.Errorf("backend got hop-by-hop header %s: %q", name, v)
		}
	}
	if h.Get("X-End-To-End") != "kept" {
		t.Error("an end-to-end header was dropped")
	}
	if v := resp.Header.Get("X-Backend-Private"); v != "" {
		t.Errorf("client got the backend's connection-scoped header: %q", v)
	}
}

func TestOutbound_HonoursExpect100Continue(t *testing.T) {
	backend := startBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "got %s", body)
	}))
	p := startProxy(t, oneService("", backend))
	conn, err := net.Dial("tcp", p.outbound)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprint(conn, "PUT /big HTTP/1.1\r\nHost: app\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
	br := bufio.NewReader(conn)
	// The client sends the body only after the interim response.
	status, err := br.ReadString('\n')
	if err != nil || !strings.HasPrefix(status, "HTTP/1.1 100") {
		t.Fatalf("first line %q (%v), want 100 Continue before the body", status, err)
	}
	if blank, _ := br.ReadString('\n'); blank != "\r\n" {
		t.Fatalf("100 Continue not followed by a blank line: %q", blank)
	}
	fmt.Fprint(conn, "hello")
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(body) != "got hello" {
		t.Errorf("final response %d %q, want 200 got hello", resp.StatusCode, body)
	}
}
