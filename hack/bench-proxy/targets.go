package main

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// The targets, in the order of the table.
const (
	targetDirect = "direct"
	targetSluice = "sluice"
	// targetBaseline is another build of cmd/proxy (--baseline-proxy-bin),
	// run in the same rounds so a change is measured against the build
	// before it on the same machine at the same moment.
	targetBaseline = "sluice-baseline"
	targetMTLS     = "sluice-mtls"
	targetNaive    = "naive-go"
	targetNginx    = "nginx"
	targetHAProxy  = "haproxy"
)

var allTargets = []string{targetDirect, targetSluice, targetBaseline, targetMTLS, targetNaive, targetNginx, targetHAProxy}

// describeTarget is the legend under the table.
var describeTarget = map[string]string{
	targetDirect:   "the backend itself, no proxy (latency columns: absolute, not added; every proxy row subtracts a direct run made just before it)",
	targetSluice:   "one Sluice proxy, outbound listener in explicit mode (Host: app)",
	targetBaseline: "the same as sluice, with the build given by --baseline-proxy-bin",
	targetMTLS:     "Sluice client proxy -> HTTP/2 over mTLS -> Sluice server proxy (STRICT); CPU summed, RSS of the larger",
	targetNaive:    "net/http/httputil.ReverseProxy with a keep-alive pool, nothing else",
	targetNginx:    "nginx, one worker, upstream keepalive pool",
	targetHAProxy:  "HAProxy, one thread, http-reuse always",
}

// benchEnv is what starting a target needs.
type benchEnv struct {
	o        *options
	procs    *processes
	dir      string // configs and logs
	backend  string // host:port of the 1 KB backend
	proxyBin string // built cmd/proxy
	self     string // this binary, for the naive mode
}

// running is a started target: where the load goes and which processes are
// the proxy (measured from /proc; none for direct).
type running struct {
	url     string
	host    string
	proxies []*process
}

type startFunc func(ctx context.Context, env *benchEnv) (*running, error)

var startTarget = map[string]startFunc{
	targetDirect: func(_ context.Context, env *benchEnv) (*running, error) {
		return &running{url: "http://" + env.backend + "/", host: sluiceService}, nil
	},
	targetSluice:   startOneSluice(targetSluice, func(env *benchEnv) string { return env.proxyBin }),
	targetBaseline: startOneSluice(targetBaseline, func(env *benchEnv) string { return env.o.baselineBin }),
	targetMTLS:     startMTLSPair,
	targetNaive:    startNaive,
	targetNginx:    startNginx,
	targetHAProxy:  startHAProxy,
}

// startOneSluice starts one proxy, of the build bin picks, in explicit mode
// in front of the backend.
func startOneSluice(label string, bin func(*benchEnv) string) startFunc {
	return func(ctx context.Context, env *benchEnv) (*running, error) {
		p, err := startSluiceBinary(ctx, env, bin(env), label, sluiceOutboundConfig(env.backend, ""))
		if err != nil {
			return nil, err
		}
		return serving(ctx, "http://"+p.outbound+"/", p.proc)
	}
}

func startMTLSPair(ctx context.Context, env *benchEnv) (*running, error) {
	certs, err := meshCertificates(env.dir, serverIdentity, clientIdentity)
	if err != nil {
		return nil, err
	}
	server, err := startSluice(ctx, env, "sluice-server", sluiceInboundConfig(env.backend), tlsFlags(certs[serverIdentity])...)
	if err != nil {
		return nil, err
	}
	client, err := startSluice(ctx, env, "sluice-client", sluiceOutboundConfig(server.inbound, serverIdentity), tlsFlags(certs[clientIdentity])...)
	if err != nil {
		return nil, err
	}
	return serving(ctx, "http://"+client.outbound+"/", client.proc, server.proc)
}

func startNaive(ctx context.Context, env *benchEnv) (*running, error) {
	listen, err := freeAddr()
	if err != nil {
		return nil, err
	}
	p, err := env.procs.start("naive-go", env.o.proxyCPU, []string{"GOMAXPROCS=1"}, env.self,
		"naive", "--listen", listen, "--upstream", env.backend)
	if err != nil {
		return nil, err
	}
	return serving(ctx, "http://"+listen+"/", p)
}

// serving waits until the target answers through url and returns it.
func serving(ctx context.Context, url string, proxies ...*process) (*running, error) {
	if err := waitServing(ctx, url, sluiceService, proxies...); err != nil {
		return nil, err
	}
	return &running{url: url, host: sluiceService, proxies: proxies}, nil
}

// status is the status code of a GET, 0 when it fails.
func status(ctx context.Context, url string) int {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// startBackend runs the 1 KB backend next to the load generator.
func startBackend(ctx context.Context, env *benchEnv) error {
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	p, err := env.procs.start("backend", env.o.loadCPU, []string{"GOMAXPROCS=1"}, env.self, "backend", "--listen", addr)
	if err != nil {
		return err
	}
	env.backend = addr
	if err := waitServing(ctx, "http://"+addr+"/", sluiceService, p); err != nil {
		return fmt.Errorf("backend: %w", err)
	}
	return nil
}
