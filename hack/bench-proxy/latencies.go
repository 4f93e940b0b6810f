package main

import (
	"math"
	"slices"
	"time"
)

// maxLatencySamples bounds the memory of one connection's samples (8 bytes
// each): beyond it requests are still counted by fortio but not kept.
const maxLatencySamples = 1 << 20

// latencies keeps each request's duration for exact percentiles. fortio's
// own histogram has fixed buckets that are 100% wide between 1 and 2 ms at
// microsecond resolution: too coarse to compare proxies that differ by a
// tenth of a millisecond.
type latencies struct {
	samples []time.Duration
	sorted  bool
}

func newLatencies(expected int) *latencies {
	return &latencies{samples: make([]time.Duration, 0, min(max(expected*11/10, 16), maxLatencySamples))}
}

func (l *latencies) record(d time.Duration) {
	if len(l.samples) < maxLatencySamples {
		l.samples = append(l.samples, d)
		l.sorted = false
	}
}

func (l *latencies) merge(other *latencies) {
	l.samples = append(l.samples, other.samples...)
	l.sorted = false
}

// percentile is the nearest-rank percentile p (0 < p <= 100): the smallest
// sample that at least p% of the samples do not exceed.
func (l *latencies) percentile(p float64) time.Duration {
	if len(l.samples) == 0 {
		return 0
	}
	if !l.sorted {
		slices.Sort(l.samples)
		l.sorted = true
	}
	rank := int(math.Ceil(p / 100 * float64(len(l.samples))))
	return l.samples[min(max(rank, 1), len(l.samples))-1]
}
