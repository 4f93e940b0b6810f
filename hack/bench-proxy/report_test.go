package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

const ms = time.Millisecond

// row is a measured target; p50 and p99 are absolute for direct, added for
// the proxies.
func row(name string, p50, p99 time.Duration, rps float64, idle, load int64) targetResult {
	r := targetResult{name: name, maxRPS: rps, rssIdle: idle, rssLoad: load, hasProxy: name != targetDirect}
	if r.hasProxy {
		r.added50, r.added90, r.added99 = p50, p99, p99
	} else {
		r.p50, r.p90, r.p99 = p50, p99, p99
	}
	return r
}

func verdicts(goals []goalResult) map[string]verdict {
	out := map[string]verdict{}
	for _, g := range goals {
		key, _, _ := strings.Cut(g.text, ":")
		out[key] = g.verdict
	}
	return out
}

func TestEvaluateGoals_JudgesEachGoalAgainstNginxOrItsLimit(t *testing.T) {
	results := []targetResult{
		row(targetDirect, 1*ms, 2*ms, 30000, 0, 0),
		// Adds 0.5 ms at p50 (nginx adds 0.8) but 1.5 ms at p99 (nginx 1.3).
		row(targetSluice, 500*time.Microsecond, 1500*time.Microsecond, 20000, 15e6, 45e6),
		// Adds 1.6 ms at p50 = 2 x nginx: allowed; 2.7 ms at p99 > 2.6: not.
		row(targetMTLS, 1600*time.Microsecond, 2700*time.Microsecond, 10000, 21e6, 30e6),
		row(targetNginx, 800*time.Microsecond, 1300*time.Microsecond, 22500, 5e6, 6e6),
	}
	got := verdicts(evaluateGoals(results))
	want := map[string]verdict{
		"sluice added p50 <= 1 x nginx's":                   pass,
		"sluice added p99 <= 1 x nginx's":                   fail,
		"sluice-mtls added p50 <= 2 x nginx's":              pass,
		"sluice-mtls added p99 <= 2 x nginx's":              fail,
		"sluice max RPS >= 90% of nginx's":                  fail, // 20000 < 20250
		"sluice RSS idle < 20.0 MB":                         pass,
		"sluice RSS under load < 40.0 MB":                   fail,
		"sluice-mtls (each proxy) RSS idle < 20.0 MB":       fail,
		"sluice-mtls (each proxy) RSS under load < 40.0 MB": pass,
	}
	for goal, v := range want {
		if got[goal] != v {
			t.Errorf("%s: %s, want %s", goal, got[goal], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d goals, want %d: %v", len(got), len(want), got)
	}
}

func TestEvaluateGoals_SkipsWhatWasNotMeasured(t *testing.T) {
	failed := row(targetNginx, 0, 0, 0, 0, 0)
	failed.err = errNotInstalled
	results := []targetResult{row(targetDirect, ms, ms, 1, 0, 0), row(targetSluice, 2*ms, 2*ms, 1, 1, 1), failed}
	for goal, v := range verdicts(evaluateGoals(results)) {
		needsNginx := strings.Contains(goal, "nginx") || strings.HasPrefix(goal, targetMTLS)
		if needsNginx && v != skip {
			t.Errorf("%s: %s without an nginx or mTLS row, want SKIP", goal, v)
		}
		if !needsNginx && v == skip {
			t.Errorf("%s: skipped though its row was measured", goal)
		}
	}
}

var errNotInstalled = errorString("nginx not installed")

type errorString string

func (e errorString) Error() string { return string(e) }

func TestWriteTable_ShowsAbsoluteDirectAddedProxyLatencyAndWhyARowIsMissing(t *testing.T) {
	failed := targetResult{name: targetHAProxy, err: errorString("haproxy not installed\nsecond line")}
	var buf bytes.Buffer
	err := writeTable(&buf, []targetResult{
		row(targetDirect, 200*time.Microsecond, 900*time.Microsecond, 25000, 0, 0),
		row(targetNginx, 300*time.Microsecond, 1100*time.Microsecond, 22000, 13_000_000, 14_000_000),
		failed,
	})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("want header, 3 rows; got:\n%s", buf.String())
	}
	if f := strings.Fields(lines[1]); f[1] != "[0.200]" || f[3] != "[0.900]" || f[5] != "-" || f[9] != "-" {
		t.Errorf("direct row %q: want absolute latency in brackets and no proxy columns", lines[1])
	}
	if f := strings.Fields(lines[2]); f[1] != "0.300" || f[3] != "1.100" || f[4] != "22000" || f[7] != "13.0" {
		t.Errorf("nginx row %q: want +0.300 and +1.100 ms over direct, 22000 RPS, 13.0 MB idle", lines[2])
	}
	if lines[3] != "haproxy: not measured: haproxy not installed" {
		t.Errorf("failed row %q", lines[3])
	}
}
