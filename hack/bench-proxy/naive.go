package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"time"
)

// runNaiveProxy is the naive Go baseline: a plain httputil.ReverseProxy with
// nothing but a keep-alive pool as large as the other proxies', so the row
// shows what the standard library alone costs and is no strawman.
func runNaiveProxy(args []string) error {
	fs := flag.NewFlagSet("naive", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:0", "Address to serve on.")
	upstream := fs.String("upstream", "", "host:port of the backend.")
	idle := fs.Int("idle-conns", upstreamIdleConns, "Idle keep-alive connections kept to the backend.")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *upstream == "" {
		return fmt.Errorf("naive: --upstream is required")
	}
	target := &url.URL{Scheme: "http", Host: *upstream}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(target) },
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        *idle,
			MaxIdleConnsPerHost: *idle,
			IdleConnTimeout:     90 * time.Second,
		},
	}
	srv := &http.Server{Addr: *listen, Handler: proxy, ReadHeaderTimeout: 10 * time.Second}
	return srv.ListenAndServe()
}
