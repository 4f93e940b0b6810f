package main

import (
	"bytes"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

const input = `apiVersion: v1
kind: Namespace
metadata:
  name: keep-me
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata:
  name: sluice-mutating-webhook-configuration
webhooks:
- name: mcanary-v1alpha1.kb.io
  admissionReviewVersions: ["v1"]
  sideEffects: None
  clientConfig:
    service:
      name: webhook-service
      namespace: sluice-system
      path: /mutate-mesh-sluice-dev-v1alpha1-canary
- name: already-by-url.kb.io
  admissionReviewVersions: ["v1"]
  sideEffects: None
  clientConfig:
    url: https://example.invalid/x
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: sluice-validating-webhook-configuration
webhooks:
- name: vpolicy-v1alpha1.kb.io
  admissionReviewVersions: ["v1"]
  sideEffects: None
  clientConfig:
    service:
      name: webhook-service
      namespace: sluice-system
`

type webhookConfig struct {
	Kind     string `json:"kind"`
	Webhooks []struct {
		Name         string         `json:"name"`
		ClientConfig map[string]any `json:"clientConfig"`
	} `json:"webhooks"`
}

func TestRewriteStream_ReplacesEveryServiceWithALoopbackURL(t *testing.T) {
	var out bytes.Buffer
	if err := rewriteStream(strings.NewReader(input), &out, "https://127.0.0.1:9443"); err != nil {
		t.Fatal(err)
	}
	docs := strings.Split(out.String(), "\n---\n")
	if len(docs) != 3 {
		t.Fatalf("got %d documents, want 3:\n%s", len(docs), out.String())
	}
	if !strings.Contains(docs[0], "name: keep-me") {
		t.Errorf("non-webhook document changed:\n%s", docs[0])
	}
	want := map[string]string{
		"mcanary-v1alpha1.kb.io": "https://127.0.0.1:9443/mutate-mesh-sluice-dev-v1alpha1-canary",
		"already-by-url.kb.io":   "https://example.invalid/x",
		"vpolicy-v1alpha1.kb.io": "https://127.0.0.1:9443/",
	}
	for _, doc := range docs[1:] {
		var cfg webhookConfig
		if err := yaml.Unmarshal([]byte(doc), &cfg); err != nil {
			t.Fatalf("output does not parse: %v\n%s", err, doc)
		}
		for _, w := range cfg.Webhooks {
			if _, ok := w.ClientConfig["service"]; ok {
				t.Errorf("%s %s still names a Service", cfg.Kind, w.Name)
			}
			if got := w.ClientConfig["url"]; got != want[w.Name] {
				t.Errorf("%s %s: url %v, want %s", cfg.Kind, w.Name, got, want[w.Name])
			}
		}
	}
}

func TestRewriteStream_RejectsABaseThatIsNotHTTPSHostPort(t *testing.T) {
	for _, base := range []string{"http://127.0.0.1:9443", "https://127.0.0.1:9443/prefix", "127.0.0.1:9443"} {
		if err := rewriteStream(strings.NewReader(input), &bytes.Buffer{}, base); err == nil {
			t.Errorf("base %q accepted", base)
		}
	}
}
