package prometheus

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Sample is one historical value of one series, for Options.Backfill.
type Sample struct {
	// Metric is the series name, e.g. sluice_requests_total.
	Metric string
	// Labels of the series; job and instance are not added.
	Labels map[string]string
	// Value at Time.
	Value float64
	// Time of the sample; millisecond precision is kept.
	Time time.Time
}

// backfill writes the samples as OpenMetrics and turns them into TSDB blocks
// in dataDir with `promtool tsdb create-blocks-from openmetrics`, which is how
// Prometheus documents importing history; Prometheus loads the blocks on start.
func backfill(promtool, workDir, dataDir string, samples []Sample) error {
	input := filepath.Join(workDir, "backfill.om")
	if err := os.WriteFile(input, []byte(renderOpenMetrics(samples)), 0o600); err != nil {
		return fmt.Errorf("write OpenMetrics input: %w", err)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	out, err := exec.Command(promtool, "tsdb", "create-blocks-from", "openmetrics", input, dataDir).CombinedOutput()
	if err != nil {
		return fmt.Errorf("promtool tsdb create-blocks-from openmetrics: %w\n%s", err, out)
	}
	return nil
}

// renderOpenMetrics renders samples in the OpenMetrics text format. The format
// wants the lines of one metric together and each series in time order, so
// samples are sorted by name, labels and time rather than kept as given.
func renderOpenMetrics(samples []Sample) string {
	type line struct {
		name, series string
		millis       int64
		text         string
	}
	lines := make([]line, 0, len(samples))
	for _, s := range samples {
		series := s.Metric + formatLabels(s.Labels)
		millis := s.Time.UnixMilli()
		lines = append(lines, line{
			name:   s.Metric,
			series: series,
			millis: millis,
			// OpenMetrics timestamps are seconds.
			text: fmt.Sprintf("%s %s %s", series, formatValue(s.Value), strconv.FormatFloat(float64(millis)/1000, 'f', 3, 64)),
		})
	}
	sort.SliceStable(lines, func(i, j int) bool {
		if lines[i].name != lines[j].name {
			return lines[i].name < lines[j].name
		}
		if lines[i].series != lines[j].series {
			return lines[i].series < lines[j].series
		}
		return lines[i].millis < lines[j].millis
	})
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l.text)
		b.WriteByte('\n')
	}
	b.WriteString("# EOF\n")
	return b.String()
}

var labelValueEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

func formatLabels(labels map[string]string) string {
	if len(labels) == 0 {
		return ""
	}
	names := make([]string, 0, len(labels))
	for name := range labels {
		names = append(names, name)
	}
	sort.Strings(names)
	pairs := make([]string, 0, len(names))
	for _, name := range names {
		pairs = append(pairs, fmt.Sprintf(`%s="%s"`, name, labelValueEscaper.Replace(labels[name])))
	}
	return "{" + strings.Join(pairs, ",") + "}"
}

func formatValue(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
