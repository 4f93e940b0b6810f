package canary

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
	"github.com/sluicemesh/sluice/controllers/canary/router"
	"github.com/sluicemesh/sluice/controllers/canary/workload"
)

// scope is everything one reconcile pass reads once and the phases share.
// Phases change canary.Status in place; Reconcile writes it once at the end.
type scope struct {
	// canary is the object read at the start of the pass.
	canary *meshv1alpha1.Canary
	// base is what the status patch is computed from; its metadata follows
	// our own metadata writes (see patchMetadata) so the lock holds.
	base *meshv1alpha1.Canary
	// mesh is the Mesh `default` (templates, metrics server, event webhook),
	// nil when there is none.
	mesh *meshv1alpha1.Mesh
	// router moves traffic for the Canary's provider.
	router router.Router
	// now is the injected clock's time at the start of the pass: every
	// decision of the pass uses this one instant.
	now time.Time
	// revision is what the target runs now (observeTarget).
	revision workload.Revision

	// approved: a `promote` action opens the gates of this pass.
	approved bool
	// paused: the run is held by a `pause` action until `resume`.
	paused bool

	// stalled and stalledMessage: progress needs a change from the user.
	stalled, stalledMessage string
	// failReason and failMessage: why this pass rolled the run back.
	failReason, failMessage string
	// checked is the outcome of the analysis check this pass ran, if any;
	// counted in sluice_canary_checks_total once the status holds it.
	checked meshv1alpha1.MetricResult
	// detail says what the current phase waits for (Reconciling message).
	detail string
	// overdue says what the phase has waited for past the progress deadline
	// without failing the run (the primary: nothing safer than waiting).
	overdue string

	// startPending: a new revision waits to start a run (queue, then
	// confirm-rollout gates, then startRun) in this pass.
	startPending bool

	// halt ends the pass after the current phase.
	halt bool
	// removed: the finalizer is gone; the object may no longer exist.
	removed bool
}

func (r *Reconciler) newScope(ctx context.Context, c *meshv1alpha1.Canary) (*scope, error) {
	s := &scope{canary: c, now: r.Options.Clock.Now(), paused: c.Annotations[PausedAnnotation] == "true"}
	var mesh meshv1alpha1.Mesh
	switch err := r.Client.Get(ctx, client.ObjectKey{Name: meshv1alpha1.MeshName}, &mesh); {
	case err == nil:
		s.mesh = &mesh
	case !apierrors.IsNotFound(err) && !meta.IsNoMatchError(err):
		return nil, fmt.Errorf("get Mesh %s: %w", meshv1alpha1.MeshName, err)
	}
	rt, err := router.New(c.Spec.Provider, r.Client, router.Options{SelectorLabels: r.Options.SelectorLabels, LiveReader: r.APIReader})
	if err != nil {
		return nil, err
	}
	s.router = rt
	return s, nil
}

func (s *scope) phase() meshv1alpha1.CanaryPhase { return s.canary.Status.Phase }

// setPhase moves the Canary to p and stamps the transition time, which also
// starts the clock of gate timeouts and progress deadlines.
func (s *scope) setPhase(p meshv1alpha1.CanaryPhase) {
	if s.canary.Status.Phase == p {
		return
	}
	s.canary.Status.Phase = p
	s.canary.Status.LastTransitionTime = &metav1.Time{Time: s.now}
}

// since is when the current phase began (the zero time when never).
func (s *scope) since() time.Time {
	if t := s.canary.Status.LastTransitionTime; t != nil {
		return t.Time
	}
	return time.Time{}
}

func (s *scope) conditionInputs() conditionInputs {
	in := conditionInputs{
		phase: s.phase(), stalled: s.stalled, stalledMessage: s.stalledMessage,
		suspended: s.canary.Spec.Suspend, paused: s.paused,
		failReason: s.failReason, failMessage: s.failMessage, detail: s.detail, overdue: s.overdue,
	}
	if in.phase == meshv1alpha1.CanaryPhaseFailed && in.failReason == "" {
		// Keep why the last run failed on later passes.
		if p := meta.FindStatusCondition(s.canary.Status.Conditions, meshv1alpha1.ConditionPromoted); p != nil && p.Status == metav1.ConditionFalse {
			in.failReason, in.failMessage = p.Reason, p.Message
		}
	}
	return in
}

// nowTime is t as an API time, for status fields.
func nowTime(t time.Time) *metav1.Time { return &metav1.Time{Time: t} }

// patchMetadata writes a change of the Canary's metadata (finalizer, action
// annotations), optimistically locked so a stale read cannot act twice.
func (s *scope) patchMetadata(ctx context.Context, c client.Client, before *meshv1alpha1.Canary) error {
	if err := c.Patch(ctx, s.canary, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})); err != nil {
		return err
	}
	s.base.ObjectMeta = *s.canary.ObjectMeta.DeepCopy()
	return nil
}
