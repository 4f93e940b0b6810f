// Package canary is the Canary reconciler: the state machine that bootstraps
// a primary for the target workload, runs each new revision of the target as
// a canary, analyses it every interval against Prometheus and its webhooks,
// and promotes or rolls it back (see the Lifecycle of the Canary issue).
//
// Time comes from an injected clock and the analysis schedule lives in status
// (lastAnalysisTime), never in memory: a restarted manager resumes a run at
// the same weight and the same place in its schedule. Readiness is reacted to
// by watching the target and primary Deployments, not by waiting for the next
// interval.
//
// The subpackages do the talking: workload (the target and the primary),
// router (Services and route objects), analysis (Prometheus), hooks
// (webhooks). This package decides.
package canary

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	kerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
	"github.com/sluicemesh/sluice/controllers/canary/analysis"
	"github.com/sluicemesh/sluice/controllers/canary/hooks"
	"github.com/sluicemesh/sluice/controllers/canary/router"
	"github.com/sluicemesh/sluice/controllers/canary/workload"
)

// Finalizer keeps a Canary until its target serves again (see finalize).
const Finalizer = "mesh.sluice.dev/canary"

// Options configure the Reconciler; the manager fills them from its flags.
type Options struct {
	// SelectorLabels are the pod label keys rewritten for the primary
	// (--selector-labels). Default: router.DefaultSelectorLabels.
	SelectorLabels []string
	// MaxConcurrentCanaries limits how many Canaries run a revision at once
	// (--max-concurrent-canaries); the others wait in phase Queued. 0: no
	// limit.
	MaxConcurrentCanaries int
	// MetricsServer is the Prometheus used when neither the Canary nor the
	// Mesh names one (--metrics-server).
	MetricsServer string
	// Workers is how many Canaries are reconciled at once (--canary-workers).
	// Default: 1. A Canary is never reconciled by two workers at once.
	Workers int
	// Clock is the time source. Default: the real clock.
	Clock clock.PassiveClock
	// HTTPClient sends webhook calls. Default: http.DefaultClient.
	HTTPClient *http.Client
}

// Reconciler reconciles Canaries.
type Reconciler struct {
	// Client reads cached objects (Canaries, Deployments, Services, routes)
	// and writes.
	Client client.Client
	// APIReader reads what must not be cached cluster-wide: the ConfigMaps
	// and Secrets a Canary references.
	APIReader client.Reader
	Recorder  events.EventRecorder
	Options   Options

	workloads *workload.Workloads
	checkers  analysis.Checkers
	hooks     *hooks.Caller
	slots     slots
	versions  versions
	wake      chan queuedWake
}

