package main

import (
	"fmt"
	"time"
)

// The goals of the proxy issue, as ratios within one run.
const (
	latencyVsNginx     = 1.0 // one Sluice proxy adds no more than nginx
	mtlsLatencyVsNginx = 2.0 // the mTLS pair adds no more than twice nginx
	maxRPSVsNginx      = 0.9 // maximum RPS on one core, at least 90% of nginx's
	rssIdleLimit       = 20_000_000
	rssLoadLimit       = 40_000_000
)

// verdict of one goal.
type verdict string

const (
	pass verdict = "PASS"
	fail verdict = "FAIL"
	skip verdict = "SKIP" // a row it needs was not measured
)

type goalResult struct {
	verdict verdict
	text    string
}

// evaluateGoals judges the goals on the rows of one run.
func evaluateGoals(results []targetResult) []goalResult {
	rows := map[string]*targetResult{}
	for i := range results {
		if results[i].err == nil {
			rows[results[i].name] = &results[i]
		}
	}
	sluice, mtls, nginx := rows[targetSluice], rows[targetMTLS], rows[targetNginx]
	var goals []goalResult
	p50 := func(r *targetResult) time.Duration { return r.added50 }
	p99 := func(r *targetResult) time.Duration { return r.added99 }

	for _, c := range []struct {
		row    *targetResult
		name   string
		factor float64
	}{{sluice, targetSluice, latencyVsNginx}, {mtls, targetMTLS, mtlsLatencyVsNginx}} {
		for _, q := range []struct {
			label string
			get   func(*targetResult) time.Duration
		}{{"p50", p50}, {"p99", p99}} {
			goal := fmt.Sprintf("%s added %s <= %s x nginx's", c.name, q.label, factorText(c.factor))
			if c.row == nil || nginx == nil {
				goals = append(goals, goalResult{skip, goal + ": not measured"})
				continue
			}
			mine, ref := q.get(c.row), q.get(nginx)
			limit := time.Duration(float64(ref) * c.factor)
			goals = append(goals, goalResult{judge(mine <= limit),
				fmt.Sprintf("%s: %s ms vs limit %s ms", goal, millis(mine), millis(limit))})
		}
	}

	goal := fmt.Sprintf("%s max RPS >= %.0f%% of nginx's", targetSluice, maxRPSVsNginx*100)
	if sluice == nil || nginx == nil {
		goals = append(goals, goalResult{skip, goal + ": not measured"})
	} else {
		limit := nginx.maxRPS * maxRPSVsNginx
		goals = append(goals, goalResult{judge(sluice.maxRPS >= limit),
			fmt.Sprintf("%s: %.0f vs limit %.0f", goal, sluice.maxRPS, limit)})
	}

	for _, c := range []struct {
		row  *targetResult
		name string
	}{{sluice, targetSluice}, {mtls, targetMTLS + " (each proxy)"}} {
		for _, m := range []struct {
			label string
			get   func(*targetResult) int64
			limit int64
		}{
			{"RSS idle", func(r *targetResult) int64 { return r.rssIdle }, rssIdleLimit},
			{"RSS under load", func(r *targetResult) int64 { return r.rssLoad }, rssLoadLimit},
		} {
			goal := fmt.Sprintf("%s %s < %s MB", c.name, m.label, megabytes(m.limit))
			if c.row == nil {
				goals = append(goals, goalResult{skip, goal + ": not measured"})
				continue
			}
			v := m.get(c.row)
			goals = append(goals, goalResult{judge(v < m.limit), fmt.Sprintf("%s: %s MB", goal, megabytes(v))})
		}
	}
	return goals
}

func judge(ok bool) verdict {
	if ok {
		return pass
	}
	return fail
}

func factorText(f float64) string { return fmt.Sprintf("%g", f) }

// millis prints a duration in milliseconds with microsecond precision.
func millis(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()*1000) }

// megabytes prints bytes in MB (10^6), as the goals are stated.
func megabytes(b int64) string { return fmt.Sprintf("%.1f", float64(b)/1e6) }
