package workload

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

// Promote makes the primary run what the target runs: the configs' current
// content goes to the `-primary` copies first (so new primary pods find
// them), then the target's pod template (with the primary's selector label
// and config references) and its Deployment settings (strategy,
// minReadySeconds, revisionHistoryLimit, progressDeadlineSeconds) to the
// primary. Replicas stay the primary's. The primary then rolls out; watch
// PrimaryStatus for it to be ready.
func (w *Workloads) Promote(ctx context.Context, c *meshv1alpha1.Canary) error {
	target, err := w.target(ctx, c)
	if err != nil {
		return err
	}
	sel, err := w.selectorOf(c, target)
	if err != nil {
		return err
	}
	existing, err := w.readPrimary(ctx, c)
	if err != nil {
		return err
	}
	configs, err := w.trackedConfigs(ctx, c.Namespace, &target.Spec.Template.Spec)
	if err != nil {
		return err
	}
	if err := w.copyConfigs(ctx, c, configs); err != nil {
		return err
	}
	template := primaryTemplate(target.Spec.Template, sel, configs)
	applied := &appsv1.Deployment{}
	if err := apply(ctx, w.client, buildPrimary(c, target, sel, template, &target.Spec, existing), applied); err != nil {
		return err
	}
	w.wroteDeployment(client.ObjectKeyFromObject(applied), applied.Generation)
	return nil
}
