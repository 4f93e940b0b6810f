package listener

import (
	"bytes"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/sluicemesh/sluice/proxy/tls/tlstest"
)

// The two benchmarks share client, backend and response (1 KiB); the
// difference between them is what the outbound proxy adds, in time and in
// allocations (all three run in this process, so allocs/op counts all of
// them).

func benchBackend(b *testing.B) string {
	body := bytes.Repeat([]byte("x"), 1024)
	return startBackend(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(body)
	}))
}

func benchGET(b *testing.B, addr, host string) {
	c := client()
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/", nil)
	req.Host = host
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := c.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			drain(resp)
			if resp.StatusCode != 200 {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
}

func BenchmarkDirect(b *testing.B) {
	benchGET(b, benchBackend(b), "app")
}

func BenchmarkThroughOutbound(b *testing.B) {
	p := startProxy(b, oneService("", benchBackend(b)))
	benchGET(b, p.outbound, "app")
}

// BenchmarkThroughNaiveReverseProxy is the plain Go baseline: an
// httputil.ReverseProxy to one address with a 64-connection idle pool.
func BenchmarkThroughNaiveReverseProxy(b *testing.B) {
	target, _ := url.Parse("http://" + benchBackend(b))
	rp := &httputil.ReverseProxy{
		Rewrite:   func(pr *httputil.ProxyRequest) { pr.SetURL(target) },
		Transport: &http.Transport{MaxIdleConnsPerHost: 64},
	}
	benchGET(b, startBackend(b, rp), "app")
}

// BenchmarkThroughMTLSPair is a client proxy and a server proxy with HTTP/2
// over mTLS between them, as meshed workloads talk.
func BenchmarkThroughMTLSPair(b *testing.B) {
	m := &mesh{ca: tlstest.NewCA(b, "mesh"), dir: b.TempDir()}
	clientSrc, _ := m.source(b, "client", clientID, nil)
	serverSrc, _ := m.source(b, "server", appID, nil)
	server := startProxy(b, "inbound: {target: \""+benchBackend(b)+"\", service: app, mtls: STRICT}\n", withIdentity(serverSrc))
	cfg := strings.Replace(oneService("", server.inbound), "{address: \""+server.inbound+"\"}",
		"{address: \""+server.inbound+"\", identity: \""+appID+"\"}", 1)
	client := startProxy(b, cfg, withIdentity(clientSrc))
	benchGET(b, client.outbound, "app")
}
