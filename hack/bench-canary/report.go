package main

import (
	"fmt"
	"io"
	"math"
	"text/tabwriter"
	"time"
)

// Flagger's figures from the CANARY issue, measured the same way on this
// machine: 300 Canaries of the same shape.
const (
	flaggerIdleCores        = 0.09
	flaggerIdleMB           = 95.0
	flaggerProgressingCores = 0.14
	flaggerPeakMB           = 98.0
	flaggerN                = 300
)

var flaggerWall = 330 * time.Second // "about 5.5 minutes" for the 300 rollouts

func mb(bytes int64) float64 { return float64(bytes) / (1 << 20) }

func verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

// printReport writes the one table: Sluice's figure, Flagger's, the goal and
// PASS/FAIL. Flagger's figures are for N=300, so goals on them are only
// judged at that N.
func printReport(w io.Writer, r result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	comparable := r.n == flaggerN
	judge := func(ok bool) string {
		if !comparable {
			return fmt.Sprintf("n/a (N=%d)", r.n)
		}
		return verdict(ok)
	}
	p99 := func(win window) string {
		v := quantile(0.99, win.counters.buckets)
		if math.IsNaN(v) {
			return "-"
		}
		return fmt.Sprintf("%.1f ms", v*1000)
	}
	_, _ = fmt.Fprintln(tw, "measure\tSluice\tFlagger (N=300)\tgoal\tresult")
	_, _ = fmt.Fprintf(tw, "N\t%d\t%d\t\t\n", r.n, flaggerN)
	cmQPS := "20 (default)"
	if r.controllerManagerQPS > 0 {
		cmQPS = fmt.Sprintf("%d, burst %d", r.controllerManagerQPS, 2*r.controllerManagerQPS)
	}
	_, _ = fmt.Fprintf(tw, "cluster: kube-controller-manager --kube-api-qps\t%s\t?\t\t\n", cmQPS)
	_, _ = fmt.Fprintf(tw, "wall: created -> all Initialized\t%s\t-\t\t\n", r.toInitialized.Round(100*time.Millisecond))
	succeeded := r.toSucceeded.Round(100 * time.Millisecond).String()
	if r.timedOut {
		succeeded = "> " + succeeded + " (timed out)"
	}
	_, _ = fmt.Fprintf(tw, "wall: images changed -> all Succeeded\t%s\t~%s\t<= %s\t%s\n",
		succeeded, flaggerWall, flaggerWall/2, judge(!r.timedOut && r.toSucceeded <= flaggerWall/2))
	_, _ = fmt.Fprintf(tw, "CPU idle (s over %s)\t%.2f s = %.3f cores\t%.2f cores\t<= %.3f cores\t%s\n",
		r.idle.wall.Round(time.Second), r.idle.cpu.Seconds(), r.idle.cores(), flaggerIdleCores, flaggerIdleCores/2,
		judge(r.idle.cores() <= flaggerIdleCores/2))
	_, _ = fmt.Fprintf(tw, "CPU progressing (s over %s)\t%.2f s = %.3f cores\t%.2f cores\t<= %.3f cores\t%s\n",
		r.progressed.wall.Round(time.Second), r.progressed.cpu.Seconds(), r.progressed.cores(), flaggerProgressingCores,
		flaggerProgressingCores/2, judge(r.progressed.cores() <= flaggerProgressingCores/2))
	// Cores over a shorter run look worse for the same work: the CPU
	// seconds of all N rollouts compare the work itself.
	flaggerCPU := flaggerProgressingCores * flaggerWall.Seconds()
	_, _ = fmt.Fprintf(tw, "CPU seconds for all N rollouts\t%.1f s\t~%.0f s (%.2f cores x %s)\t<= %.0f s\t%s\n",
		r.progressed.cpu.Seconds(), flaggerCPU, flaggerProgressingCores, flaggerWall, flaggerCPU/2,
		judge(!r.timedOut && r.progressed.cpu.Seconds() <= flaggerCPU/2))
	_, _ = fmt.Fprintf(tw, "RSS idle (VmRSS)\t%.1f MB\t%.0f MB\t<= %.0f MB\t%s\n",
		mb(r.idle.rss), flaggerIdleMB, flaggerIdleMB, judge(mb(r.idle.rss) <= flaggerIdleMB))
	_, _ = fmt.Fprintf(tw, "peak RSS (VmHWM, whole run)\t%.1f MB\t%.0f MB\t<= %.0f MB\t%s\n",
		mb(r.progressed.peakRSS), flaggerPeakMB, flaggerPeakMB, judge(mb(r.progressed.peakRSS) <= flaggerPeakMB))
	_, _ = fmt.Fprintf(tw, "reconciles/s idle | progressing\t%.2f | %.2f\t-\t\t\n",
		r.idle.reconcilesPerSecond(), r.progressed.reconcilesPerSecond())
	_, _ = fmt.Fprintf(tw, "p99 reconcile latency idle | progressing\t%s | %s\t-\t\t\n", p99(r.idle), p99(r.progressed))
	if r.clusterThrottled >= 0 {
		_, _ = fmt.Fprintf(tw, "controller-manager requests' wait in its rate limiter while progressing (summed)\t%s\t-\t\t\n",
			r.clusterThrottled.Round(time.Second))
	}
	_, _ = fmt.Fprintf(tw, "Prometheus queries per analysis step\t%s\t-\t\t\n", queriesPerCheck(r.progressed.counters))
	_ = tw.Flush()
}

// queriesPerCheck is the Prometheus load of the analysis while progressing,
// from the manager's own counters.
func queriesPerCheck(m managerMetrics) string {
	if m.checks == 0 {
		return fmt.Sprintf("%.0f queries, no analysis check", m.queries)
	}
	return fmt.Sprintf("%.2f (%.0f queries over %.0f checks)", m.queries/m.checks, m.queries, m.checks)
}
