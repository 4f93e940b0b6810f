package redirect

import (
	"slices"
	"strings"
	"testing"
)

func defaults() Options {
	return Options{ProxyUID: 1337, InboundPort: 14143, OutboundPort: 14140, AdminPort: 14191}
}

func planText(t *testing.T, o Options) string {
	t.Helper()
	steps, err := Plan(o)
	if err != nil {
		t.Fatal(err)
	}
	lines := make([]string, len(steps))
	for i, s := range steps {
		lines[i] = s.String()
	}
	return strings.Join(lines, "\n")
}

func TestPlan_RedirectsInboundAndOutboundWithTheDocumentedExceptions(t *testing.T) {
	o := defaults()
	o.SkipInboundPorts = []int{22}
	o.SkipOutboundPorts = []int{5432, 6379}
	want := `iptables -t nat -N SLUICE_INBOUND_REDIRECT  # unless the chain exists
iptables -t nat -F SLUICE_INBOUND_REDIRECT
iptables -t nat -N SLUICE_INBOUND  # unless the chain exists
iptables -t nat -F SLUICE_INBOUND
iptables -t nat -N SLUICE_OUTBOUND_REDIRECT  # unless the chain exists
iptables -t nat -F SLUICE_OUTBOUND_REDIRECT
iptables -t nat -N SLUICE_OUTBOUND  # unless the chain exists
iptables -t nat -F SLUICE_OUTBOUND
iptables -t nat -A SLUICE_INBOUND_REDIRECT -p tcp -j REDIRECT --to-ports 14143
iptables -t nat -A SLUICE_INBOUND -p tcp --dport 14191 -j RETURN
iptables -t nat -A SLUICE_INBOUND -p tcp --dport 14140 -j RETURN
iptables -t nat -A SLUICE_INBOUND -p tcp --dport 22 -j RETURN
iptables -t nat -A SLUICE_INBOUND -p tcp -j SLUICE_INBOUND_REDIRECT
iptables -t nat -A SLUICE_OUTBOUND_REDIRECT -p tcp -j REDIRECT --to-ports 14140
iptables -t nat -A SLUICE_OUTBOUND -m owner --uid-owner 1337 -j RETURN
iptables -t nat -A SLUICE_OUTBOUND -d 127.0.0.0/8 -j RETURN
iptables -t nat -A SLUICE_OUTBOUND -p tcp --dport 5432 -j RETURN
iptables -t nat -A SLUICE_OUTBOUND -p tcp --dport 6379 -j RETURN
iptables -t nat -A SLUICE_OUTBOUND -p tcp -j SLUICE_OUTBOUND_REDIRECT
iptables -t nat -A PREROUTING -p tcp -j SLUICE_INBOUND  # unless present (iptables -C)
iptables -t nat -A OUTPUT -p tcp -j SLUICE_OUTBOUND  # unless present (iptables -C)`
	if got := planText(t, o); got != want {
		t.Errorf("plan:\n%s\nwant:\n%s", got, want)
	}
}

func TestPlan_RejectsInvalidOptions(t *testing.T) {
	for name, mutate := range map[string]func(*Options){
		"no uid":            func(o *Options) { o.ProxyUID = -1 },
		"inbound port 0":    func(o *Options) { o.InboundPort = 0 },
		"admin port 70000":  func(o *Options) { o.AdminPort = 70000 },
		"skipped port 0":    func(o *Options) { o.SkipOutboundPorts = []int{0} },
		"skipped port 1e6 ": func(o *Options) { o.SkipInboundPorts = []int{1000000} },
	} {
		t.Run(name, func(t *testing.T) {
			o := defaults()
			mutate(&o)
			if _, err := Plan(o); err == nil {
				t.Error("want an error")
			}
		})
	}
}

func TestParsePorts_ReadsAnnotationValues(t *testing.T) {
	for in, want := range map[string][]int{"": nil, "22": {22}, " 22, 9090 ,": {22, 9090}} {
		got, err := ParsePorts(in)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("%q: got %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"ssh", "0", "65536", "22;80"} {
		if _, err := ParsePorts(bad); err == nil {
			t.Errorf("%q: want an error", bad)
		}
	}
}

func TestPlan_IPv6UsesIp6tablesAndItsLoopback(t *testing.T) {
	o := defaults()
	o.IPv6 = true
	got := planText(t, o)
	if !strings.Contains(got, "ip6tables -t nat -A SLUICE_OUTBOUND -d ::1/128 -j RETURN") || strings.Contains(got, "127.0.0.0/8") {
		t.Errorf("IPv6 plan:\n%s", got)
	}
}
