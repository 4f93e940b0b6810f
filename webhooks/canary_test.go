package webhooks

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
	"github.com/sluicemesh/sluice/test/kubeapi"
)

// validCanary is a Canary every webhook accepts, for the cases to break one field of. Its target Deployment does
// not exist: that is the reconciler's to report, never a rejection.
func validCanary(ns, name string) *meshv1alpha1.Canary {
	return &meshv1alpha1.Canary{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: meshv1alpha1.CanarySpec{
			TargetRef: meshv1alpha1.TargetReference{Name: name},
			Service:   meshv1alpha1.CanaryService{Port: 8080},
			Analysis: meshv1alpha1.CanaryAnalysis{
				StepWeight: ptr.To[int32](10),
				Metrics: []meshv1alpha1.AnalysisMetric{{
					Name:           "errors",
					Query:          `sum(rate(http_errors_total{namespace="{{ namespace }}",route="{{ route }}"}[{{ interval }}]))`,
					Variables:      map[string]string{"route": "/api"},
					ThresholdRange: meshv1alpha1.ThresholdRange{Max: ptr.To(resource.MustParse("1"))},
				}},
			},
		},
	}
}

func seconds(n int) *metav1.Duration {
	return &metav1.Duration{Duration: time.Duration(n) * time.Second}
}

func TestCanary_WebhookRejectsWhatTheSchemaCannotNamingTheField(t *testing.T) {
	kubeapi.RequireEnv(t, env)
	ns := env.NewNamespace(t)
	expectRejections(t, func() *meshv1alpha1.Canary { return validCanary(ns, "app") }, "vcanary.mesh.sluice.dev", []rejection[*meshv1alpha1.Canary]{
		{"query with an unclosed placeholder", "spec.analysis.metrics[0].query", func(c *meshv1alpha1.Canary) {
			c.Spec.Analysis.Metrics[0].Query = `sum(rate(http_errors_total{namespace="{{ namespace"}[1m]))`
		}},
		{"query with }} but no {{", "spec.analysis.metrics[0].query", func(c *meshv1alpha1.Canary) {
			c.Spec.Analysis.Metrics[0].Query = `sum(rate(http_errors_total{namespace="{ namespace }}"}[1m]))`
		}},
		{"requestCountQuery with an unknown variable", "spec.analysis.metrics[0].requestCountQuery", func(c *meshv1alpha1.Canary) {
			c.Spec.Analysis.Metrics[0].MinRequests = ptr.To[int64](10)
			c.Spec.Analysis.Metrics[0].RequestCountQuery = `sum(increase(http_requests_total{path="{{ path }}"}[{{ interval }}]))`
		}},
		{"requestCountQuery with an unclosed placeholder", "spec.analysis.metrics[0].requestCountQuery", func(c *meshv1alpha1.Canary) {
			c.Spec.Analysis.Metrics[0].MinRequests = ptr.To[int64](10)
			c.Spec.Analysis.Metrics[0].RequestCountQuery = `sum(increase(http_requests_total{namespace="{{ namespace"}[5m]))`
		}},
		{"metric interval of 0s", "spec.analysis.metrics[0].interval", func(c *meshv1alpha1.Canary) {
			c.Spec.Analysis.Metrics[0].Interval = seconds(0)
		}},
		{"request timeout of 0s", "spec.service.timeout", func(c *meshv1alpha1.Canary) {
			c.Spec.Service.Timeout = seconds(0)
		}},
		{"per-try timeout longer than the request timeout", "spec.service.retries.perTryTimeout", func(c *meshv1alpha1.Canary) {
			c.Spec.Service.Timeout = seconds(10)
			c.Spec.Service.Retries = &meshv1alpha1.Retries{PerTryTimeout: seconds(30)}
		}},
		{"webhook timeout of 0s", "spec.analysis.webhooks[0].timeout", func(c *meshv1alpha1.Canary) {
			c.Spec.Analysis.Webhooks = []meshv1alpha1.CanaryWebhook{{Name: "load", URL: "http://127.0.0.1:8080/", Timeout: seconds(0)}}
		}},
		{"gate timeout shorter than the analysis interval", "spec.analysis.webhooks[0].gateTimeout", func(c *meshv1alpha1.Canary) {
			c.Spec.Analysis.Interval = seconds(60)
			c.Spec.Analysis.Webhooks = []meshv1alpha1.CanaryWebhook{{Name: "approve", Type: meshv1alpha1.WebhookConfirmPromotion,
				URL: "http://127.0.0.1:8080/", GateTimeout: seconds(30)}}
		}},
		{"A/B header regular expression that does not compile", "spec.analysis.match[0].headers[0].value", func(c *meshv1alpha1.Canary) {
			c.Spec.Analysis.StepWeight, c.Spec.Analysis.Iterations = nil, ptr.To[int32](10)
			c.Spec.Analysis.Match = []meshv1alpha1.CanaryMatch{{Headers: []gatewayv1.HTTPHeaderMatch{{
				Type: ptr.To(gatewayv1.HeaderMatchRegularExpression), Name: "x-user", Value: "(beta"}}}}
		}},
		{"A/B query parameter regular expression that does not compile", "spec.analysis.match[0].queryParams[0].value", func(c *meshv1alpha1.Canary) {
			c.Spec.Analysis.StepWeight, c.Spec.Analysis.Iterations = nil, ptr.To[int32](10)
			c.Spec.Analysis.Match = []meshv1alpha1.CanaryMatch{{QueryParams: []gatewayv1.HTTPQueryParamMatch{{
				Type: ptr.To(gatewayv1.QueryParamMatchRegularExpression), Name: "variant", Value: "[a-"}}}}
		}},
	})
}

