package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// printReport writes the one table, its legend and the goals.
func printReport(w io.Writer, o *options, results []targetResult, load [2]string) error {
	pinning := fmt.Sprintf("proxies on CPU %d (GOMAXPROCS=1, 1 nginx worker, 1 HAProxy thread), load generator and backend on CPU %d",
		o.proxyCPU, o.loadCPU)
	if o.proxyCPU < 0 {
		pinning = "no CPU pinning"
	}
	fmt.Fprintf(w, "Proxy benchmark: %d B responses on 127.0.0.1; %s.\n", responseSize, pinning)
	fmt.Fprintf(w, "Latency: %g RPS, %d connections, %s. Max RPS: %d connections, %s, closed loop. Median of %d round(s).\n",
		o.latencyRPS, o.latencyConns, o.latencyFor, o.maxConns, o.maxFor, o.rounds)
	fmt.Fprintf(w, "Load average %s (start), %s (end): a shared machine; compare rows within this run only.\n\n", load[0], load[1])
	if err := writeTable(w, results); err != nil {
		return err
	}
	fmt.Fprintln(w)
	width := 0
	for _, r := range results {
		width = max(width, len(r.name))
	}
	for _, r := range results {
		fmt.Fprintf(w, "  %-*s  %s\n", width, r.name, describeTarget[r.name])
	}
	fmt.Fprintln(w, "\nGoals (ratios within this run):")
	for _, g := range evaluateGoals(results) {
		fmt.Fprintf(w, "  %s  %s\n", g.verdict, g.text)
	}
	return nil
}

// writeTable aligns the rows; latency is added versus direct (paired, see
// targetResult), in ms.
func writeTable(w io.Writer, results []targetResult) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, strings.Join([]string{"target", "+p50 ms", "+p90 ms", "+p99 ms", "max RPS", "core busy %", "CPU s/1k req",
		"RSS idle MB", "RSS load MB", "kept upstream conns", "errors", ""}, "\t"))
	var failed []string
	for _, r := range results {
		if r.err != nil {
			failed = append(failed, fmt.Sprintf("%s: not measured: %s", r.name, oneLine(r.err.Error())))
			continue
		}
		cells := []string{r.name}
		if r.hasProxy {
			cells = append(cells, millis(r.added50), millis(r.added90), millis(r.added99))
		} else {
			cells = append(cells, "["+millis(r.p50)+"]", "["+millis(r.p90)+"]", "["+millis(r.p99)+"]")
		}
		cells = append(cells, fmt.Sprintf("%.0f", r.maxRPS))
		if r.hasProxy {
			// CPU seconds per request times requests per second: how busy
			// the proxies kept their core at maximum RPS (near 100: the
			// proxy is the limit; well below: the load generator is).
			busy := r.cpuPer1k.Seconds() * r.maxRPS / 1000 * 100
			cells = append(cells, fmt.Sprintf("%.0f", busy), fmt.Sprintf("%.4f", r.cpuPer1k.Seconds()),
				megabytes(r.rssIdle), megabytes(r.rssLoad), fmt.Sprint(r.upstreamConns))
		} else {
			cells = append(cells, "-", "-", "-", "-", "-")
		}
		cells = append(cells, fmt.Sprint(r.errors), "")
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, f := range failed {
		fmt.Fprintln(w, f)
	}
	return nil
}

func oneLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
