package procmem

import (
	"os"
	"testing"
)

func TestParseStatus_ReadsResidentAndPeakInBytes(t *testing.T) {
	status := "Name:\tproxy\nVmPeak:\t  800000 kB\nVmHWM:\t   30720 kB\nVmRSS:\t   12288 kB\nThreads:\t5\n"
	m, err := ParseStatus(status)
	if err != nil {
		t.Fatal(err)
	}
	if m.RSS != 12288*1024 || m.Peak != 30720*1024 {
		t.Errorf("got rss %d peak %d, want %d and %d", m.RSS, m.Peak, 12288*1024, 30720*1024)
	}
	if _, err := ParseStatus("Name:\tkthread\n"); err == nil {
		t.Error("a status without VmRSS (a kernel thread) was accepted")
	}
	if _, err := ParseStatus("VmRSS:\t12 MB\nVmHWM:\t13 kB\n"); err == nil {
		t.Error("a value not in kB was accepted")
	}
}

func TestRead_ThisProcess(t *testing.T) {
	m, err := Read(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if m.RSS <= 0 || m.Peak < m.RSS {
		t.Errorf("memory %+v: want 0 < rss <= peak", m)
	}
}
