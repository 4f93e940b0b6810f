package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// The names the Sluice configs use. The load addresses the outbound port
// with `Host: app`: explicit mode, no interception needed.
const (
	sluiceService   = "app"
	sluiceNamespace = "bench"
	serverIdentity  = "spiffe://cluster.local/ns/bench/sa/app"
	clientIdentity  = "spiffe://cluster.local/ns/bench/sa/client"
)

// sluiceOutboundConfig routes the Service `app` to endpoint. An empty
// identity means a plaintext, unmeshed endpoint (the backend itself); a
// SPIFFE identity makes the client speak HTTP/2 over mTLS to a server proxy
// and check its certificate.
func sluiceOutboundConfig(endpoint, identity string) string {
	return fmt.Sprintf(`outbound:
  namespace: %[1]s
  services: [{name: %[2]s, namespace: %[1]s, port: 80}]
backends:
  - name: %[2]s
    namespace: %[1]s
    endpoints: [{address: %[3]q, identity: %[4]q, protocol: http1}]
`, sluiceNamespace, sluiceService, endpoint, identity)
}

// sluiceInboundConfig is the server side of the pair: STRICT mTLS in front
// of the backend.
func sluiceInboundConfig(target string) string {
	return fmt.Sprintf(`inbound: {target: %q, service: %s, protocol: http1, mtls: STRICT}
`, target, sluiceService)
}

// sluiceProxy is one started cmd/proxy.
type sluiceProxy struct {
	proc                     *process
	inbound, outbound, admin string
}

// startSluice writes configYAML and runs the proxy binary on free loopback
// ports, pinned to the proxy CPU with GOMAXPROCS=1, and waits until ready.
func startSluice(ctx context.Context, env *benchEnv, label, configYAML string, tlsArgs ...string) (*sluiceProxy, error) {
	return startSluiceBinary(ctx, env, env.proxyBin, label, configYAML, tlsArgs...)
}

// startSluiceBinary is startSluice with a given build of cmd/proxy.
func startSluiceBinary(ctx context.Context, env *benchEnv, bin, label, configYAML string, tlsArgs ...string) (*sluiceProxy, error) {
	cfg := filepath.Join(env.dir, label+".yaml")
	if err := os.WriteFile(cfg, []byte(configYAML), 0o600); err != nil {
		return nil, err
	}
	s := &sluiceProxy{}
	for _, addr := range []*string{&s.inbound, &s.outbound, &s.admin} {
		var err error
		if *addr, err = freeAddr(); err != nil {
			return nil, err
		}
	}
	args := append([]string{
		"--config", cfg, "--log-level", "warn",
		"--inbound-addr", s.inbound, "--outbound-addr", s.outbound, "--admin-addr", s.admin,
	}, tlsArgs...)
	procEnv := []string{"GOMAXPROCS=1", "SLUICE_NAMESPACE=" + sluiceNamespace, "SLUICE_POD=" + label + "-0",
		"SLUICE_WORKLOAD=" + label, "SLUICE_SERVICE_ACCOUNT=" + label}
	var err error
	if s.proc, err = env.procs.start(label, env.o.proxyCPU, procEnv, bin, args...); err != nil {
		return nil, err
	}
	if err := waitReady(ctx, "http://"+s.admin+"/ready", s.proc); err != nil {
		return nil, err
	}
	return s, nil
}

// waitReady polls a readiness URL until it answers 200.
func waitReady(ctx context.Context, url string, p *process) error {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if gone, err := p.exited(); gone {
			return fmt.Errorf("%s exited before ready (%v); see its log", p.name, err)
		}
		if status(ctx, url) == 200 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s not ready within 15s", p.name)
}
