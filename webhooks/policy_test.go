package webhooks

import (
	"context"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
	"github.com/sluicemesh/sluice/test/kubeapi"
)

// validPolicy is a Policy every webhook accepts; its Service does not exist, which is not a rejection either.
func validPolicy(ns, name string) *meshv1alpha1.Policy {
	return &meshv1alpha1.Policy{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: meshv1alpha1.PolicySpec{
			TargetRef: meshv1alpha1.PolicyTargetReference{Name: "app"},
			Timeout:   seconds(10),
		},
	}
}

func TestPolicy_WebhookRejectsWhatTheSchemaCannotNamingTheField(t *testing.T) {
	kubeapi.RequireEnv(t, env)
	ns := env.NewNamespace(t)
	expectRejections(t, func() *meshv1alpha1.Policy { return validPolicy(ns, "app") }, "vpolicy.mesh.sluice.dev", []rejection[*meshv1alpha1.Policy]{
		{"timeout of 0s", "spec.timeout", func(p *meshv1alpha1.Policy) { p.Spec.Timeout = seconds(0) }},
		{"per-try timeout longer than the timeout", "spec.retries.perTryTimeout", func(p *meshv1alpha1.Policy) {
			p.Spec.Retries = &meshv1alpha1.PolicyRetries{Retries: meshv1alpha1.Retries{PerTryTimeout: seconds(30)}}
		}},
		{"circuit breaker interval of 0s", "spec.circuitBreaker.interval", func(p *meshv1alpha1.Policy) {
			p.Spec.CircuitBreaker = &meshv1alpha1.CircuitBreaker{Interval: seconds(0)}
		}},
		{"fault delay of 0s", "spec.fault.delay.duration", func(p *meshv1alpha1.Policy) {
			p.Spec.Fault = &meshv1alpha1.Fault{Delay: &meshv1alpha1.FaultDelay{Duration: *seconds(0), Percent: 10}}
		}},
		{"fault header regular expression that does not compile", "spec.fault.headers[0].value", func(p *meshv1alpha1.Policy) {
			p.Spec.Fault = &meshv1alpha1.Fault{
				Abort: &meshv1alpha1.FaultAbort{Status: 503, Percent: 10},
				Headers: []gatewayv1.HTTPHeaderMatch{{
					Type: ptr.To(gatewayv1.HeaderMatchRegularExpression), Name: "x-chaos", Value: "*yes"}},
			}
		}},
		{"authorization path prefix with a .. segment", "spec.authorization.rules[0].pathPrefixes[1]", func(p *meshv1alpha1.Policy) {
			p.Spec.Authorization = &meshv1alpha1.Authorization{Rules: []meshv1alpha1.AuthorizationRule{{PathPrefixes: []string{"/api", "/api/../admin"}}}}
		}},
		{"authorization path prefix with a query", "spec.authorization.rules[0].pathPrefixes[0]", func(p *meshv1alpha1.Policy) {
			p.Spec.Authorization = &meshv1alpha1.Authorization{Rules: []meshv1alpha1.AuthorizationRule{{PathPrefixes: []string{"/search?q=admin"}}}}
		}},
	})
}

func TestPolicy_DefaultsBurstAndRetryConditions(t *testing.T) {
	kubeapi.RequireEnv(t, env)
	ns := env.NewNamespace(t)
	policy := createFromYAML(t, env.Client, ns, `
apiVersion: mesh.sluice.dev/v1alpha1
kind: Policy
metadata:
  name: app
spec:
  targetRef: {name: app}
  timeout: 1m
  rateLimit: {requestsPerSecond: 50}
  retries: {attempts: 3}
`)
	if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(policy), policy); err != nil {
		t.Fatal(err)
	}
	burst, _, _ := unstructured.NestedInt64(policy.Object, "spec", "rateLimit", "burst")
	retryOn, _, _ := unstructured.NestedStringSlice(policy.Object, "spec", "retries", "retryOn")
	if burst != 50 {
		t.Errorf("spec.rateLimit.burst = %d, want requestsPerSecond (50)", burst)
	}
	if got := strings.Join(retryOn, ","); got != "connect-failure,gateway-error" {
		t.Errorf("spec.retries.retryOn = %q, want connect-failure,gateway-error", got)
	}
	if got := nestedString(t, policy, "spec", "timeout"); got != "1m" {
		t.Errorf("spec.timeout stored as %q, want the user's 1m", got)
	}
}

func TestPolicy_WarnsAboutASecondPolicyForTheSameService(t *testing.T) {
	kubeapi.RequireEnv(t, env)
	ns := env.NewNamespace(t)
	c, warnings := clientRecordingWarnings(t)
	if err := c.Create(context.Background(), validPolicy(ns, "first")); err != nil {
		t.Fatal(err)
	}
	if w := warnings.all(); len(w) > 0 {
		t.Fatalf("the first Policy drew warnings: %q", w)
	}
	if err := c.Create(context.Background(), validPolicy(ns, "second")); err != nil {
		t.Fatalf("a second Policy must be accepted (it reports Conflicted): %v", err)
	}
	want := "spec.targetRef.name: Policy first already targets Service app"
	if !slices.ContainsFunc(warnings.all(), func(w string) bool { return strings.HasPrefix(w, want) }) {
		t.Errorf("no warning %q in %q", want, warnings.all())
	}
}
