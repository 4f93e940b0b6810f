package prometheus

import (
	"fmt"
	"strconv"
	"strings"
)

// jobName is the job label of every scraped series.
const jobName = "test"

// renderConfig writes the prometheus.yml of a test: one job scraping the
// test's loopback targets. Evaluation runs at the scrape interval so recording
// rules, should a test add some later, keep pace.
func renderConfig(opts Options) string {
	interval := fmt.Sprintf("%dms", opts.ScrapeInterval.Milliseconds())
	var b strings.Builder
	fmt.Fprintf(&b, "global:\n  scrape_interval: %s\n  scrape_timeout: %s\n  evaluation_interval: %s\n", interval, interval, interval)
	if len(opts.ScrapeTargets) == 0 {
		return b.String()
	}
	fmt.Fprintf(&b, "scrape_configs:\n  - job_name: %s\n    static_configs:\n      - targets:\n", jobName)
	for _, target := range opts.ScrapeTargets {
		fmt.Fprintf(&b, "          - %s\n", strconv.Quote(target))
	}
	return b.String()
}
