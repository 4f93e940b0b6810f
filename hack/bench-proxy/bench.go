package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// targetResult is one row of the table.
type targetResult struct {
	name string
	err  error // the target could not be measured; the row says why

	// Latency phase: absolute percentiles.
	p50, p90, p99 time.Duration
	// What the proxy adds: its percentiles minus those of the backend
	// reached directly, measured right before it in the same round, so
	// both see the same state of a shared machine.
	added50, added90, added99 time.Duration
	// Errors over both phases: any answer but 200.
	errors int64
	// Maximum-RPS phase.
	maxRPS   float64
	cpuPer1k time.Duration // CPU of all the target's proxy processes per 1,000 requests
	// Resident memory of the largest proxy instance (a process tree).
	rssIdle, rssLoad int64
	// Established connections to the backend once the load has closed
	// its own: the keep-alive pool the proxy kept.
	upstreamConns int
	hasProxy      bool
}

// runBench measures every target in turn and prints the table to out.
func runBench(ctx context.Context, o *options, out io.Writer) error {
	dir, err := os.MkdirTemp("", "bench-proxy-")
	if err != nil {
		return err
	}
	if o.keepDir {
		fmt.Fprintln(os.Stderr, "Keeping configs and logs in", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	procs := &processes{dir: dir}
	defer procs.stopAll()

	self, err := os.Executable()
	if err != nil {
		return err
	}
	env := &benchEnv{o: o, procs: procs, dir: dir, self: self}
	// Build first, on both CPUs; only then pin the load generator.
	if env.proxyBin, err = proxyBinary(ctx, o, dir); err != nil {
		return err
	}
	if err := pinSelf(o.loadCPU); err != nil {
		return err
	}
	loadBefore := loadAverage()
	if err := startBackend(ctx, env); err != nil {
		return err
	}
	// Rounds go over every target in turn, so slow drifts of the machine's
	// load touch all targets alike.
	rounds := map[string][]targetResult{}
	for round := 1; round <= o.rounds; round++ {
		for _, name := range o.targets {
			progress("round %d/%d: %s", round, o.rounds, name)
			r := measureTarget(ctx, env, name)
			if ctx.Err() != nil {
				return fmt.Errorf("interrupted during %s: %w", name, ctx.Err())
			}
			if r.err != nil {
				progress("%s: %v", name, r.err)
			}
			rounds[name] = append(rounds[name], r)
		}
	}
	var results []targetResult
	for _, name := range o.targets {
		results = append(results, medianOfRounds(rounds[name]))
	}
	return printReport(out, o, results, [2]string{loadBefore, loadAverage()})
}

// measureTarget starts one target, runs the phases against it, reads its
// processes from /proc, and stops it, all within o.perTargetLimit.
func measureTarget(ctx context.Context, env *benchEnv, name string) targetResult {
	res := targetResult{name: name}
	ctx, cancel := context.WithTimeout(ctx, env.o.perTargetLimit)
	defer cancel()
	mark := env.procs.mark()
	defer env.procs.stopFrom(mark)

	if bin := externalBinary(env.o, name); bin != "" {
		if _, err := exec.LookPath(bin); err != nil {
			res.err = fmt.Errorf("%s not installed (apt-get install -y %s)", bin, debianPackage[name])
			return res
		}
	}
	r, err := startTarget[name](ctx, env)
	if err != nil {
		res.err = err
		return res
	}
	res.hasProxy = len(r.proxies) > 0
	// Idle: started, served the readiness request, settled.
	time.Sleep(500 * time.Millisecond)
	idle, err := proxyUsage(r.proxies)
	if err != nil {
		res.err = err
		return res
	}
	res.rssIdle = idle.largestRSS

	phase := func(spec loadSpec) *loadResult {
		if err != nil {
			return nil
		}
		if spec.url == "" {
			spec.url, spec.host = r.url, r.host
		}
		var lr *loadResult
		if lr, err = runLoad(ctx, spec); err == nil {
			res.errors += lr.errors
		}
		return lr
	}
	phase(loadSpec{connections: env.o.maxConns, duration: env.o.warmFor})
	latency := loadSpec{connections: env.o.latencyConns, rps: env.o.latencyRPS, duration: env.o.latencyFor, recordLatency: true}
	var direct *loadResult
	if res.hasProxy {
		paired := latency
		paired.url, paired.host = "http://"+env.backend+"/", sluiceService
		direct = phase(paired)
	}
	lat := phase(latency)
	before, usageErr := proxyUsage(r.proxies)
	if usageErr != nil {
		res.err = usageErr
		return res
	}
	peak := phase(loadSpec{connections: env.o.maxConns, duration: env.o.maxFor})
	if err != nil {
		res.err = err
		return res
	}
	after, err := proxyUsage(r.proxies)
	if err != nil {
		res.err = err
		return res
	}
	res.p50, res.p90, res.p99 = lat.latency.percentile(50), lat.latency.percentile(90), lat.latency.percentile(99)
	if direct != nil {
		res.added50 = res.p50 - direct.latency.percentile(50)
		res.added90 = res.p90 - direct.latency.percentile(90)
		res.added99 = res.p99 - direct.latency.percentile(99)
	}
	res.maxRPS = peak.actualRPS
	if peak.requests > 0 {
		res.cpuPer1k = (after.cpu - before.cpu) * 1000 / time.Duration(peak.requests)
	}
	res.rssLoad = after.largestPeak
	if res.hasProxy {
		if res.upstreamConns, err = upstreamConnections(env.backend); err != nil {
			res.err = err
		}
	}
	return res
}

// proxyTotals is /proc read over all processes of a target.
type proxyTotals struct {
	cpu         time.Duration
	largestRSS  int64 // VmRSS of the largest proxy instance
	largestPeak int64 // VmHWM of the largest proxy instance
}

func proxyUsage(proxies []*process) (proxyTotals, error) {
	var t proxyTotals
	for _, p := range proxies {
		u, err := treeUsage(p.pid())
		if err != nil {
			return t, fmt.Errorf("read /proc of %s: %w", p.name, err)
		}
		t.cpu += u.cpu
		t.largestRSS = max(t.largestRSS, u.mem.RSS)
		t.largestPeak = max(t.largestPeak, u.mem.Peak)
	}
	return t, nil
}

// debianPackage installs the binary of an external target.
var debianPackage = map[string]string{targetNginx: "nginx-light", targetHAProxy: "haproxy"}

func externalBinary(o *options, name string) string {
	switch name {
	case targetNginx:
		return o.nginxBin
	case targetHAProxy:
		return o.haproxyBin
	}
	return ""
}

// pinSelf moves every thread of this process (load generator) to cpu, and
// gives the Go runtime one P to match. Threads created later inherit it.
func pinSelf(cpu int) error {
	if cpu < 0 {
		return nil
	}
	out, err := exec.Command("taskset", "-a", "-p", "-c", strconv.Itoa(cpu), strconv.Itoa(os.Getpid())).CombinedOutput()
	if err != nil {
		return fmt.Errorf("taskset CPU %d: %v: %s", cpu, err, out)
	}
	runtime.GOMAXPROCS(1)
	return nil
}

// proxyBinary is --proxy-bin, or cmd/proxy built into dir.
func proxyBinary(ctx context.Context, o *options, dir string) (string, error) {
	if o.proxyBin != "" {
		return o.proxyBin, nil
	}
	needed := false
	for _, t := range o.targets {
		needed = needed || strings.HasPrefix(t, targetSluice)
	}
	if !needed {
		return "", nil
	}
	bin := filepath.Join(dir, "sluice-proxy")
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	progress("building ./cmd/proxy")
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/proxy").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build ./cmd/proxy (run from the repository root): %v\n%s", err, out)
	}
	return bin, nil
}

func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench-proxy: "+format+"\n", args...)
}
