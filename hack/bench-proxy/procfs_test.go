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

func TestTreeUsage_ReadsThisProcess(t *testing.T) {
	u, err := treeUsage(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if u.mem.RSS <= 0 || u.mem.Peak < u.mem.RSS {
		t.Errorf("memory %+v: want 0 < rss <= peak", u.mem)
	}
}