func TestCanary_ASecondCanaryForTheSameDeploymentIsRejected(t *testing.T) {
	kubeapi.RequireEnv(t, env)
	ns := env.NewNamespace(t)
	ctx := context.Background()
	if err := env.Client.Create(ctx, validCanary(ns, "app")); err != nil {
		t.Fatalf("first Canary rejected: %v", err)
	}

	second := validCanary(ns, "app-again")
	second.Spec.TargetRef.Name = "app"
	err := env.Client.Create(ctx, second)
	expectRejectedByWebhook(t, err, "vcanary.mesh.sluice.dev", "spec.targetRef.name")
	if err != nil && !strings.Contains(err.Error(), "Canary app already delivers Deployment app") {
		t.Errorf("message does not name the other Canary: %v", err)
	}

	ofPrimary := validCanary(ns, "app-primary")
	err = env.Client.Create(ctx, ofPrimary)
	expectRejectedByWebhook(t, err, "vcanary.mesh.sluice.dev", "spec.targetRef.name")
	if err != nil && !strings.Contains(err.Error(), "primary Deployment that Canary app manages") {
		t.Errorf("message does not say it is a primary: %v", err)
	}

	otherNamespace := validCanary(env.NewNamespace(t), "app")
	if err := env.Client.Create(ctx, otherNamespace); err != nil {
		t.Errorf("a Canary for a Deployment of the same name in another namespace was rejected: %v", err)
	}
	// Updating the first Canary is no conflict with itself.
	var first meshv1alpha1.Canary
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "app"}, &first); err != nil {
		t.Fatal(err)
	}
	first.Spec.Analysis.StepWeight = ptr.To[int32](20)
	if err := env.Client.Update(ctx, &first); err != nil {
		t.Errorf("update of the first Canary rejected: %v", err)
	}
}

