// Package policy reconciles Policy objects: it decides which Policy applies to
// a Service (one per Service, the oldest wins) and reports it in status. The
// control plane compiles accepted Policies into the proxies' configuration.
package policy

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

// targetIndex indexes Policies by the name of the Service they target.
const targetIndex = "spec.targetRef.name"

// Reconciler keeps each Policy's status in line with the Services and the
// other Policies of its namespace.
type Reconciler struct {
	Client   client.Client
	Recorder events.EventRecorder
}

// +kubebuilder:rbac:groups=mesh.sluice.dev,resources=policies,verbs=get;list;watch
// +kubebuilder:rbac:groups=mesh.sluice.dev,resources=policies/status,verbs=get;update;patch
// +kubebuilder:rbac:groups="",resources=services,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile reads the Policy, its Service and its rivals once, and writes the
// status once.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var p meshv1alpha1.Policy
	if err := r.Client.Get(ctx, req.NamespacedName, &p); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !p.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}

	obs, err := r.observe(ctx, &p)
	if err != nil {
		return ctrl.Result{}, err
	}

	base := p.DeepCopy()
	changed := applyConditions(&p.Status, conditionsFor(&p, obs))
	p.Status.ObservedGeneration = p.Generation
	if err := r.Client.Status().Patch(ctx, &p, client.MergeFrom(base)); err != nil {
		return ctrl.Result{}, fmt.Errorf("patch status of Policy %s/%s: %w", p.Namespace, p.Name, err)
	}
	if changed {
		r.event(&p, *meta.FindStatusCondition(p.Status.Conditions, meshv1alpha1.ConditionAccepted))
	}
	return ctrl.Result{}, nil
}

func (r *Reconciler) observe(ctx context.Context, p *meshv1alpha1.Policy) (observed, error) {
	var obs observed
	var svc corev1.Service
	err := r.Client.Get(ctx, types.NamespacedName{Namespace: p.Namespace, Name: p.Spec.TargetRef.Name}, &svc)
	switch {
	case err == nil:
		obs.serviceExists = true
	case !apierrors.IsNotFound(err):
		return obs, fmt.Errorf("get Service %s/%s: %w", p.Namespace, p.Spec.TargetRef.Name, err)
	}

	var list meshv1alpha1.PolicyList
	if err := r.Client.List(ctx, &list, client.InNamespace(p.Namespace),
		client.MatchingFields{targetIndex: p.Spec.TargetRef.Name}); err != nil {
		return obs, fmt.Errorf("list Policies targeting %s/%s: %w", p.Namespace, p.Spec.TargetRef.Name, err)
	}
	for _, other := range list.Items {
		// A Policy being deleted no longer holds its Service.
		if other.Name != p.Name && other.DeletionTimestamp.IsZero() {
			obs.rivals = append(obs.rivals, other)
		}
	}
	return obs, nil
}

// event records a transition of the Accepted condition, as a Warning when the
// Policy is not applied.
func (r *Reconciler) event(p *meshv1alpha1.Policy, c metav1.Condition) {
	kind := corev1.EventTypeNormal
	if c.Status != metav1.ConditionTrue {
		kind = corev1.EventTypeWarning
	}
	r.Recorder.Eventf(p, nil, kind, c.Reason, "Reconcile", "%s", c.Message)
}

// SetupWithManager watches Policies and Services. Any change to a Policy
// re-evaluates every Policy targeting the same Service, since deleting or
// retargeting the winner hands the Service to the next oldest.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &meshv1alpha1.Policy{}, targetIndex,
		func(o client.Object) []string { return []string{o.(*meshv1alpha1.Policy).Spec.TargetRef.Name} }); err != nil {
		return fmt.Errorf("index Policies by target: %w", err)
	}
	if r.Client == nil || r.Recorder == nil {
		return errors.New("policy reconciler needs a client and an event recorder")
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named("policy").
		Watches(&meshv1alpha1.Policy{}, handler.EnqueueRequestsFromMapFunc(r.policiesTargeting(func(o client.Object) string {
			return o.(*meshv1alpha1.Policy).Spec.TargetRef.Name
		}))).
		Watches(&corev1.Service{}, handler.EnqueueRequestsFromMapFunc(r.policiesTargeting(func(o client.Object) string {
			return o.GetName()
		}))).
		Complete(r)
}

// policiesTargeting maps an object to the Policies targeting the Service that
// serviceName names, plus the object itself when it is a Policy (a deleted or
// retargeted Policy is then looked at too).
func (r *Reconciler) policiesTargeting(serviceName func(client.Object) string) handler.MapFunc {
	return func(ctx context.Context, o client.Object) []reconcile.Request {
		var list meshv1alpha1.PolicyList
		if err := r.Client.List(ctx, &list, client.InNamespace(o.GetNamespace()),
			client.MatchingFields{targetIndex: serviceName(o)}); err != nil {
			ctrl.LoggerFrom(ctx).Error(err, "List Policies for a watch event failed", "namespace", o.GetNamespace())
			return nil
		}
		reqs := make([]reconcile.Request, 0, len(list.Items)+1)
		if _, isPolicy := o.(*meshv1alpha1.Policy); isPolicy {
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(o)})
		}
		for _, p := range list.Items {
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&p)})
		}
		return reqs
	}
}
