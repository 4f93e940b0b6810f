package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// window is what the manager used over one measured stretch of time.
type window struct {
	wall     time.Duration
	cpu      time.Duration
	rss      int64 // VmRSS at the end of the window
	peakRSS  int64 // VmHWM at the end of the window
	counters managerMetrics
}

func (w window) cores() float64 { return w.cpu.Seconds() / w.wall.Seconds() }

func (w window) reconcilesPerSecond() float64 { return w.counters.total / w.wall.Seconds() }

// result is one bench run.
type result struct {
	n                int
	toInitialized    time.Duration // Canaries created -> all Initialized
	toSucceeded      time.Duration // images changed -> all Succeeded
	idle, progressed window
	timedOut         bool // not all Succeeded within --timeout
	// controllerManagerQPS is the cluster's setting (0: the default, 20).
	controllerManagerQPS int
	// clusterThrottled is how long the controller-manager's requests waited
	// in its client rate limiter while the rollouts ran, summed over its
	// concurrent workers; -1 when it could not be read.
	clusterThrottled time.Duration
}

// run does the whole bench; the cluster and the manager are removed on every
// return, including cancellation by a signal.
func run(ctx context.Context, opts options) (res result, err error) {
	root, err := repoRoot()
	if err != nil {
		return res, err
	}
	c, err := newCluster(root, opts.controllerManagerQPS)
	if err != nil {
		return res, err
	}
	if c.exists() {
		return res, fmt.Errorf("cluster %s already exists (another bench?); remove it with: SLUICE_CLUSTER_NAME=%s KWOK_WORKDIR=%s hack/local-cluster.sh down",
			clusterName, clusterName, c.workdir)
	}
	logf("starting kwok cluster %s", clusterName)
	defer func() {
		logf("deleting the cluster")
		if derr := c.down(); derr != nil {
			err = errors.Join(err, derr)
		}
	}()
	if err := c.up(ctx); err != nil {
		return res, err
	}
	if err := c.installCRDs(ctx); err != nil {
		return res, err
	}
	logf("building and starting the manager")
	m, err := startManager(ctx, root, filepath.Dir(c.workdir), c.kubeconfig)
	if m != nil {
		defer func() { logf("stopping the manager"); m.stop() }()
	}
	if err != nil {
		return res, err
	}
	return measure(ctx, c, m, opts)
}

// measure creates the workload and times the two phases of the shape.
func measure(ctx context.Context, c *cluster, m *manager, opts options) (result, error) {
	res := result{n: opts.n, controllerManagerQPS: opts.controllerManagerQPS, clusterThrottled: -1}
	logf("creating %d Deployments and Canaries", opts.n)
	start := time.Now()
	if err := createWorkload(ctx, c, opts.n); err != nil {
		return res, err
	}
	if err := waitAllPhase(ctx, c, opts.n, "Initialized", opts.timeout); err != nil {
		return res, err
	}
	res.toInitialized = time.Since(start)

	logf("all Initialized in %s; waiting for the cluster to settle", res.toInitialized.Round(time.Second))
	if err := waitClusterSettled(ctx, c, opts.timeout); err != nil {
		return res, err
	}
	logf("settled; measuring idle for %s", opts.idle)
	idleStart, err := snapshot(m)
	if err != nil {
		return res, err
	}
	select {
	case <-ctx.Done():
		return res, ctx.Err()
	case <-time.After(opts.idle):
	}
	idleEnd, err := snapshot(m)
	if err != nil {
		return res, err
	}
	res.idle = between(idleStart, idleEnd)

	throttleStart, throttleErr := c.controllerManagerThrottle()
	logf("changing every image")
	if err := changeImages(ctx, c, opts.n); err != nil {
		return res, err
	}
	logf("every image changed in %s", time.Since(idleEnd.proc.at).Round(100*time.Millisecond))
	if opts.profile != "" {
		go func() {
			if err := m.cpuProfile(ctx, time.Minute, opts.profile); err != nil {
				logf("CPU profile not written: %v", err)
				return
			}
			logf("CPU profile of the first minute written to %s", opts.profile)
		}()
	}
	// On timeout the window is still measured, so the table shows how far
	// the run got (main prints it beside the error).
	waitErr := waitAllPhase(ctx, c, opts.n, "Succeeded", opts.timeout)
	if ctx.Err() != nil {
		return res, waitErr
	}
	progressEnd, err := snapshot(m)
	if err != nil {
		return res, errors.Join(waitErr, err)
	}
	res.progressed = between(idleEnd, progressEnd)
	if throttleEnd, err := c.controllerManagerThrottle(); err == nil && throttleErr == nil {
		res.clusterThrottled = throttleEnd - throttleStart
	} else {
		logf("controller-manager throttling not measured: %v", errors.Join(throttleErr, err))
	}
	res.toSucceeded = res.progressed.wall
	res.timedOut = waitErr != nil
	return res, waitErr
}

// snapshot is the manager's process and reconcile counters at one instant.
type snapshotPoint struct {
	proc processSample
	rec  managerMetrics
}

func snapshot(m *manager) (snapshotPoint, error) {
	proc, err := sampleProcess(m.pid())
	if err != nil {
		return snapshotPoint{}, err
	}
	rec, err := scrapeManagerMetrics(m.metricsAddr)
	return snapshotPoint{proc: proc, rec: rec}, err
}

func between(a, b snapshotPoint) window {
	return window{
		wall:     b.proc.at.Sub(a.proc.at),
		cpu:      b.proc.cpu - a.proc.cpu,
		rss:      b.proc.mem.RSS,
		peakRSS:  b.proc.mem.Peak,
		counters: b.rec.since(a.rec),
	}
}

func repoRoot() (string, error) {
	out, err := output(exec.Command("git", "rev-parse", "--show-toplevel"))
	if err != nil {
		wd, werr := os.Getwd()
		return wd, werr
	}
	return strings.TrimSpace(out), nil
}
