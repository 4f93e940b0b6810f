package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
)

// nginxConfig makes nginx a reverse proxy on listen for upstream with one
// worker, a keep-alive pool of upstreamIdleConns connections, and no access
// log (none of the other proxies writes one). dir holds its pid and temp
// files.
func nginxConfig(dir, listen, upstream string) string {
	return fmt.Sprintf(`# Written by hack/bench-proxy.
daemon off;
master_process on;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/nginx-error.log warn;
events {
    worker_connections 4096;
}
http {
    access_log off;
    client_body_temp_path %[1]s/nginx-body;
    proxy_temp_path %[1]s/nginx-proxy;
    fastcgi_temp_path %[1]s/nginx-fastcgi;
    uwsgi_temp_path %[1]s/nginx-uwsgi;
    scgi_temp_path %[1]s/nginx-scgi;
    keepalive_requests 1000000;
    upstream backend {
        server %[3]s;
        keepalive %[4]d;
        keepalive_requests 1000000;
    }
    server {
        listen %[2]s;
        location / {
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
`, dir, listen, upstream, upstreamIdleConns)
}

// startNginx runs nginx in the foreground (master and its one worker in the
// process group) pinned to the proxy CPU.
func startNginx(ctx context.Context, env *benchEnv) (*running, error) {
	listen, err := freeAddr()
	if err != nil {
		return nil, err
	}
	conf := filepath.Join(env.dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(nginxConfig(env.dir, listen, env.backend)), 0o644); err != nil {
		return nil, err
	}
	// -e: the error log before the config is read, so nothing is written
	// under /var/log.
	p, err := env.procs.start("nginx", env.o.proxyCPU, nil, env.o.nginxBin,
		"-p", env.dir, "-c", conf, "-e", filepath.Join(env.dir, "nginx-error.log"))
	if err != nil {
		return nil, err
	}
	return serving(ctx, "http://"+listen+"/", p)
}