func TestCanary_DefaultsDependOnOtherFieldsAndKeepTheUsersSpelling(t *testing.T) {
	kubeapi.RequireEnv(t, env)
	ns := env.NewNamespace(t)
	canary := createFromYAML(t, env.Client, ns, `
apiVersion: mesh.sluice.dev/v1alpha1
kind: Canary
metadata:
  name: app
spec:
  targetRef: {name: app}
  service:
    port: 8080
    timeout: 1m
    retries: {attempts: 1}
  analysis:
    interval: 30s
    stepWeight: 10
    mirror: true
    metrics:
    - name: request-success-rate
      thresholdRange: {min: "99.5"}
    - name: slow
      query: 'sum(rate(x{namespace="{{ namespace }}"}[{{ interval }}]))'
      interval: 2m
      thresholdRange: {max: 10}
`)
	if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(canary), canary); err != nil {
		t.Fatal(err)
	}
	port, _, _ := unstructured.NestedInt64(canary.Object, "spec", "service", "targetPort")
	maxWeight, _, _ := unstructured.NestedInt64(canary.Object, "spec", "analysis", "maxWeight")
	mirrorWeight, _, _ := unstructured.NestedInt64(canary.Object, "spec", "analysis", "mirrorWeight")
	retryOn, _, _ := unstructured.NestedStringSlice(canary.Object, "spec", "service", "retries", "retryOn")
	metrics, _, _ := unstructured.NestedSlice(canary.Object, "spec", "analysis", "metrics")
	intervals := []any{metrics[0].(map[string]any)["interval"], metrics[1].(map[string]any)["interval"]}

	checks := []struct {
		field     string
		got, want any
	}{
		// Defaults that follow another field are resolved by the reconciler, so a later change of that field
		// still applies: no frozen copy is stored.
		{"spec.service.targetPort (follows port)", port, int64(0)},
		{"spec.analysis.metrics[0].interval (follows the analysis interval)", intervals[0], nil},
		{"spec.analysis.metrics[1].interval (set by the user)", intervals[1], "2m"},
		{"spec.analysis.maxWeight (with stepWeight)", maxWeight, int64(100)},
		{"spec.analysis.mirrorWeight (with mirror)", mirrorWeight, int64(100)},
		{"spec.service.retries.retryOn", strings.Join(retryOn, ","), "connect-failure,gateway-error"},
		// The patch holds only the defaults: what the user wrote is stored as written.
		{"spec.service.timeout", nestedString(t, canary, "spec", "service", "timeout"), "1m"},
		{"spec.analysis.metrics[0].thresholdRange.min", metrics[0].(map[string]any)["thresholdRange"].(map[string]any)["min"], "99.5"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %#v, want %#v", c.field, c.got, c.want)
		}
	}
}

func TestCanary_WarnsAboutUnknownMeshTemplatesAndUnusedVariables(t *testing.T) {
	kubeapi.RequireEnv(t, env)
	ns := env.NewNamespace(t)
	c, warnings := clientRecordingWarnings(t)
	mesh := &meshv1alpha1.Mesh{ObjectMeta: metav1.ObjectMeta{Name: meshv1alpha1.MeshName}}
	mesh.Spec.Metrics.Templates = []meshv1alpha1.MetricTemplate{{Name: "error-count", Query: `sum(x{namespace="{{ namespace }}"})`}}
	if err := createMesh(t, c, mesh); err != nil {
		t.Fatalf("create Mesh: %v", err)
	}

	canary := validCanary(ns, "app")
	canary.Spec.Analysis.Metrics[0].Variables["unused"] = "x"
	canary.Spec.Analysis.Metrics = append(canary.Spec.Analysis.Metrics, meshv1alpha1.AnalysisMetric{
		Name: "latency", TemplateRef: &meshv1alpha1.MetricTemplateReference{Name: "latency"},
		ThresholdRange: meshv1alpha1.ThresholdRange{Max: ptr.To(resource.MustParse("500"))},
	})
	if err := c.Create(context.Background(), canary); err != nil {
		t.Fatalf("a missing template or an unused variable must not reject the Canary: %v", err)
	}
	for _, want := range []string{
		`spec.analysis.metrics[1].templateRef.name: Mesh default has no metric template "latency"`,
		`spec.analysis.metrics[0].variables[unused]: not used by query or requestCountQuery`,
	} {
		if !slices.ContainsFunc(warnings.all(), func(w string) bool { return strings.HasPrefix(w, want) }) {
			t.Errorf("no warning %q in %q", want, warnings.all())
		}
	}
}
