package v1alpha1_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/controller-runtime/pkg/client"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
	"github.com/sluicemesh/sluice/test/kubeapi"
)

// The defaults below are the ones the field comments promise; the API server
// applies them from the CRD schema, so every client (kubectl, GitOps tools,
// the operator) reads the same values back.

func TestCanary_DefaultsAreApplied(t *testing.T) {
	kubeapi.RequireEnv(t, env)
	ns := env.NewNamespace(t)
	obj := patched(t, validCanary, `{spec: {analysis: {webhooks: [{name: gate, url: "http://gate.test/"}]}}}`)
	obj.SetNamespace(ns)
	if err := env.Client.Create(context.Background(), obj); err != nil {
		t.Fatal(err)
	}
	var got meshv1alpha1.Canary
	if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(obj), &got); err != nil {
		t.Fatal(err)
	}
	s := got.Spec
	checks := []struct {
		field     string
		got, want any
	}{
		{"spec.provider", s.Provider, meshv1alpha1.ProviderSluice},
		{"spec.progressDeadlineSeconds", s.ProgressDeadlineSeconds, int32(600)},
		{"spec.targetRef.apiVersion", s.TargetRef.APIVersion, "apps/v1"},
		{"spec.targetRef.kind", s.TargetRef.Kind, meshv1alpha1.TargetKindDeployment},
		{"spec.service.portName", s.Service.PortName, "http"},
		{"spec.analysis.interval", s.Analysis.Interval.Duration, time.Minute},
		{"spec.analysis.threshold", s.Analysis.Threshold, int32(5)},
		{"spec.analysis.primaryReadyThreshold", s.Analysis.PrimaryReadyThreshold, int32(100)},
		{"spec.analysis.canaryReadyThreshold", s.Analysis.CanaryReadyThreshold, int32(100)},
		{"spec.analysis.webhooks[0].type", s.Analysis.Webhooks[0].Type, meshv1alpha1.WebhookRollout},
		{"spec.analysis.webhooks[0].timeout", s.Analysis.Webhooks[0].Timeout.Duration, 10 * time.Second},
	}
	for _, c := range checks {
		if !cmp.Equal(c.got, c.want) {
			t.Errorf("%s = %v, want the default %v", c.field, c.got, c.want)
		}
	}
}

func TestMesh_DefaultsAreAppliedToAnEmptySpec(t *testing.T) {
	kubeapi.RequireEnv(t, env)
	mesh := &meshv1alpha1.Mesh{}
	mesh.Name = meshv1alpha1.MeshName
	if err := env.Client.Create(context.Background(), mesh); err != nil {
		t.Fatal(err)
	}
	deleteAtCleanup(t, mesh)
	var got meshv1alpha1.Mesh
	if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(mesh), &got); err != nil {
		t.Fatal(err)
	}
	s := got.Spec
	if s.MTLS.TrustAnchor.SelfSigned == nil || s.MTLS.TrustAnchor.SelfSigned.Lifetime == nil {
		t.Fatalf("spec.mtls.trustAnchor = %+v, want the default self-signed anchor with a lifetime", s.MTLS.TrustAnchor)
	}
	if s.Upgrade.Rolling != nil {
		t.Errorf("spec.upgrade.rolling = %+v, want unset (its defaults are documented, not stored)", s.Upgrade.Rolling)
	}
	checks := []struct {
		field     string
		got, want any
	}{
		{"spec.proxy.image", s.Proxy.Image, "ghcr.io/sluicemesh/sluice-proxy"},
		{"spec.proxy.imagePullPolicy", string(s.Proxy.ImagePullPolicy), "IfNotPresent"},
		{"spec.proxy.logLevel", s.Proxy.LogLevel, meshv1alpha1.LogLevel("info")},
		{"spec.controlPlane.replicas", s.ControlPlane.Replicas, int32(1)},
		{"spec.injection.sidecarMode", s.Injection.SidecarMode, meshv1alpha1.SidecarAuto},
		{"spec.mtls.mode", s.MTLS.Mode, meshv1alpha1.MTLSPermissive},
		{"spec.mtls.trustDomain", s.MTLS.TrustDomain, "cluster.local"},
		{"spec.mtls.trustAnchor.selfSigned.lifetime", s.MTLS.TrustAnchor.SelfSigned.Lifetime.Duration, 8760 * time.Hour},
		{"spec.mtls.issuerLifetime", s.MTLS.IssuerLifetime.Duration, 720 * time.Hour},
		{"spec.mtls.certificateLifetime", s.MTLS.CertificateLifetime.Duration, 24 * time.Hour},
		{"spec.mtls.renewPercent", s.MTLS.RenewPercent, int32(70)},
		{"spec.metrics.scrapeAnnotations", *s.Metrics.ScrapeAnnotations, true},
		{"spec.upgrade.type", s.Upgrade.Type, meshv1alpha1.ProxyUpgradeRolling},
	}
	for _, c := range checks {
		if !cmp.Equal(c.got, c.want) {
			t.Errorf("%s = %v, want the default %v", c.field, c.got, c.want)
		}
	}
}

