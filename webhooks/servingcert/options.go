// Package servingcert gives the manager's admission webhook server a TLS certificate of its own, so that a plain
// kustomize install needs no cert-manager.
//
// The leader keeps a self-signed CA and a serving certificate in a Secret, renews them before they expire or when
// the wanted names change, and writes the CA into the caBundle of our webhook configurations. Every replica,
// leader or not, watches that Secret and serves the current certificate straight from memory, so no writable
// volume is needed and a renewal takes effect on the next TLS handshake.
//
// Where cert-manager or OLM mount the certificate files instead, set Options.External: nothing is generated and
// the webhook server reads its CertDir as usual.
package servingcert

import (
	"fmt"
	"net"
	"time"
)

// Defaults of Options.
const (
	DefaultNamespace             = "sluice-system"
	DefaultSecretName            = "sluice-webhook-server-cert"
	DefaultServiceName           = "sluice-webhook-service"
	DefaultMutatingWebhookName   = "sluice-mutating-webhook-configuration"
	DefaultValidatingWebhookName = "sluice-validating-webhook-configuration"
	DefaultCAValidity            = 10 * 365 * 24 * time.Hour
	DefaultServingValidity       = 365 * 24 * time.Hour
)

// renewAtFraction is how far into its validity a certificate is renewed: late enough that renewals are rare, early
// enough that a manager that was down for a while still renews long before anything expires.
const renewAtFraction = 0.8

// Options configure Setup. The zero value is a valid in-cluster configuration.
type Options struct {
	// External means the certificate files are provided by someone else (cert-manager, OLM) and mounted into the
	// webhook server's CertDir. Setup then generates, patches and hooks nothing.
	External bool

	// Namespace and SecretName locate the Secret holding the CA and the serving certificate.
	// Defaults: sluice-system, sluice-webhook-server-cert.
	Namespace  string
	SecretName string

	// ServiceName is the Service in front of the webhook server; the certificate is valid for
	// <service>.<namespace>.svc and <service>.<namespace>.svc.cluster.local. Default sluice-webhook-service.
	// Set NoService for a local run whose webhooks are registered by URL.
	ServiceName string
	NoService   bool

	// DNSNames and IPAddresses are extra names the certificate is valid for, e.g. 127.0.0.1 for a local run where
	// the API server dials https://127.0.0.1:<port>.
	DNSNames    []string
	IPAddresses []net.IP

	// MutatingWebhookName and ValidatingWebhookName are the webhook configurations whose caBundle is kept equal to
	// the CA. Defaults: sluice-mutating-webhook-configuration, sluice-validating-webhook-configuration.
	// A configuration that does not exist (yet) is skipped until it is created.
	MutatingWebhookName   string
	ValidatingWebhookName string

	// CAValidity and ServingValidity are the lifetimes of new certificates (defaults 10 years and 1 year). Each is
	// renewed after 80% of its life, or at once when the wanted names change.
	CAValidity      time.Duration
	ServingValidity time.Duration
}

func (o Options) withDefaults() Options {
	if o.Namespace == "" {
		o.Namespace = DefaultNamespace
	}
	if o.SecretName == "" {
		o.SecretName = DefaultSecretName
	}
	if o.ServiceName == "" && !o.NoService {
		o.ServiceName = DefaultServiceName
	}
	if o.MutatingWebhookName == "" {
		o.MutatingWebhookName = DefaultMutatingWebhookName
	}
	if o.ValidatingWebhookName == "" {
		o.ValidatingWebhookName = DefaultValidatingWebhookName
	}
	if o.CAValidity == 0 {
		o.CAValidity = DefaultCAValidity
	}
	if o.ServingValidity == 0 {
		o.ServingValidity = DefaultServingValidity
	}
	return o
}

// subject is the set of names the serving certificate must be valid for.
func (o Options) subject() subject {
	s := subject{IPAddresses: o.IPAddresses}
	if o.ServiceName != "" {
		svc := fmt.Sprintf("%s.%s.svc", o.ServiceName, o.Namespace)
		s.DNSNames = append(s.DNSNames, svc, svc+".cluster.local")
	}
	s.DNSNames = append(s.DNSNames, o.DNSNames...)
	return s
}

func (o Options) validate() error {
	if len(o.subject().DNSNames) == 0 && len(o.IPAddresses) == 0 {
		return fmt.Errorf("serving certificate has no names: set ServiceName, DNSNames or IPAddresses")
	}
	if o.ServingValidity > o.CAValidity {
		return fmt.Errorf("serving certificate validity %s exceeds the CA validity %s", o.ServingValidity, o.CAValidity)
	}
	return nil
}
