package main

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// waitAllPhase polls the Canaries' phases (through the API server, not the
// manager) until every one of the n is in phase, or timeout passes.
func waitAllPhase(ctx context.Context, c *cluster, n int, phase string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	last := ""
	for {
		out, err := c.run(ctx, nil, "-n", benchNamespace, "get", "canaries", "-o", `jsonpath={range .items[*]}{.status.phase}{"\n"}{end}`)
		if err == nil {
			count := countPhases(out)
			summary := fmt.Sprint(count)
			if summary != last {
				logf("canary phases: %s", summary)
				last = summary
			}
			if count[phase] == n {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %d Canaries in phase %s: %w (last: %s)", n, phase, ctx.Err(), last)
		case <-time.After(time.Second):
		}
	}
}

// countPhases counts one phase a line (kubectl's jsonpath output); a Canary
// without a phase yet counts as "-".
func countPhases(lines string) map[string]int {
	count := map[string]int{}
	if strings.TrimSpace(lines) == "" && !strings.Contains(lines, "\n") {
		return count // no Canaries listed at all
	}
	for _, l := range strings.Split(strings.TrimRight(lines, "\n"), "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			l = "-"
		}
		count[l]++
	}
	return count
}

// waitClusterSettled waits until the cluster's own controllers are done with
// the bootstrap: every Deployment has as many pods as it asks for (the
// targets scaled to zero have none left). The idle window starts then, so
// that it measures an idle manager, not one still hearing the
// controller-manager catch up.
func waitClusterSettled(ctx context.Context, c *cluster, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		out, err := c.run(ctx, nil, "-n", benchNamespace, "get", "deployments", "-o",
			`jsonpath={range .items[*]}{.spec.replicas} {.status.replicas}{"\n"}{end}`)
		if err == nil && unsettled(out) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for the cluster to settle: %w (%d Deployments still scaling)", ctx.Err(), unsettled(out))
		case <-time.After(time.Second):
		}
	}
}

// unsettled counts the lines "<spec.replicas> <status.replicas>" whose two
// numbers differ (an absent status.replicas is 0).
func unsettled(lines string) int {
	n := 0
	for _, l := range strings.Split(strings.TrimSpace(lines), "\n") {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		status := "0"
		if len(f) > 1 {
			status = f[1]
		}
		if f[0] != status {
			n++
		}
	}
	return n
}
