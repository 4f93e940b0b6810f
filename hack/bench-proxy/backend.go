package main

import (
	"bytes"
	"flag"
	"net/http"
	"strconv"
	"time"
)

// responseSize is the body every backend answer carries: the 1 KB.
const responseSize = 1024

// runBackend serves a fixed 1 KB body on every path until killed.
func runBackend(args []string) error {
	fs := flag.NewFlagSet("backend", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:0", "Address to serve on.")
	if err := fs.Parse(args); err != nil {
		return err
	}
	body := bytes.Repeat([]byte("s"), responseSize)
	length := strconv.Itoa(len(body))
	srv := &http.Server{
		Addr: *listen,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			w.Header().Set("Content-Length", length)
			_, _ = w.Write(body)
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	return srv.ListenAndServe()
}
