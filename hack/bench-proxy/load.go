package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"fortio.org/fortio/fhttp"
	"fortio.org/fortio/periodic"
	"fortio.org/log"
)

func init() {
	// fortio logs every connection's end at info: noise around the table.
	log.SetLogLevelQuiet(log.Warning)
}

// loadSpec is one fortio run against a target.
type loadSpec struct {
	url         string
	host        string
	connections int
	rps         float64 // <= 0: as fast as the target answers (closed loop)
	duration    time.Duration
	// recordLatency keeps every request's duration (bounded, see
	// newLatencies) for exact percentiles.
	recordLatency bool
}

// loadResult is what a run measured.
type loadResult struct {
	requests  int64
	errors    int64 // anything but 200, transport errors included
	actualRPS float64
	latency   *latencies // nil unless recordLatency
}

// fetcher is one fortio connection and its own counters, so threads never
// share state while the run lasts.
type fetcher struct {
	client fhttp.Fetcher
	errors int64
	lat    *latencies
}

// Run is called by fortio's periodic runner for each request.
func (f *fetcher) Run(ctx context.Context, _ periodic.ThreadID) (bool, string) {
	start := time.Now()
	code, _, _ := f.client.StreamFetch(ctx)
	if f.lat != nil {
		f.lat.record(time.Since(start))
	}
	if code != 200 {
		f.errors++
		return false, ""
	}
	return true, ""
}

// runLoad drives spec with fortio's periodic runner and fast HTTP/1.1
// client (one keep-alive connection per thread). The run is bounded by
// spec.duration, and cut short when ctx ends.
func runLoad(ctx context.Context, spec loadSpec) (*loadResult, error) {
	opts := periodic.RunnerOptions{
		RunType:     "bench-proxy",
		QPS:         spec.rps,
		Duration:    spec.duration,
		NumThreads:  spec.connections,
		Percentiles: []float64{50},
		Out:         io.Discard,
		// Spread the connections' requests evenly instead of in bursts.
		Uniform: spec.rps > 0,
		// Our own aborter: without one, fortio catches SIGINT itself and
		// resets its handling after each run, dropping the bench's own
		// handler (which must stop the processes it started).
		Stop: periodic.NewAborter(),
	}
	if spec.rps <= 0 {
		opts.QPS = -1
	}
	runner := periodic.NewPeriodicRunner(&opts)
	aborter := runner.Options().Stop
	fetchers := make([]*fetcher, spec.connections)
	defer func() {
		for _, f := range fetchers {
			if f != nil && f.client != nil {
				f.client.Close()
			}
		}
	}()
	expected := int(spec.rps*spec.duration.Seconds()) / spec.connections
	for i := range fetchers {
		httpOpts := &fhttp.HTTPOptions{URL: spec.url, ID: i}
		httpOpts.Init(spec.url)
		if err := httpOpts.AddAndValidateExtraHeader("Host: " + spec.host); err != nil {
			aborter.Abort(false)
			return nil, err
		}
		client, err := fhttp.NewClient(httpOpts)
		if err != nil {
			aborter.Abort(false)
			return nil, fmt.Errorf("fortio client: %w", err)
		}
		f := &fetcher{client: client}
		if spec.recordLatency {
			f.lat = newLatencies(expected)
		}
		fetchers[i] = f
		runner.Options().Runners[i] = f
	}
	stop := context.AfterFunc(ctx, func() { aborter.Abort(false) })
	defer stop()
	res := runner.Run()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	out := &loadResult{requests: res.DurationHistogram.Count, actualRPS: res.ActualQPS}
	if spec.recordLatency {
		out.latency = newLatencies(0)
	}
	for _, f := range fetchers {
		out.errors += f.errors
		if f.lat != nil {
			out.latency.merge(f.lat)
		}
	}
	return out, nil
}
