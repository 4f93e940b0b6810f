package config

import (
	"os"
	"testing"
)

// FuzzDecodeConfig checks that no input crashes decoding, validation or
// compilation, and that whatever validates also compiles.
func FuzzDecodeConfig(f *testing.F) {
	if data, err := os.ReadFile("testdata/example.yaml"); err == nil {
		f.Add(data)
	}
	for _, seed := range []string{
		"", "{}", "null", "version: 1", "outbound: {services: [{name: a, namespace: b, port: 1}]}",
		`{"backends":[{"name":"a","namespace":"b","endpoints":[{"address":"[::1]:80","protocol":"grpc"}]}]}`,
		"outbound:\n  services:\n  - {name: a, namespace: n, port: 80, routes: [{matches: [{path: {type: RegularExpression, value: '(a'}}], backends: [{name: a}]}]}\n",
		"inbound: {timeout: -1s, rateLimit: {requestsPerSecond: .nan}}",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Decode(data)
		if err != nil {
			return
		}
		if cfg.Validate() != nil {
			return
		}
		if _, err := NewSnapshot(cfg, nil); err != nil {
			t.Fatalf("a valid configuration did not compile: %v", err)
		}
		_ = cfg.Redacted()
	})
}
