package config

import (
	"strings"
	"testing"
)

// transparentConfig has a Service with a ClusterIP, an opaque Service, and
// an endpoint that no Service address claims.
func transparentConfig() *Config {
	return &Config{
		Inbound: Inbound{Protocol: ProtocolH2, Ports: []InboundPort{{Port: 5432, Protocol: ProtocolOpaque}}},
		Outbound: Outbound{Services: []Service{
			{Name: "app", Namespace: "demo", Port: 80, ClusterIPs: []string{"198.19.0.10"}},
			{Name: "db", Namespace: "demo", Port: 5432, ClusterIPs: []string{"198.19.0.20"}, Protocol: ProtocolOpaque},
		}},
		Backends: []Backend{
			{Name: "app", Namespace: "demo", Endpoints: []Endpoint{{Address: "198.18.0.5:8080"}}},
			{Name: "db", Namespace: "demo", Endpoints: []Endpoint{{Address: "198.18.0.6:5432", Protocol: ProtocolOpaque}}},
		},
	}
}

func TestSnapshot_FindsServicesAndEndpointsByOriginalDestination(t *testing.T) {
	snap, err := NewSnapshot(transparentConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for addr, want := range map[string]struct {
		name   string
		opaque bool
	}{
		"198.19.0.10:80":   {"app", false},
		"198.19.0.20:5432": {"db", true},
		"198.18.0.5:8080":  {"app", false},
		"198.18.0.6:5432":  {"db", true},
	} {
		tbl := snap.Service(addr)
		if tbl == nil || tbl.Name != want.name || tbl.Opaque != want.opaque {
			t.Errorf("%s: table %+v, want %s opaque=%v", addr, tbl, want.name, want.opaque)
		}
	}
	if snap.Service("198.19.0.10:81") != nil || snap.Service("198.18.0.7:8080") != nil {
		t.Error("an address the configuration does not name found a table")
	}
	if got := snap.Service("198.18.0.5:8080").Rules[0].Destinations[0].Destination.Endpoints; len(got) != 1 || got[0].Address != "198.18.0.5:8080" {
		t.Errorf("a direct endpoint connection goes to %v, want that endpoint alone", got)
	}
	if p := snap.Inbound.PortProtocol(5432); p != ProtocolOpaque {
		t.Errorf("inbound port 5432 protocol = %q, want opaque", p)
	}
	if p := snap.Inbound.PortProtocol(8080); p != ProtocolH2 {
		t.Errorf("inbound port 8080 protocol = %q, want the inbound default h2", p)
	}
}

func TestValidate_RejectsBadClusterIPsAndPorts(t *testing.T) {
	cfg := transparentConfig()
	cfg.Outbound.Services[0].ClusterIPs = []string{"app.demo"}
	cfg.Outbound.Services[1].Protocol = "tcp"
	cfg.Inbound.Ports = []InboundPort{{Port: 5432, Protocol: ProtocolOpaque}, {Port: 5432, Protocol: ProtocolOpaque}, {Port: 0}}
	err := cfg.Validate()
	if err == nil {
		t.Fatal("Validate accepted an invalid configuration")
	}
	for _, want := range []string{
		`outbound.services[0].clusterIPs[0]: not an IP address: "app.demo"`,
		`outbound.services[1].protocol: unknown protocol "tcp"`,
		"inbound.ports[1].port: duplicate port 5432",
		"inbound.ports[2].port: must be between 1 and 65535",
		"inbound.ports[2].protocol: required",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Validate error lacks %q; got:\n%v", want, err)
		}
	}
}
