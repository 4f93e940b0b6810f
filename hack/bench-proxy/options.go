package main

import (
	"flag"
	"fmt"
	"slices"
	"strings"
	"time"
)

// upstreamIdleConns is the keep-alive pool every proxy keeps to the backend:
// above the 64 connections of the max-RPS load, as the issue asks.
const upstreamIdleConns = 128

// options are the flags of a benchmark run.
type options struct {
	targets        []string
	latencyRPS     float64
	latencyConns   int
	latencyFor     time.Duration
	maxConns       int
	maxFor         time.Duration
	warmFor        time.Duration
	rounds         int
	proxyCPU       int
	loadCPU        int
	proxyBin       string
	baselineBin    string
	nginxBin       string
	haproxyBin     string
	keepDir        bool
	perTargetLimit time.Duration
}

func parseOptions(args []string) (*options, error) {
	fs := flag.NewFlagSet("bench-proxy", flag.ContinueOnError)
	o := &options{}
	targets := fs.String("targets", strings.Join(slices.DeleteFunc(slices.Clone(allTargets), func(t string) bool { return t == targetBaseline }), ","),
		"Comma-separated targets to run, among "+strings.Join(allTargets, ", ")+". "+
			"direct always runs: added latency is measured against it.")
	quick := fs.Bool("quick", false, "A short run (one round, 2s per phase) to check that everything works; its numbers are noisy.")
	fs.Float64Var(&o.latencyRPS, "latency-rps", 1000, "Request rate of the latency phase.")
	fs.IntVar(&o.latencyConns, "latency-connections", 16, "Connections of the latency phase.")
	fs.DurationVar(&o.latencyFor, "latency-duration", 10*time.Second, "Length of the latency phase, per target.")
	fs.IntVar(&o.maxConns, "max-connections", 64, "Connections of the maximum-RPS phase.")
	fs.DurationVar(&o.maxFor, "max-duration", 10*time.Second, "Length of the maximum-RPS phase, per target.")
	fs.IntVar(&o.rounds, "rounds", 3, "Rounds over all targets; each number is the median of the rounds.")
	fs.DurationVar(&o.warmFor, "warmup", time.Second, "Unmeasured load before the phases, filling connection pools.")
	fs.IntVar(&o.proxyCPU, "proxy-cpu", 0, "CPU the proxies are pinned to (taskset); -1 disables pinning.")
	fs.IntVar(&o.loadCPU, "load-cpu", 1, "CPU the load generator and the backend are pinned to.")
	fs.StringVar(&o.proxyBin, "proxy-bin", "", "A built cmd/proxy; empty builds it with `go build ./cmd/proxy`.")
	fs.StringVar(&o.baselineBin, "baseline-proxy-bin", "", "Another build of cmd/proxy (say, of the commit before a change) to run as the "+
		"target "+targetBaseline+" in the same rounds as sluice; setting it adds that target.")
	fs.StringVar(&o.nginxBin, "nginx", "nginx", "nginx binary (Debian package nginx-light or nginx).")
	fs.StringVar(&o.haproxyBin, "haproxy", "haproxy", "HAProxy binary (Debian package haproxy).")
	fs.BoolVar(&o.keepDir, "keep-dir", false, "Keep the temporary directory with configs and process logs.")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %v", fs.Args())
	}
	if *quick {
		o.rounds, o.latencyFor, o.maxFor, o.warmFor = 1, 2*time.Second, 2*time.Second, 500*time.Millisecond
	}
	if o.proxyCPU < 0 {
		o.loadCPU = -1
	}
	var err error
	if o.targets, err = parseTargets(*targets); err != nil {
		return nil, err
	}
	hasBaseline := slices.Contains(o.targets, targetBaseline)
	switch {
	case o.baselineBin != "" && !hasBaseline:
		o.targets, _ = parseTargets(strings.Join(append(o.targets, targetBaseline), ","))
	case o.baselineBin == "" && hasBaseline:
		return nil, fmt.Errorf("target %s needs --baseline-proxy-bin", targetBaseline)
	}
	if o.latencyRPS <= 0 || o.latencyConns <= 0 || o.maxConns <= 0 {
		return nil, fmt.Errorf("--latency-rps, --latency-connections and --max-connections must be positive")
	}
	if o.rounds < 1 || o.rounds > 9 {
		return nil, fmt.Errorf("--rounds must be within 1..9, got %d", o.rounds)
	}
	for _, d := range []time.Duration{o.latencyFor, o.maxFor} {
		if d <= 0 || d > 5*time.Minute {
			return nil, fmt.Errorf("phase durations must be within (0, 5m], got %s", d)
		}
	}
	// Everything a target does is bounded by this: start, phases, stop.
	o.perTargetLimit = o.warmFor + o.latencyFor + o.maxFor + 60*time.Second
	return o, nil
}

// parseTargets keeps the order of allTargets and always includes direct.
func parseTargets(list string) ([]string, error) {
	want := map[string]bool{targetDirect: true}
	for name := range strings.SplitSeq(list, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if !slices.Contains(allTargets, name) {
			return nil, fmt.Errorf("unknown target %q, want some of %s", name, strings.Join(allTargets, ", "))
		}
		want[name] = true
	}
	var out []string
	for _, name := range allTargets {
		if want[name] {
			out = append(out, name)
		}
	}
	return out, nil
}
