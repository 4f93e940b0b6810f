package main

import (
	"slices"
	"time"
)

// medianOfRounds folds one target's rounds into one row: each number is the
// median of the rounds that measured it, so a burst of noise from the other
// tenants of a shared machine moves one round, not the row. Errors (non-200
// answers) add up. A target fails only when every round failed.
func medianOfRounds(rounds []targetResult) targetResult {
	var ok []targetResult
	for _, r := range rounds {
		if r.err == nil {
			ok = append(ok, r)
		}
	}
	if len(ok) == 0 {
		return rounds[len(rounds)-1]
	}
	out := ok[0]
	out.errors = 0
	for _, r := range ok {
		out.errors += r.errors
	}
	durations := func(get func(targetResult) time.Duration) time.Duration {
		vs := make([]time.Duration, len(ok))
		for i, r := range ok {
			vs[i] = get(r)
		}
		return median(vs)
	}
	out.p50 = durations(func(r targetResult) time.Duration { return r.p50 })
	out.p90 = durations(func(r targetResult) time.Duration { return r.p90 })
	out.p99 = durations(func(r targetResult) time.Duration { return r.p99 })
	out.added50 = durations(func(r targetResult) time.Duration { return r.added50 })
	out.added90 = durations(func(r targetResult) time.Duration { return r.added90 })
	out.added99 = durations(func(r targetResult) time.Duration { return r.added99 })
	out.cpuPer1k = durations(func(r targetResult) time.Duration { return r.cpuPer1k })
	out.maxRPS = medianOf(ok, func(r targetResult) float64 { return r.maxRPS })
	out.rssIdle = int64(medianOf(ok, func(r targetResult) float64 { return float64(r.rssIdle) }))
	out.rssLoad = int64(medianOf(ok, func(r targetResult) float64 { return float64(r.rssLoad) }))
	out.upstreamConns = int(medianOf(ok, func(r targetResult) float64 { return float64(r.upstreamConns) }))
	return out
}

func medianOf(rows []targetResult, get func(targetResult) float64) float64 {
	vs := make([]float64, len(rows))
	for i, r := range rows {
		vs[i] = get(r)
	}
	return median(vs)
}

// median of an odd count is the middle value; of an even count, the mean of
// the two middle ones.
func median[T int64 | float64 | time.Duration](vs []T) T {
	s := slices.Clone(vs)
	slices.Sort(s)
	mid := len(s) / 2
	if len(s)%2 == 1 {
		return s[mid]
	}
	return (s[mid-1] + s[mid]) / 2
}