// +kubebuilder:rbac:groups=mesh.sluice.dev,resources=canaries,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=mesh.sluice.dev,resources=canaries/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=mesh.sluice.dev,resources=canaries/finalizers,verbs=update
// +kubebuilder:rbac:groups=mesh.sluice.dev,resources=meshes,verbs=get;list;watch
// +kubebuilder:rbac:groups=apps,resources=deployments,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=autoscaling,resources=horizontalpodautoscalers,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=services;configmaps;secrets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=httproutes,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=networking.istio.io,resources=virtualservices;destinationrules,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=split.smi-spec.io,resources=trafficsplits,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile reads the Canary once, runs the phases of its lifecycle in order
// and writes its status once, in a defer.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	started := time.Now()
	// Never a copy older than our own last write (see versions).
	var c meshv1alpha1.Canary
	if err := r.readCanary(ctx, req.NamespacedName, &c); err != nil {
		if client.IgnoreNotFound(err) == nil {
			r.slots.release(req.NamespacedName)
			r.versions.forget(req.NamespacedName)
			forgetMetrics(req.Namespace, req.Name)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	s, err := r.newScope(ctx, &c)
	if err != nil {
		return ctrl.Result{}, err
	}
	base := c.DeepCopy()
	s.base = base
	defer func() {
		retErr = kerrors.NewAggregate([]error{retErr, r.finishStatus(ctx, s, base, retErr == nil)})
		r.wroteCanary(s.canary)
		observeMetrics(s.canary, time.Since(started))
		if retErr == nil && s.phase() != base.Status.Phase && holdsSlot(base.Status.Phase) && !holdsSlot(s.phase()) {
			r.wakeQueued(ctx, c.Namespace)
		}
	}()

	phases := r.livePhases()
	if !c.DeletionTimestamp.IsZero() {
		phases = []phase{r.finalize}
	}
	for _, p := range phases {
		res, err := p(ctx, s)
		result = earliest(result, res)
		if err != nil || s.halt {
			return result, err
		}
	}
	return result, nil
}

// phase is one step of a reconcile pass. A phase sets s.halt to end the
// pass (waiting for something, or nothing left to do).
type phase func(ctx context.Context, s *scope) (ctrl.Result, error)

// livePhases are the phases of a Canary that is not being deleted, in order.
func (r *Reconciler) livePhases() []phase {
	return []phase{
		r.ensureFinalizer,
		r.observeTarget,
		r.handleAction,
		r.honourSuspend,
		r.bootstrap,
		r.honourPause,
		r.detectRevision,
		r.admitQueued,
		r.confirmRollout,
		r.analyse,
		r.confirmPromotion,
		r.awaitPrimary,
		r.finalise,
	}
}

// earliest merges two results: the sooner requeue wins.
func earliest(a, b ctrl.Result) ctrl.Result {
	if b.RequeueAfter > 0 && (a.RequeueAfter == 0 || b.RequeueAfter < a.RequeueAfter) {
		a.RequeueAfter = b.RequeueAfter
	}
	if b.Requeue { //nolint:staticcheck // Requeue is still honoured by controller-runtime
		a.Requeue = true //nolint:staticcheck
	}
	return a
}

// finishStatus writes the status of the pass: conditions from the pure
// function, observedGeneration only when the pass succeeded. The write is
// conditional on the resourceVersion: a pass that read a stale Canary from
// the cache conflicts and runs again on a fresh one, instead of deciding
// twice.
func (r *Reconciler) finishStatus(ctx context.Context, s *scope, base *meshv1alpha1.Canary, ok bool) error {
	c := s.canary
	if c.DeletionTimestamp.IsZero() || controllerutil.ContainsFinalizer(c, Finalizer) {
		setConditions(&c.Status, c.Generation, s.now, conditionsFor(s.conditionInputs()))
	}
	if ok {
		c.Status.ObservedGeneration = c.Generation
	}
	key := types.NamespacedName{Namespace: c.Namespace, Name: c.Name}
	if holdsSlot(c.Status.Phase) {
		r.slots.take(key)
	} else {
		r.slots.release(key)
	}
	if s.removed {
		return nil
	}
	if !equality.Semantic.DeepEqual(base.Status, c.Status) {
		if err := r.writeStatus(ctx, c); err != nil {
			return client.IgnoreNotFound(err) // deleted: nothing left to record
		}
	}
	// Counted once status holds it: a pass whose write conflicts runs its
	// check again on the Canary it did not see.
	if s.checked != "" {
		countCheck(c.Namespace, s.checked)
	}
	return nil
}

// writeStatus writes c's status. The status subresource takes nothing but
// the status from what it is sent, so the write carries the status alone:
// marshalling and diffing the whole object on every pass was the manager's
// biggest cost at scale. The resourceVersion makes it conditional: a Canary
// changed since this pass read it conflicts, and the next pass decides on the
// new one.
func (r *Reconciler) writeStatus(ctx context.Context, c *meshv1alpha1.Canary) error {
	after := &meshv1alpha1.Canary{
		ObjectMeta: metav1.ObjectMeta{Namespace: c.Namespace, Name: c.Name, ResourceVersion: c.ResourceVersion},
		Status:     c.Status,
	}
	if err := r.Client.Status().Update(ctx, after); err != nil {
		return fmt.Errorf("write status of Canary %s/%s: %w", c.Namespace, c.Name, err)
	}
	c.ResourceVersion = after.ResourceVersion
	return nil
}

// SetupWithManager registers the reconciler: Canaries, and the target and
// primary Deployments mapped to their Canary so that readiness is acted on
// as soon as it changes.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.Client == nil || r.Recorder == nil {
		return errors.New("canary reconciler needs a client and an event recorder")
	}
	if r.APIReader == nil {
		r.APIReader = mgr.GetAPIReader()
	}
	if r.Options.Clock == nil {
		r.Options.Clock = clock.RealClock{}
	}
	if len(r.Options.SelectorLabels) == 0 {
		r.Options.SelectorLabels = router.DefaultSelectorLabels
	}
	r.workloads = workload.New(r.Client, workload.Options{SelectorLabels: r.Options.SelectorLabels, Reader: r.APIReader, Cache: r.Client})
	r.hooks = hooks.NewCaller(r.Options.HTTPClient)
	r.wake = make(chan queuedWake, 1024)
	return r.setupWatches(mgr)
}
