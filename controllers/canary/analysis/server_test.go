package analysis

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

const (
	canaryAddress = "http://prometheus.shop:9090"
	meshAddress   = "http://prometheus.monitoring:9090"
	flagAddress   = "http://prometheus.flag:9090"
)

func meshWithServer(server *meshv1alpha1.MeshMetricsServer) *meshv1alpha1.Mesh {
	return &meshv1alpha1.Mesh{ObjectMeta: metav1.ObjectMeta{Name: meshv1alpha1.MeshName},
		Spec: meshv1alpha1.MeshSpec{Metrics: meshv1alpha1.MeshMetrics{Server: server}}}
}

func TestResolveServer_CanaryThenMeshThenFlag(t *testing.T) {
	withServer := newCanary(meshv1alpha1.ProviderSluice, "app")
	withServer.Spec.Analysis.MetricsServer = &meshv1alpha1.MetricsServer{Address: canaryAddress}
	withoutServer := newCanary(meshv1alpha1.ProviderSluice, "app")
	meshServer := meshWithServer(&meshv1alpha1.MeshMetricsServer{Address: meshAddress})
	meshWithout := meshWithServer(nil)

	tests := []struct {
		name        string
		canary      *meshv1alpha1.Canary
		mesh        *meshv1alpha1.Mesh
		flag        string
		wantAddress string
		wantSource  meshv1alpha1.MetricsServerSource
		wantErr     error
	}{
		{name: "the Canary's server wins over the Mesh's and the flag", canary: withServer, mesh: meshServer, flag: flagAddress,
			wantAddress: canaryAddress, wantSource: meshv1alpha1.MetricsServerFromCanary},
		{name: "the Mesh's server wins over the flag", canary: withoutServer, mesh: meshServer, flag: flagAddress,
			wantAddress: meshAddress, wantSource: meshv1alpha1.MetricsServerFromMesh},
		{name: "the flag when the Mesh names no server", canary: withoutServer, mesh: meshWithout, flag: flagAddress,
			wantAddress: flagAddress, wantSource: meshv1alpha1.MetricsServerFromManagerFlag},
		{name: "the flag when there is no Mesh", canary: withoutServer, flag: flagAddress,
			wantAddress: flagAddress, wantSource: meshv1alpha1.MetricsServerFromManagerFlag},
		{name: "none of them is an error", canary: withoutServer, mesh: meshWithout, wantErr: ErrNoMetricsServer},
	}
	reader := fake.NewClientBuilder().WithScheme(scheme.Scheme).Build()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ResolveServer(context.Background(), reader, tt.canary, tt.mesh, tt.flag)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			}
			if s.Address != tt.wantAddress || s.Source != tt.wantSource {
				t.Errorf("got %s, want %s (from %s)", s, tt.wantAddress, tt.wantSource)
			}
			if status := s.Status(); err == nil && (status.Address != tt.wantAddress || status.Source != tt.wantSource) {
				t.Errorf("status %+v, want the address and source", status)
			}
		})
	}
}

// TestResolveServer_ReadsTheMeshSecretsFromTheirNamespace: the Mesh is cluster-scoped, so its references
// name a namespace, which need not be the Canary's.
func TestResolveServer_ReadsTheMeshSecretsFromTheirNamespace(t *testing.T) {
	auth := secret("prometheus-auth", map[string]string{"token": "mesh-token"})
	auth.Namespace = "monitoring"
	decoy := secret("prometheus-auth", map[string]string{"token": "canary-namespace-token"})
	reader := fake.NewClientBuilder().WithScheme(scheme.Scheme).WithObjects(auth, decoy).Build()
	mesh := meshWithServer(&meshv1alpha1.MeshMetricsServer{Address: meshAddress,
		AuthSecretRef: &meshv1alpha1.SecretReference{Namespace: "monitoring", Name: "prometheus-auth"}})

	s, err := ResolveServer(context.Background(), reader, newCanary(meshv1alpha1.ProviderSluice, "app"), mesh, flagAddress)
	if err != nil {
		t.Fatal(err)
	}
	if s.bearerToken != "mesh-token" {
		t.Errorf("bearer token %q, want the one of monitoring/prometheus-auth", s.bearerToken)
	}
}

