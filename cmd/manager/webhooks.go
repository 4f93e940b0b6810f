package main

import (
	"fmt"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"

	"github.com/sluicemesh/sluice/webhooks"
	"github.com/sluicemesh/sluice/webhooks/servingcert"
)

// setupWebhooks registers the admission webhooks and, in self-managed mode,
// the rotation that keeps their serving certificate and the configurations'
// caBundle current. The returned check reports ready once the webhook server
// listens; servingcert adds its own check for the certificate.
func setupWebhooks(mgr ctrl.Manager, opts options) (healthz.Checker, error) {
	if _, err := servingcert.Setup(mgr, servingcert.Options{
		External:              opts.webhookCertMode == certModeExternal,
		Namespace:             opts.namespace,
		SecretName:            opts.webhookCertSecret,
		ServiceName:           opts.webhookServiceName,
		NoService:             opts.webhookServiceName == "",
		IPAddresses:           opts.webhookIPSANs,
		MutatingWebhookName:   opts.mutatingWebhook,
		ValidatingWebhookName: opts.validatingWebhook,
	}); err != nil {
		return nil, fmt.Errorf("set up the webhook serving certificate: %w", err)
	}
	if err := webhooks.SetupWithManager(mgr); err != nil {
		return nil, fmt.Errorf("set up the admission webhooks: %w", err)
	}
	return mgr.GetWebhookServer().StartedChecker(), nil
}
