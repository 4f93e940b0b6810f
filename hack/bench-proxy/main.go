// Command bench-proxy measures Sluice's proxy side by side with the backend
// reached directly, a naive net/http/httputil.ReverseProxy, nginx and
// HAProxy, in one run on loopback, and prints one table with the goals of the
// proxy issue judged as ratios within that run (`make bench-proxy`).
//
// Per target and round: start it, read idle RSS, warm up (fills keep-alive
// pools), measure latency at a fixed rate (exact percentiles; "added" is
// minus direct's), then run closed-loop for the maximum RPS while reading the
// proxies' CPU time (utime+stime) and peak RSS (VmHWM) from /proc. Proxies
// run on one CPU, the load generator and the backend on the other. Every
// phase is bounded in time; every started process is killed at the end, on
// error and on SIGINT. `--quick` makes a short single round; `--targets`
// picks rows; `-h` lists the rest.
//
// The same binary also plays two helper processes, so each can be pinned to
// its own CPU and measured from /proc on its own:
//
//	bench-proxy backend --listen ADDR           the 1 KB backend
//	bench-proxy naive --listen ADDR --upstream ADDR   the naive Go proxy
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	var err error
	switch mode(os.Args) {
	case "backend":
		err = runBackend(os.Args[2:])
	case "naive":
		err = runNaiveProxy(os.Args[2:])
	default:
		var o *options
		if o, err = parseOptions(os.Args[1:]); err == nil {
			// SIGINT and SIGTERM cancel the run; the deferred cleanup in
			// runBench then kills every process it started.
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			err = runBench(ctx, o, os.Stdout)
			stop()
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-proxy:", err)
		os.Exit(1)
	}
}

func mode(args []string) string {
	if len(args) > 1 {
		return args[1]
	}
	return ""
}
