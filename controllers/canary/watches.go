package canary

import (
	"context"
	"fmt"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

// targetIndex indexes Canaries by the name of their target workload.
const targetIndex = "spec.targetRef.name"

func (r *Reconciler) setupWatches(mgr ctrl.Manager) error {
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &meshv1alpha1.Canary{}, targetIndex,
		func(o client.Object) []string { return []string{o.(*meshv1alpha1.Canary).Spec.TargetRef.Name} }); err != nil {
		return fmt.Errorf("index Canaries by target: %w", err)
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named("canary").
		WithOptions(controller.Options{MaxConcurrentReconciles: max(r.Options.Workers, 1)}).
		For(&meshv1alpha1.Canary{}, builder.WithPredicates(canaryChanges)).
		// Status writes of the Deployment controller (readiness) matter,
		// so no generation filter here; deploymentChanges drops the rest.
		Watches(&appsv1.Deployment{}, handler.EnqueueRequestsFromMapFunc(r.canariesOfDeployment),
			builder.WithPredicates(predicate.ResourceVersionChangedPredicate{}, deploymentChanges)).
		WatchesRawSource(source.Channel(r.wake, &handler.EnqueueRequestForObject{})).
		Complete(r)
}

// canaryChanges drops the update events of status writes, which are ours: a
// pass runs every phase it can before it writes, so the write's echo would
// find nothing to do, and at scale those echoes were a reconcile per status
// write. Spec (generation), labels, annotations (actions), finalizers and
// deletion still reconcile, as do creations, deletions and restarts.
var canaryChanges = predicate.Or[client.Object](
	predicate.GenerationChangedPredicate{},
	predicate.AnnotationChangedPredicate{},
	predicate.LabelChangedPredicate{},
	predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
		return !slices.Equal(e.ObjectOld.GetFinalizers(), e.ObjectNew.GetFinalizers()) ||
			!e.ObjectOld.GetDeletionTimestamp().Equal(e.ObjectNew.GetDeletionTimestamp())
	}},
)

// canariesOfDeployment maps a target (`app`) or primary (`app-primary`)
// Deployment to the Canaries of its namespace that target `app`.
func (r *Reconciler) canariesOfDeployment(ctx context.Context, o client.Object) []reconcile.Request {
	names := []string{o.GetName()}
	if t, ok := strings.CutSuffix(o.GetName(), "-primary"); ok {
		names = append(names, t)
	}
	var reqs []reconcile.Request
	for _, name := range names {
		var list meshv1alpha1.CanaryList
		if err := r.Client.List(ctx, &list, client.InNamespace(o.GetNamespace()), client.MatchingFields{targetIndex: name}); err != nil {
			ctrl.LoggerFrom(ctx).Error(err, "List Canaries for a Deployment event failed", "namespace", o.GetNamespace())
			continue
		}
		for _, c := range list.Items {
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&c)})
		}
	}
	return reqs
}
