package config

import (
	"os"
	"strings"
	"testing"
)

func mustReadExample(t testing.TB) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestLoad_AcceptsTheDocumentedExample(t *testing.T) {
	cfg, err := Load(mustReadExample(t))
	if err != nil {
		t.Fatalf("Load(example.yaml): %v", err)
	}
	if got := cfg.Outbound.Services[0].Routes[1].Backends[1]; got.Name != "app-canary" || *got.Weight != 10 {
		t.Errorf("canary backend = %+v, want app-canary weight 10", got)
	}
	if cfg.Inbound.Timeout.D().String() != "30s" {
		t.Errorf("inbound timeout = %v, want 30s", cfg.Inbound.Timeout.D())
	}
}

func TestDecode_RejectsUnknownFields(t *testing.T) {
	_, err := Decode([]byte("outbound:\n  servicez: []\n"))
	if err == nil || !strings.Contains(err.Error(), `unknown field "servicez"`) {
		t.Fatalf("Decode with a misspelt field: err = %v, want an unknown field error", err)
	}
}

func TestDecode_ReadsJSONAndRejectsTrailingDocuments(t *testing.T) {
	if _, err := Decode([]byte(`{"version":"1","inbound":{"target":"127.0.0.1:80"}}`)); err != nil {
		t.Fatalf("Decode(JSON): %v", err)
	}
	if _, err := Decode([]byte(`{"version":"1"} {"version":"2"}`)); err == nil {
		t.Fatal("Decode accepted two JSON documents")
	}
	if _, err := Decode([]byte(`inbound: {timeout: 5}`)); err == nil || !strings.Contains(err.Error(), "duration") {
		t.Fatalf("Decode(timeout: 5): err = %v, want a duration error", err)
	}
}

func TestValidate_NamesEachBadField(t *testing.T) {
	cfg := &Config{
		Inbound: Inbound{Target: "nohost", MTLS: "SOMETIMES"},
		Outbound: Outbound{Services: []Service{{
			Name: "app", Namespace: "demo", Port: 80,
			Routes: []Route{{
				Matches:  []Match{{Path: &PathMatch{Value: "api"}, Headers: []HeaderMatch{{Name: "x", Value: "(", Type: HeaderRegularExpression}}}},
				Backends: []BackendRef{{Name: "missing"}},
				Retries:  &RetryPolicy{Attempts: ptr(99), RetryOn: []RetryCondition{"sometimes"}},
			}},
		}}},
		Backends: []Backend{{Name: "b", Namespace: "demo", Endpoints: []Endpoint{
			{Address: "127.0.0.1:99999", Protocol: "h3", Identity: "app"},
		}}},
	}
	err := cfg.Validate()
	if err == nil {
		t.Fatal("Validate accepted an invalid configuration")
	}
	for _, want := range []string{
		"inbound.target: must be host:port",
		`inbound.mtls: unknown mode "SOMETIMES"`,
		"outbound.services[0].routes[0].matches[0].path.value: must start with /",
		"outbound.services[0].routes[0].matches[0].headers[0].value: invalid regular expression",
		"outbound.services[0].routes[0].backends[0].name: no backend missing.demo in backends",
		"outbound.services[0].routes[0].retries.attempts: must be between 0 and 10, got 99",
		`outbound.services[0].routes[0].retries.retryOn[0]: unknown condition "sometimes"`,
		"backends[0].endpoints[0].address: port must be between 1 and 65535",
		`backends[0].endpoints[0].protocol: unknown protocol "h3"`,
		"backends[0].endpoints[0].identity: must be a SPIFFE URI",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Validate error lacks %q; got:\n%v", want, err)
		}
	}
}

func TestValidate_RejectsTwoServicesClaimingOneAuthority(t *testing.T) {
	cfg := &Config{
		Outbound: Outbound{Services: []Service{
			{Name: "app", Namespace: "a", Port: 80},
			{Name: "app", Namespace: "b", Port: 80},
		}},
		Backends: []Backend{{Name: "app", Namespace: "a"}, {Name: "app", Namespace: "b"}},
	}
	err := cfg.Validate()
	if err == nil || !strings.Contains(err.Error(), `authority "app:80" is also claimed by outbound.services[0]`) {
		t.Fatalf("err = %v, want a duplicate authority error", err)
	}
	cfg.Outbound.Namespace = "a" // the short name now belongs to the proxy's own namespace only
	if err := cfg.Validate(); err != nil {
		t.Fatalf("with outbound.namespace set: %v", err)
	}
}

func TestRedacted_HidesTheInlineKeyOnly(t *testing.T) {
	cfg, err := Load(mustReadExample(t))
	if err != nil {
		t.Fatal(err)
	}
	r := cfg.Redacted()
	if r.TLS.KeyPEM != "REDACTED" {
		t.Errorf("KeyPEM = %q, want REDACTED", r.TLS.KeyPEM)
	}
	if cfg.TLS.KeyPEM == "REDACTED" {
		t.Error("Redacted modified the original configuration")
	}
	if r.TLS.CertFile != cfg.TLS.CertFile || len(r.Backends) != len(cfg.Backends) || len(r.Backends) == 0 {
		t.Error("Redacted lost non-secret fields")
	}
}

func ptr[T any](v T) *T { return &v }

func TestDecode_RejectsSeveralYAMLDocumentsAndDuplicateKeys(t *testing.T) {
	if _, err := Decode([]byte("version: a\n---\nversion: b\n")); err == nil {
		t.Error("Decode accepted two YAML documents")
	}
	if _, err := Decode([]byte("version: a\nversion: b\n")); err == nil {
		t.Error("Decode accepted a duplicate key")
	}
}
