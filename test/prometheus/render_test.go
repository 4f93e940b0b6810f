package prometheus

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestRenderOpenMetrics_GroupsSeriesInTimeOrderAndEscapesLabels(t *testing.T) {
	t0 := time.Unix(1700000000, 250*int64(time.Millisecond))
	got := renderOpenMetrics([]Sample{
		{Metric: "b_total", Value: 2, Time: t0.Add(time.Second)},
		{Metric: "a", Labels: map[string]string{"path": `C:\x "y"`}, Value: math.Inf(1), Time: t0},
		{Metric: "b_total", Value: 1, Time: t0},
	})
	want := strings.Join([]string{
		`a{path="C:\\x \"y\""} +Inf 1700000000.250`,
		`b_total 1 1700000000.250`,
		`b_total 2 1700000001.250`,
		`# EOF`,
		``,
	}, "\n")
	if got != want {
		t.Errorf("renderOpenMetrics:\n got: %q\nwant: %q", got, want)
	}
}

func TestRequireLoopback(t *testing.T) {
	for target, wantOK := range map[string]bool{
		"127.0.0.1:9090":   true,
		"[::1]:9090":       true,
		"127.3.4.5:80":     true,
		"localhost:9090":   false, // a name could resolve anywhere
		"198.18.0.5:14191": false, // a pod IP
		"10.0.0.1:9090":    false,
		"127.0.0.1":        false, // no port
	} {
		err := requireLoopback(target)
		if (err == nil) != wantOK {
			t.Errorf("requireLoopback(%q) = %v, want ok=%v", target, err, wantOK)
		}
	}
}

func TestRenderConfig_ScrapesEveryTargetAtTheInterval(t *testing.T) {
	got := renderConfig(Options{ScrapeTargets: []string{"127.0.0.1:1", "127.0.0.1:2"}, ScrapeInterval: 500 * time.Millisecond})
	for _, want := range []string{"scrape_interval: 500ms", "job_name: test", `- "127.0.0.1:1"`, `- "127.0.0.1:2"`} {
		if !strings.Contains(got, want) {
			t.Errorf("config lacks %q:\n%s", want, got)
		}
	}
}
