package canary

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/sluicemesh/sluice/controllers/canary/hooks"
)

// event records one transition of a Canary: a Kubernetes Event (Warning for
// failures) and a notification to its event webhooks and the Mesh's. It is
// the only place Events are made, so every transition reaches both.
func (r *Reconciler) event(ctx context.Context, s *scope, eventType, reason, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	r.Recorder.Eventf(s.canary, nil, eventType, reason, string(s.phase()), "%s", msg)
	if eventType == corev1.EventTypeWarning {
		ctrl.LoggerFrom(ctx).Info("Canary warning", "reason", reason, "message", msg)
	}
	ev := hooks.Event{Type: eventType, Message: fmt.Sprintf("%s.%s: %s", s.canary.Name, s.canary.Namespace, msg), Time: s.now}
	for _, h := range hooks.EventHooks(s.canary, s.mesh) {
		if err := r.hooks.Notify(ctx, h, hooks.NewPayload(s.canary), ev); err != nil {
			// A notification never changes the rollout; say it in the log only.
			ctrl.LoggerFrom(ctx).Info("Event webhook failed", "webhook", h.Name, "error", err.Error())
		}
	}
}

func (r *Reconciler) normal(ctx context.Context, s *scope, reason, format string, args ...any) {
	r.event(ctx, s, corev1.EventTypeNormal, reason, format, args...)
}

func (r *Reconciler) warning(ctx context.Context, s *scope, reason, format string, args ...any) {
	r.event(ctx, s, corev1.EventTypeWarning, reason, format, args...)
}
