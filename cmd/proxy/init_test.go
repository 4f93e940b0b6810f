package main

import (
	"strings"
	"testing"
)

func TestInit_DryRunPrintsTheRulesWithSkippedPorts(t *testing.T) {
	var out, errOut strings.Builder
	code := runInit([]string{"--proxy-uid", "2102", "--skip-inbound-ports", "22", "--skip-outbound-ports", "5432,6379", "--dry-run"}, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	for _, want := range []string{
		"-A SLUICE_OUTBOUND -m owner --uid-owner 2102 -j RETURN",
		"-A SLUICE_INBOUND -p tcp --dport 22 -j RETURN",
		"-A SLUICE_OUTBOUND -p tcp --dport 6379 -j RETURN",
		"-A SLUICE_INBOUND_REDIRECT -p tcp -j REDIRECT --to-ports 14143",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("dry run lacks %q:\n%s", want, out.String())
		}
	}
}

func TestInit_RefusesBadFlags(t *testing.T) {
	for name, args := range map[string][]string{
		"no uid":       {"--dry-run"},
		"bad port":     {"--proxy-uid", "1", "--skip-outbound-ports", "http", "--dry-run"},
		"extra args":   {"--proxy-uid", "1", "now"},
		"missing tool": {"--proxy-uid", "1", "--iptables", "no-such-iptables"},
	} {
		t.Run(name, func(t *testing.T) {
			var out, errOut strings.Builder
			if code := runInit(args, &out, &errOut); code == 0 {
				t.Errorf("exit 0, want a failure; stdout %s", out.String())
			}
			if errOut.Len() == 0 {
				t.Error("no message on stderr")
			}
		})
	}
}

func TestInit_DryRunWithIPv6PrintsBothFamilies(t *testing.T) {
	var out, errOut strings.Builder
	if code := runInit([]string{"--proxy-uid", "1", "--ipv6", "--dry-run"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "iptables -t nat -A OUTPUT") || !strings.Contains(out.String(), "ip6tables -t nat -A OUTPUT") {
		t.Errorf("want rules for iptables and ip6tables:\n%s", out.String())
	}
}