func TestPolicy_DefaultsAreAppliedInsideEachSetting(t *testing.T) {
	kubeapi.RequireEnv(t, env)
	ns := env.NewNamespace(t)
	obj := patched(t, validPolicy, `{spec: {retries: {}, circuitBreaker: {}, authorization: {}}}`)
	obj.SetNamespace(ns)
	if err := env.Client.Create(context.Background(), obj); err != nil {
		t.Fatal(err)
	}
	var got meshv1alpha1.Policy
	if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(obj), &got); err != nil {
		t.Fatal(err)
	}
	s := got.Spec
	checks := []struct {
		field     string
		got, want any
	}{
		{"spec.targetRef.kind", s.TargetRef.Kind, "Service"},
		{"spec.retries.attempts", *s.Retries.Attempts, int32(2)},
		{"spec.retries.budgetPercent", *s.Retries.BudgetPercent, int32(20)},
		{"spec.retries.minRetriesPerSecond", *s.Retries.MinRetriesPerSecond, int32(10)},
		{"spec.circuitBreaker.consecutiveErrors", s.CircuitBreaker.ConsecutiveErrors, int32(5)},
		{"spec.circuitBreaker.interval", s.CircuitBreaker.Interval.Duration, 10 * time.Second},
		{"spec.circuitBreaker.baseEjectionTime", s.CircuitBreaker.BaseEjectionTime.Duration, 30 * time.Second},
		{"spec.circuitBreaker.maxEjectionPercent", *s.CircuitBreaker.MaxEjectionPercent, int32(50)},
		{"spec.authorization.default", s.Authorization.Default, meshv1alpha1.AuthorizationAllow},
	}
	for _, c := range checks {
		if !cmp.Equal(c.got, c.want) {
			t.Errorf("%s = %v, want the default %v", c.field, c.got, c.want)
		}
	}
}

// TestPolicy_ZeroRetriesStayZero: an explicit 0 must not be replaced by the
// default of 2 (the reason attempts is a pointer).
func TestPolicy_ZeroRetriesStayZero(t *testing.T) {
	kubeapi.RequireEnv(t, env)
	ns := env.NewNamespace(t)
	obj := patched(t, validPolicy, `{spec: {retries: {attempts: 0, budgetPercent: 0}}}`)
	obj.SetNamespace(ns)
	if err := env.Client.Create(context.Background(), obj); err != nil {
		t.Fatal(err)
	}
	var got meshv1alpha1.Policy
	if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(obj), &got); err != nil {
		t.Fatal(err)
	}
	if *got.Spec.Retries.Attempts != 0 || *got.Spec.Retries.BudgetPercent != 0 {
		t.Errorf("spec.retries = attempts %d, budgetPercent %d; want the explicit 0 and 0",
			*got.Spec.Retries.Attempts, *got.Spec.Retries.BudgetPercent)
	}
}
