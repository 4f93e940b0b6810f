// Command bench-canary measures the Sluice manager delivering N Canaries on a
// local kwok cluster, in the shape of the CANARY issue's Flagger comparison:
// N Deployments of 1 replica, provider kubernetes (blue/green), interval 10s,
// threshold 2, iterations 2, no metrics; all Initialized, then every image
// changed at once. It prints one table beside Flagger's reference figures.
//
// The manager runs as its own process (go build ./cmd/manager) with
// --leader-elect=false and --enable-webhooks=false: admission webhooks only
// default and validate, and the objects created here are already complete, so
// leaving them off keeps certificates and URL registration out of the bench.
//
// Usage: go run ./hack/bench-canary [--n 300] [--timeout 20m] [--idle 30s]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	var opts options
	flag.IntVar(&opts.n, "n", 300, "number of Deployments and Canaries")
	flag.DurationVar(&opts.timeout, "timeout", 20*time.Minute, "bound on each wait (all Initialized, all Succeeded)")
	flag.DurationVar(&opts.idle, "idle", 30*time.Second, "how long the idle window is measured")
	flag.IntVar(&opts.controllerManagerQPS, "controller-manager-qps", 0,
		"the cluster's kube-controller-manager --kube-api-qps (burst twice that); 0: Kubernetes' default, 20")
	flag.StringVar(&opts.profile, "cpu-profile", "", "write the manager's CPU profile of the first minute of the rollouts to this file")
	flag.Parse()
	if opts.controllerManagerQPS < 0 {
		fmt.Fprintln(os.Stderr, "--controller-manager-qps must not be negative")
		os.Exit(2)
	}
	if opts.n < 1 {
		fmt.Fprintln(os.Stderr, "--n must be at least 1")
		os.Exit(2)
	}

	// SIGINT/SIGTERM cancel the context; run's deferred teardown then stops the
	// manager and deletes the cluster before the process exits.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := run(ctx, opts)
	if res.progressed.wall > 0 {
		printReport(os.Stdout, res)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-canary:", err)
		os.Exit(1)
	}
}
