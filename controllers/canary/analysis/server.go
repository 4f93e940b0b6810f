package analysis

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

// Keys of the Secrets a metrics server refers to (spec.analysis.metricsServer of a Canary,
// spec.metrics.server of the Mesh).
const (
	// SecretKeyToken holds a bearer token, sent as `Authorization: Bearer <token>`.
	SecretKeyToken = "token"
	// SecretKeyUsername and SecretKeyPassword hold basic auth credentials; both must be set.
	SecretKeyUsername = "username"
	SecretKeyPassword = "password"
	// SecretKeyCA holds the PEM CA bundle that signs the server's certificate.
	SecretKeyCA = "ca.crt"
)

// ErrNoMetricsServer says that neither the Canary, nor the Mesh default, nor the manager flag names a
// Prometheus server. A Canary with metrics cannot be analysed then: every check fails (see Unavailable).
var ErrNoMetricsServer = errors.New("no metrics server: set spec.analysis.metricsServer, the Mesh default's " +
	"spec.metrics.server or the manager's --metrics-server flag")

// Server is the Prometheus a Canary's metrics are read from, with what it takes to reach it.
//
// Credentials are unexported and String prints only the address and source, so logging a Server never
// leaks a secret. Server is comparable: two equal Servers can share one Checker.
type Server struct {
	// Address is the base URL, e.g. http://prometheus.monitoring:9090.
	Address string
	// Source says where Address came from, for status.prometheus.
	Source meshv1alpha1.MetricsServerSource
	// InsecureSkipVerify skips verification of the server's certificate.
	InsecureSkipVerify bool

	bearerToken        string
	username, password string
	caPEM              string
}

// String describes the server without its credentials.
func (s Server) String() string { return fmt.Sprintf("%s (from %s)", s.Address, s.Source) }

// Status is the server as status.prometheus shows it.
func (s Server) Status() *meshv1alpha1.PrometheusStatus {
	return &meshv1alpha1.PrometheusStatus{Address: s.Address, Source: s.Source}
}

// ResolveServer chooses the Prometheus of a Canary in the order ARCHITECTURE.md gives: the Canary's
// spec.analysis.metricsServer, else the Mesh default's spec.metrics.server (mesh may be nil), else
// flagAddress (the manager's --metrics-server flag, which has no credentials). It reads the referenced
// Secrets with reader: a Canary's from its own namespace, the Mesh's from the namespace its reference names.
// With none of the three it returns ErrNoMetricsServer. When a Secret cannot be used, the error says which and
// why, and the returned Server still carries the address and source, so status can show them.
func ResolveServer(ctx context.Context, reader client.Reader, c *meshv1alpha1.Canary, mesh *meshv1alpha1.Mesh,
	flagAddress string) (Server, error) {
	if ms := c.Spec.Analysis.MetricsServer; ms != nil {
		s := Server{Address: ms.Address, Source: meshv1alpha1.MetricsServerFromCanary, InsecureSkipVerify: ms.InsecureSkipVerify}
		var auth, ca *types.NamespacedName
		if ms.AuthSecretRef != nil {
			auth = &types.NamespacedName{Namespace: c.Namespace, Name: ms.AuthSecretRef.Name}
		}
		if ms.CASecretRef != nil {
			ca = &types.NamespacedName{Namespace: c.Namespace, Name: ms.CASecretRef.Name}
		}
		return s, s.readSecrets(ctx, reader, "spec.analysis.metricsServer", auth, ca)
	}
	if mesh != nil && mesh.Spec.Metrics.Server != nil {
		ms := mesh.Spec.Metrics.Server
		s := Server{Address: ms.Address, Source: meshv1alpha1.MetricsServerFromMesh, InsecureSkipVerify: ms.InsecureSkipVerify}
		var auth, ca *types.NamespacedName
		if ms.AuthSecretRef != nil {
			auth = &types.NamespacedName{Namespace: ms.AuthSecretRef.Namespace, Name: ms.AuthSecretRef.Name}
		}
		if ms.CASecretRef != nil {
			ca = &types.NamespacedName{Namespace: ms.CASecretRef.Namespace, Name: ms.CASecretRef.Name}
		}
		return s, s.readSecrets(ctx, reader, "Mesh "+mesh.Name+" spec.metrics.server", auth, ca)
	}
	if flagAddress != "" {
		return Server{Address: flagAddress, Source: meshv1alpha1.MetricsServerFromManagerFlag}, nil
	}
	return Server{}, ErrNoMetricsServer
}

// readSecrets fills the credentials and CA bundle of s from the Secrets auth and ca (either may be nil). The
// returned errors name the field the Secret was referenced from, so a user knows what to fix.
func (s *Server) readSecrets(ctx context.Context, reader client.Reader, field string, auth, ca *types.NamespacedName) error {
	if auth != nil {
		data, err := readSecret(ctx, reader, *auth)
		if err != nil {
			return fmt.Errorf("%s.authSecretRef: %w", field, err)
		}
		token, hasToken := data[SecretKeyToken]
		user, hasUser := data[SecretKeyUsername]
		password, hasPassword := data[SecretKeyPassword]
		switch {
		case hasToken && (hasUser || hasPassword):
			return fmt.Errorf("%s.authSecretRef: Secret %s has both %q and %q/%q; keep one kind of credentials",
				field, auth, SecretKeyToken, SecretKeyUsername, SecretKeyPassword)
		case hasToken:
			s.bearerToken = string(token)
		case hasUser && hasPassword:
			s.username, s.password = string(user), string(password)
		default:
			return fmt.Errorf("%s.authSecretRef: Secret %s needs the key %q (bearer token) or the keys %q and %q (basic auth)",
				field, auth, SecretKeyToken, SecretKeyUsername, SecretKeyPassword)
		}
	}
	if ca != nil {
		data, err := readSecret(ctx, reader, *ca)
		if err != nil {
			return fmt.Errorf("%s.caSecretRef: %w", field, err)
		}
		bundle, ok := data[SecretKeyCA]
		if !ok || len(bundle) == 0 {
			return fmt.Errorf("%s.caSecretRef: Secret %s has no key %q", field, ca, SecretKeyCA)
		}
		s.caPEM = string(bundle)
	}
	return nil
}

func readSecret(ctx context.Context, reader client.Reader, key types.NamespacedName) (map[string][]byte, error) {
	var secret corev1.Secret
	if err := reader.Get(ctx, key, &secret); err != nil {
		return nil, fmt.Errorf("read Secret %s: %w", key, err)
	}
	return secret.Data, nil
}
