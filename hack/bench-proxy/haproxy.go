package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
)

// haproxyConfig makes HAProxy a reverse proxy on listen for upstream with
// one thread and a kept pool of upstreamIdleConns idle connections (reused
// across requests: http-reuse always; not purged between the phases).
func haproxyConfig(listen, upstream string) string {
	return fmt.Sprintf(`# Written by hack/bench-proxy.
global
    nbthread 1
    # Far above the 64 connections of the load, within a 20k open-files limit.
    maxconn 4096

defaults
    mode http
    option http-keep-alive
    http-reuse always
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    timeout http-keep-alive 60s

frontend bench
    bind %[1]s
    default_backend app

backend app
    server app1 %[2]s pool-max-conn %[3]d pool-purge-delay 60s
`, listen, upstream, upstreamIdleConns)
}

// startHAProxy runs HAProxy in the foreground (-db) pinned to the proxy CPU.
func startHAProxy(ctx context.Context, env *benchEnv) (*running, error) {
	listen, err := freeAddr()
	if err != nil {
		return nil, err
	}
	conf := filepath.Join(env.dir, "haproxy.cfg")
	if err := os.WriteFile(conf, []byte(haproxyConfig(listen, env.backend)), 0o644); err != nil {
		return nil, err
	}
	p, err := env.procs.start("haproxy", env.o.proxyCPU, nil, env.o.haproxyBin, "-db", "-f", conf)
	if err != nil {
		return nil, err
	}
	return serving(ctx, "http://"+listen+"/", p)
}
