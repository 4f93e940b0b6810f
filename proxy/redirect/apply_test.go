package redirect

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// fakeIPTables keeps chains and rules of the nat table in memory, answering
// like iptables: -S and -C fail for what does not exist.
type fakeIPTables struct {
	chains map[string][]string
	calls  []string
	denied bool
}

func newFake() *fakeIPTables {
	return &fakeIPTables{chains: map[string][]string{"PREROUTING": nil, "OUTPUT": nil}}
}

func (f *fakeIPTables) run(_ context.Context, args ...string) ([]byte, error) {
	f.calls = append(f.calls, strings.Join(args, " "))
	if f.denied {
		return []byte("iptables: Permission denied (you must be root)"), ErrNotPermitted
	}
	verb, chain, rule := args[2], args[3], strings.Join(args[4:], " ")
	rules, exists := f.chains[chain]
	fail := errors.New("exit status 1")
	switch verb {
	case "-N":
		if exists {
			return []byte("iptables: Chain already exists."), fail
		}
		f.chains[chain] = nil
	case "-S", "-F":
		if !exists {
			return []byte("iptables: No chain/target/match by that name."), fail
		}
		if verb == "-F" {
			f.chains[chain] = nil
		}
	case "-A":
		f.chains[chain] = append(rules, rule)
	case "-C":
		for _, r := range rules {
			if r == rule {
				return nil, nil
			}
		}
		return []byte("iptables: Bad rule."), fail
	}
	return nil, nil
}

func TestApply_TwiceLeavesTheSameRules(t *testing.T) {
	steps, err := Plan(defaults())
	if err != nil {
		t.Fatal(err)
	}
	f := newFake()
	if err := Apply(context.Background(), steps, f.run); err != nil {
		t.Fatal(err)
	}
	first := snapshot(f)
	if err := Apply(context.Background(), steps, f.run); err != nil {
		t.Fatalf("second apply: %v", err)
	}
	if second := snapshot(f); second != first {
		t.Errorf("rules changed on the second apply:\n%s\nwas:\n%s", second, first)
	}
	if got := f.chains["OUTPUT"]; len(got) != 1 || got[0] != "-p tcp -j SLUICE_OUTBOUND" {
		t.Errorf("OUTPUT = %q, want one jump to SLUICE_OUTBOUND", got)
	}
	if got := len(f.chains[ChainOutbound]); got != 3 {
		t.Errorf("SLUICE_OUTBOUND has %d rules, want 3 (uid, loopback, redirect)", got)
	}
}

func TestApply_SaysWhenIPTablesIsNotPermitted(t *testing.T) {
	steps, _ := Plan(defaults())
	f := newFake()
	f.denied = true
	err := Apply(context.Background(), steps, f.run)
	if !errors.Is(err, ErrNotPermitted) || !strings.Contains(err.Error(), "CAP_NET_ADMIN") {
		t.Fatalf("err = %v, want ErrNotPermitted naming CAP_NET_ADMIN", err)
	}
	if len(f.calls) != 1 {
		t.Errorf("went on after a refusal: %d calls", len(f.calls))
	}
}

func TestExec_SaysWhenIPTablesIsMissing(t *testing.T) {
	_, err := Exec("iptables-that-does-not-exist")
	if err == nil || !strings.Contains(err.Error(), "apt-get install iptables") {
		t.Fatalf("err = %v, want an install hint", err)
	}
}

func snapshot(f *fakeIPTables) string {
	var b strings.Builder
	for _, c := range []string{"PREROUTING", "OUTPUT", ChainInbound, ChainInboundRedirect, ChainOutbound, ChainOutboundRedirect} {
		b.WriteString(c + ": " + strings.Join(f.chains[c], " | ") + "\n")
	}
	return b.String()
}