// TestResolveServer_SaysWhatIsWrongWithASecret: an unusable Secret is an error naming the field and the
// Secret; the address and source are still returned for status. No error message shows a secret value.
func TestResolveServer_SaysWhatIsWrongWithASecret(t *testing.T) {
	tests := []struct {
		name        string
		objects     []*corev1.Secret
		auth, ca    string // names of the referenced Secrets
		wantMessage string
	}{
		{name: "missing auth Secret", auth: "absent",
			wantMessage: "spec.analysis.metricsServer.authSecretRef: read Secret shop/absent: secrets \"absent\" not found"},
		{name: "auth Secret without credentials", auth: "empty", objects: []*corev1.Secret{secret("empty", map[string]string{"user": "x"})},
			wantMessage: `Secret shop/empty needs the key "token" (bearer token) or the keys "username" and "password" (basic auth)`},
		{name: "username without password", auth: "half", objects: []*corev1.Secret{secret("half", map[string]string{"username": "x"})},
			wantMessage: `Secret shop/half needs the key "token"`},
		{name: "token and basic auth together", auth: "both",
			objects:     []*corev1.Secret{secret("both", map[string]string{"token": "t0k3n", "username": "u", "password": "p4ss"})},
			wantMessage: `Secret shop/both has both "token" and "username"/"password"`},
		{name: "CA Secret without ca.crt", ca: "ca", objects: []*corev1.Secret{secret("ca", map[string]string{"tls.crt": "x"})},
			wantMessage: `spec.analysis.metricsServer.caSecretRef: Secret shop/ca has no key "ca.crt"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			builder := fake.NewClientBuilder().WithScheme(scheme.Scheme)
			for _, s := range tt.objects {
				builder.WithObjects(s)
			}
			c := newCanary(meshv1alpha1.ProviderSluice, "app")
			c.Spec.Analysis.MetricsServer = &meshv1alpha1.MetricsServer{Address: canaryAddress}
			if tt.auth != "" {
				c.Spec.Analysis.MetricsServer.AuthSecretRef = &meshv1alpha1.LocalSecretReference{Name: tt.auth}
			}
			if tt.ca != "" {
				c.Spec.Analysis.MetricsServer.CASecretRef = &meshv1alpha1.LocalSecretReference{Name: tt.ca}
			}
			s, err := ResolveServer(context.Background(), builder.Build(), c, nil, flagAddress)
			if err == nil || !strings.Contains(err.Error(), tt.wantMessage) {
				t.Fatalf("error %v, want one containing %q", err, tt.wantMessage)
			}
			for _, value := range []string{"t0k3n", "p4ss"} {
				if strings.Contains(err.Error(), value) {
					t.Errorf("error %q shows a secret value", err)
				}
			}
			if s.Address != canaryAddress || s.Source != meshv1alpha1.MetricsServerFromCanary {
				t.Errorf("server %s, want the Canary's address for status", s)
			}
		})
	}
}

// TestServer_PrintsNoCredentials: a Server in a log line or an error shows where, not how to log in.
func TestServer_PrintsNoCredentials(t *testing.T) {
	s := Server{Address: canaryAddress, Source: meshv1alpha1.MetricsServerFromCanary, bearerToken: "t0k3n",
		username: "u", password: "p4ss", caPEM: "-----BEGIN CERTIFICATE-----"}
	for _, format := range []string{"%v", "%+v", "%s"} {
		if out := fmt.Sprintf(format, s); strings.Contains(out, "t0k3n") || strings.Contains(out, "p4ss") {
			t.Errorf("%s prints %q", format, out)
		}
	}
}

// TestChecker_RefusesACABundleWithoutCertificates: a CA Secret holding something else is a clear error,
// not a silent fallback to the system's CAs.
func TestChecker_RefusesACABundleWithoutCertificates(t *testing.T) {
	_, err := NewChecker(Server{Address: "https://prometheus:9090", caPEM: "not a certificate"})
	if err == nil || !strings.Contains(err.Error(), "holds no PEM certificate") {
		t.Errorf("error %v, want one saying the bundle holds no certificate", err)
	}
}
