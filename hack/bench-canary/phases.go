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
