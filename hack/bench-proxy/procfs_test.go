package main

import (
	"os"
	"testing"
	"time"
)

func TestParseStat_CountsFieldsFromTheLastParenthesis(t *testing.T) {
	// A command name with spaces and a ')' must not shift the fields.
	line := "4242 (we ird) name) S 17 4242 4242 0 -1 4194560 100 0 0 0 250 75 3 4 20 0 1 0 100 1000 200\n"
	st, err := parseStat(line)
	if err != nil {
		t.Fatal(err)
	}
	if st.ppid != 17 {
		t.Errorf("ppid = %d, want 17", st.ppid)
	}
	// utime 250 + stime 75 ticks at 100 Hz; children's 3 and 4 not counted.
	if want := 3250 * time.Millisecond; st.cpu != want {
		t.Errorf("cpu = %s, want %s", st.cpu, want)
	}
}

func TestParseStat_RejectsTruncatedLines(t *testing.T) {
	for _, line := range []string{"", "12 (x) S 1 2 3", "12 x S 1"} {
		if _, err := parseStat(line); err == nil {
			t.Errorf("parseStat(%q) accepted a truncated line", line)
		}
	}
}

func TestParseStatus_ReadsResidentAndPeakInBytes(t *testing.T) {
	status := "Name:\tproxy\nVmPeak:\t  800000 kB\nVmHWM:\t   30720 kB\nVmRSS:\t   12288 kB\nThreads:\t5\n"
	m, err := parseStatus(status)
	if err != nil {
		t.Fatal(err)
	}
	if m.rss != 12288*1024 || m.peak != 30720*1024 {
		t.Errorf("got rss %d peak %d, want %d and %d", m.rss, m.peak, 12288*1024, 30720*1024)
	}
	if _, err := parseStatus("Name:\tkthread\n"); err == nil {
		t.Error("a status without VmRSS (a kernel thread) was accepted")
	}
}

func TestTreeUsage_ReadsThisProcess(t *testing.T) {
	u, err := treeUsage(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if u.mem.rss <= 0 || u.mem.peak < u.mem.rss {
		t.Errorf("memory %+v: want 0 < rss <= peak", u.mem)
	}
}
